#include "sde/core/vp_sde.hpp"

#include <algorithm>
#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {
namespace {

// The formulas once, for float64 scalars and for tensors (exp, expm1, sqrt found by ADL).
template <class T>
T vp_alpha(const LinearBeta& s, const T& t) {
  using std::exp;
  return exp(s.integral(t) * -0.5);
}
template <class T>
T one_minus_alpha_squared(const LinearBeta& s, const T& t) {
  using std::expm1;
  return -expm1(s.integral(t) * -1.0);
}
template <class T>
T vp_sigma(const LinearBeta& s, const T& t) {
  using std::sqrt;
  return sqrt(one_minus_alpha_squared(s, t));
}
template <class T>
T vp_drift_coef(const LinearBeta& s, const T& t) {
  return s.beta(t) * -0.5;
}
template <class T>
T vp_diffusion(const LinearBeta& s, const T& t) {
  using std::sqrt;
  return sqrt(s.beta(t));
}
template <class T>
T subvp_diffusion(const LinearBeta& s, const T& t) {
  using std::expm1;
  using std::sqrt;
  return sqrt(s.beta(t) * -expm1(s.integral(t) * -2.0));
}

// The inverses of the log-SNR: with alpha = exp(-B/2), VP's e^(2 lambda) = alpha^2 / (1 - alpha^2)
// gives B = log(1 + e^(-2 lambda)); sub-VP's e^lambda = alpha / (1 - alpha^2) is a quadratic in
// alpha whose root gives B = 2 asinh(e^(-lambda) / 2). Both are free of cancellation.
template <class T>
T vp_integral_at_log_snr(const T& lambda) {
  using std::exp;
  using std::log1p;
  return log1p(exp(lambda * -2.0));
}
template <class T>
T subvp_integral_at_log_snr(const T& lambda) {
  using std::asinh;
  using std::exp;
  return asinh(exp(lambda * -1.0) * 0.5) * 2.0;
}

}  // namespace

void LinearBeta::validate() const {
  check_ordered_positive("beta", beta_min, beta_max, "the usual values are 0.1 and 20");
}

LinearBetaSde::LinearBetaSde(LinearBeta schedule, double t_max) : Sde(t_max), schedule_(schedule) {
  schedule_.validate();
}

double LinearBetaSde::alpha(double t) const { check_time(t); return vp_alpha(schedule_, t); }
double LinearBetaSde::drift_coef(double t) const { check_time(t); return vp_drift_coef(schedule_, t); }
torch::Tensor LinearBetaSde::alpha(const torch::Tensor& t) const { check_time(t); return vp_alpha(schedule_, t); }
torch::Tensor LinearBetaSde::drift_coef(const torch::Tensor& t) const { check_time(t); return vp_drift_coef(schedule_, t); }

double LinearBetaSde::time_at_log_snr(double lambda) const {
  check_log_snr(lambda, lambda);
  return std::min(schedule_.inverse_integral(integral_at_log_snr(lambda)), t_max());
}
torch::Tensor LinearBetaSde::time_at_log_snr(const torch::Tensor& lambda) const {
  check_log_snr(lambda);
  return schedule_.inverse_integral(integral_at_log_snr(lambda)).clamp_max_(t_max());
}

double VpSde::sigma(double t) const { check_time(t); return vp_sigma(schedule(), t); }
double VpSde::diffusion(double t) const { check_time(t); return vp_diffusion(schedule(), t); }
torch::Tensor VpSde::sigma(const torch::Tensor& t) const { check_time(t); return vp_sigma(schedule(), t); }
torch::Tensor VpSde::diffusion(const torch::Tensor& t) const { check_time(t); return vp_diffusion(schedule(), t); }

double VpSde::integral_at_log_snr(double lambda) const { return vp_integral_at_log_snr(lambda); }
torch::Tensor VpSde::integral_at_log_snr(const torch::Tensor& lambda) const { return vp_integral_at_log_snr(lambda); }

double SubVpSde::sigma(double t) const { check_time(t); return one_minus_alpha_squared(schedule(), t); }
double SubVpSde::diffusion(double t) const { check_time(t); return subvp_diffusion(schedule(), t); }
torch::Tensor SubVpSde::sigma(const torch::Tensor& t) const { check_time(t); return one_minus_alpha_squared(schedule(), t); }
torch::Tensor SubVpSde::diffusion(const torch::Tensor& t) const { check_time(t); return subvp_diffusion(schedule(), t); }

double SubVpSde::integral_at_log_snr(double lambda) const { return subvp_integral_at_log_snr(lambda); }
torch::Tensor SubVpSde::integral_at_log_snr(const torch::Tensor& lambda) const { return subvp_integral_at_log_snr(lambda); }

}  // namespace sde
