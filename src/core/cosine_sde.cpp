#include "sde/core/cosine_sde.hpp"

#include <algorithm>
#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {
namespace {

constexpr double kPi = 3.14159265358979323846;

// sin(theta - theta_0) is 0 at t = 0 exactly; rounding must not make the product negative.
double non_negative(double v) { return std::max(v, 0.0); }
torch::Tensor non_negative(const torch::Tensor& v) { return v.clamp_min(0.0); }

// The formulas once, for float64 scalars and for tensors (cos, sin, tan, atan2, sqrt by ADL).
struct Angles : detail::CosineAngles {
  explicit Angles(const detail::CosineAngles& a) : detail::CosineAngles(a) {}
  explicit Angles(const CosineSchedule& k) : detail::CosineAngles{k.s, kPi / (2.0 * (1.0 + k.s)), 0, 0, 0} {
    theta0 = theta(0.0);
    cos0 = std::cos(theta0);
    sin0 = std::sin(theta0);
  }
  template <class T>
  T theta(const T& t) const {
    return (t + s) * c;
  }
  template <class T>
  T alpha(const T& t) const {
    using std::cos;
    return cos(theta(t)) * (1.0 / cos0);
  }
  template <class T>
  T sigma(const T& t) const {
    using std::sin;
    using std::sqrt;
    const T th = theta(t);
    return sqrt(non_negative(sin(th - theta0) * sin(th + theta0))) * (1.0 / cos0);
  }
  template <class T>
  T drift_coef(const T& t) const {
    using std::tan;
    return tan(theta(t)) * -c;
  }
  template <class T>
  T diffusion(const T& t) const {
    using std::sqrt;
    using std::tan;
    return sqrt(tan(theta(t)) * (2.0 * c));
  }
  // alpha^2 = 1 / (1 + e^{-2 lambda}), sigma^2 = 1 / (1 + e^{2 lambda}).
  template <class T>
  T time_at_log_snr(const T& lambda) const {
    using std::atan2;
    using std::exp;
    using std::sqrt;
    const T alpha = sqrt(1.0 / (exp(lambda * -2.0) + 1.0));
    const T sigma2 = 1.0 / (exp(lambda * 2.0) + 1.0);
    return atan2(sqrt(sigma2 * (cos0 * cos0) + sin0 * sin0), alpha * cos0) * (1.0 / c) - s;
  }
};

double clipped_end(const CosineSchedule& k, double t_max) {
  const Angles a(k);
  // beta(t) = 2 c tan(theta(t)) = beta_max.
  return std::min(t_max, std::atan(k.beta_max / (2.0 * a.c)) / a.c - a.s);
}

}  // namespace

void CosineSchedule::validate() const {
  check_finite_parameter("cosine s", s);
  check_finite_parameter("cosine beta_max", beta_max);
  SDE_CHECK(s > 0 && s < 1, "cosine schedule: s = ", s, " must lie in (0, 1) (Nichol & Dhariwal use 0.008)");
  const Angles a(*this);
  SDE_CHECK(beta_max > 2.0 * a.c * std::tan(a.theta0), "cosine schedule: beta_max = ", beta_max,
            " must exceed beta(0) = ", 2.0 * a.c * std::tan(a.theta0), " (the usual value is 999)");
}

CosineVpSde::CosineVpSde(CosineSchedule schedule, double t_max)
    : Sde((schedule.validate(), clipped_end(schedule, t_max))), schedule_(schedule), angles_(Angles(schedule)) {}

double CosineVpSde::alpha(double t) const { check_time(t); return Angles(angles_).alpha(t); }
double CosineVpSde::sigma(double t) const { check_time(t); return Angles(angles_).sigma(t); }
double CosineVpSde::drift_coef(double t) const { check_time(t); return Angles(angles_).drift_coef(t); }
double CosineVpSde::diffusion(double t) const { check_time(t); return Angles(angles_).diffusion(t); }
torch::Tensor CosineVpSde::alpha(const torch::Tensor& t) const { check_time(t); return Angles(angles_).alpha(t); }
torch::Tensor CosineVpSde::sigma(const torch::Tensor& t) const { check_time(t); return Angles(angles_).sigma(t); }
torch::Tensor CosineVpSde::drift_coef(const torch::Tensor& t) const { check_time(t); return Angles(angles_).drift_coef(t); }
torch::Tensor CosineVpSde::diffusion(const torch::Tensor& t) const { check_time(t); return Angles(angles_).diffusion(t); }

double CosineVpSde::time_at_log_snr(double lambda) const {
  check_log_snr(lambda, lambda);
  return std::clamp(Angles(angles_).time_at_log_snr(lambda), 0.0, t_max());
}

torch::Tensor CosineVpSde::time_at_log_snr(const torch::Tensor& lambda) const {
  check_log_snr(lambda);
  return Angles(angles_).time_at_log_snr(lambda).clamp_(0.0, t_max());
}

}  // namespace sde
