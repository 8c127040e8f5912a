#include "sde/core/flow_sde.hpp"

#include <algorithm>
#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {
namespace {

double checked_end(double t_max) {
  SDE_CHECK(std::isfinite(t_max) && t_max > 0 && t_max <= 1, "flow: T = ", t_max,
            " must lie in (0, 1] (alpha = 1 - t reaches 0 at t = 1; T = 1 makes the prior N(0, I) exact)");
  return t_max;
}

}  // namespace

FlowSde::FlowSde(double t_max) : Sde(checked_end(t_max)) {}

double FlowSde::alpha(double t) const { check_time(t); return 1.0 - t; }
double FlowSde::sigma(double t) const { check_time(t); return t; }
double FlowSde::drift_coef(double t) const { check_time(t); return -1.0 / (1.0 - t); }
double FlowSde::diffusion(double t) const { check_time(t); return std::sqrt(2.0 * t / (1.0 - t)); }
double FlowSde::alpha_derivative(double t) const { check_time(t); return -1.0; }
double FlowSde::sigma_derivative(double t) const { check_time(t); return 1.0; }
torch::Tensor FlowSde::alpha(const torch::Tensor& t) const { check_time(t); return 1.0 - t; }
torch::Tensor FlowSde::sigma(const torch::Tensor& t) const { check_time(t); return t.clone(); }
torch::Tensor FlowSde::drift_coef(const torch::Tensor& t) const { check_time(t); return -1.0 / (1.0 - t); }
torch::Tensor FlowSde::diffusion(const torch::Tensor& t) const { check_time(t); return (t * 2.0 / (1.0 - t)).sqrt_(); }

double FlowSde::time_at_log_snr(double lambda) const {
  check_log_snr(lambda, lambda);
  return std::clamp(1.0 / (1.0 + std::exp(lambda)), 0.0, t_max());
}

torch::Tensor FlowSde::time_at_log_snr(const torch::Tensor& lambda) const {
  check_log_snr(lambda);
  return torch::sigmoid(-lambda).clamp_(0.0, t_max());
}

}  // namespace sde
