// The flow-matching / rectified-flow process (Lipman et al. 2023, "Flow Matching for Generative
// Modeling"; Liu et al. 2023, "Flow Straight and Fast"; the process of SD3 and Flux):
// x_t = (1 - t) x_0 + t eps, a straight line from the data to the noise.
#pragma once

#include "sde/core/forward_sde.hpp"

namespace sde {

/// alpha = 1 - t, sigma = t on [0, T], T = 1 by default, where p_T = N(0, I) exactly. As an SDE:
///   f(t) = -1 / (1 - t),  g(t)^2 = d sigma^2/dt - 2 f sigma^2 = 2 t / (1 - t),
/// both infinite at t = 1, where lambda = log((1 - t) / t) = -inf. The probability-flow drift stays
/// finite there: it is (x - x0_hat) / t, the velocity eps_hat - x0_hat a flow network predicts
/// (Parameterization::kVelocity). Solvers written in alpha, sigma and the data prediction
/// (DDIM, DPM-Solver++, UniPC, ...) start at T = 1; solvers that step with f and g are refused
/// there and run on a flow process with T < 1 (prior N(0, I) then approximate: alpha(T) = 1 - T).
class FlowSde final : public Sde {
 public:
  /// Throws unless 0 < t_max <= 1.
  explicit FlowSde(double t_max = 1.0);
  std::string name() const override { return "flow"; }
  double alpha(double t) const override;
  double sigma(double t) const override;
  double drift_coef(double t) const override;
  double diffusion(double t) const override;
  double prior_std() const override { return 1.0; }
  double alpha_derivative(double t) const override;  ///< -1
  double sigma_derivative(double t) const override;  ///< 1
  torch::Tensor alpha(const torch::Tensor& t) const override;
  torch::Tensor sigma(const torch::Tensor& t) const override;
  torch::Tensor drift_coef(const torch::Tensor& t) const override;
  torch::Tensor diffusion(const torch::Tensor& t) const override;
  /// Closed form: t = 1 / (1 + e^lambda).
  double time_at_log_snr(double lambda) const override;
  torch::Tensor time_at_log_snr(const torch::Tensor& lambda) const override;
};

}  // namespace sde
