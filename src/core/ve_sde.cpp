#include "sde/core/ve_sde.hpp"

#include <algorithm>
#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {
namespace {

template <class T>
T ve_sigma(const VeSchedule& p, double log_ratio, const T& t) {
  using std::exp;
  return exp(t * log_ratio) * p.sigma_min;
}

}  // namespace

void VeSchedule::validate() const {
  check_ordered_positive("sigma", sigma_min, sigma_max,
                         "sigma_max should be about the largest distance between data points, "
                         "e.g. 0.01 and 50");
}

VeSde::VeSde(VeSchedule schedule, double t_max) : Sde(t_max), schedule_(schedule) {
  schedule_.validate();
  log_ratio_ = std::log(schedule_.sigma_max / schedule_.sigma_min);
}

double VeSde::alpha(double t) const { check_time(t); return 1.0; }
double VeSde::sigma(double t) const { check_time(t); return ve_sigma(schedule_, log_ratio_, t); }
double VeSde::drift_coef(double t) const { check_time(t); return 0.0; }
double VeSde::diffusion(double t) const {
  return sigma(t) * std::sqrt(2.0 * log_ratio_);
}
double VeSde::prior_std() const { return sigma(t_max()); }

torch::Tensor VeSde::alpha(const torch::Tensor& t) const { check_time(t); return torch::ones_like(t); }
torch::Tensor VeSde::sigma(const torch::Tensor& t) const { check_time(t); return ve_sigma(schedule_, log_ratio_, t); }
torch::Tensor VeSde::drift_coef(const torch::Tensor& t) const { check_time(t); return torch::zeros_like(t); }
torch::Tensor VeSde::diffusion(const torch::Tensor& t) const {
  return sigma(t) * std::sqrt(2.0 * log_ratio_);
}

double VeSde::time_at_log_snr(double lambda) const {
  check_log_snr(lambda, lambda);
  return std::clamp((-lambda - std::log(schedule_.sigma_min)) / log_ratio_, 0.0, t_max());
}
torch::Tensor VeSde::time_at_log_snr(const torch::Tensor& lambda) const {
  check_log_snr(lambda);
  return ((lambda + std::log(schedule_.sigma_min)) / -log_ratio_).clamp_(0.0, t_max());
}

}  // namespace sde
