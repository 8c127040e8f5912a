#include "sde/core/edm_sde.hpp"

#include <algorithm>
#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {

void EdmSchedule::validate() const {
  check_finite_parameter("edm sigma_max", sigma_max);
  SDE_CHECK(sigma_max > 0, "edm: sigma_max = ", sigma_max, " must be > 0 (EDM uses 80)");
}

EdmSde::EdmSde(EdmSchedule schedule) : Sde((schedule.validate(), schedule.sigma_max)), schedule_(schedule) {}

double EdmSde::alpha(double t) const { check_time(t); return 1.0; }
double EdmSde::sigma(double t) const { check_time(t); return t; }
double EdmSde::drift_coef(double t) const { check_time(t); return 0.0; }
double EdmSde::diffusion(double t) const { check_time(t); return std::sqrt(2.0 * t); }
torch::Tensor EdmSde::alpha(const torch::Tensor& t) const { check_time(t); return torch::ones_like(t); }
torch::Tensor EdmSde::sigma(const torch::Tensor& t) const { check_time(t); return t.clone(); }
torch::Tensor EdmSde::drift_coef(const torch::Tensor& t) const { check_time(t); return torch::zeros_like(t); }
torch::Tensor EdmSde::diffusion(const torch::Tensor& t) const { check_time(t); return (t * 2.0).sqrt_(); }

double EdmSde::time_at_log_snr(double lambda) const {
  check_log_snr(lambda, lambda);
  return std::clamp(std::exp(-lambda), 0.0, t_max());
}

torch::Tensor EdmSde::time_at_log_snr(const torch::Tensor& lambda) const {
  check_log_snr(lambda);
  return (-lambda).exp_().clamp_(0.0, t_max());
}

}  // namespace sde
