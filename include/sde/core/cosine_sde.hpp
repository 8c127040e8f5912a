// The cosine VP schedule (Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic
// Models", eq. 17) as a continuous-time VP SDE, with beta clipped near T as dpm-solver's
// NoiseScheduleVP('cosine') does.
#pragma once

#include "sde/core/forward_sde.hpp"

namespace sde {

/// alpha_bar(t) = f(t) / f(0), f(t) = cos^2(theta(t)), theta(t) = (t + s) / (1 + s) pi / 2.
struct CosineSchedule {
  double s = 0.008;       ///< the offset that keeps beta finite at t = 0 (Nichol & Dhariwal's)
  double beta_max = 999;  ///< T is where beta(t) reaches it (beta grows to infinity at t = 1)
  /// Throws unless s > 0 and beta_max > beta(0), both finite.
  void validate() const;
};

namespace detail {
/// theta(t) = (t + s) c with c = pi / (2 (1 + s)), and cos, sin of theta_0 = theta(0): computed once
/// per SDE, not at every call.
struct CosineAngles {
  double s, c, theta0, cos0, sin0;
};
}  // namespace detail

/// VP with alpha(t) = cos(theta(t)) / cos(theta(0)), sigma^2 = 1 - alpha^2, prior N(0, I):
///   f(t) = d log alpha / dt = -c tan(theta(t)),  g(t)^2 = beta(t) = 2 c tan(theta(t)),  c = pi / (2 (1 + s)).
/// sigma^2 = sin(theta - theta_0) sin(theta + theta_0) / cos^2(theta_0), free of cancellation at small t.
/// T = min(t_max, the t with beta(t) = beta_max): 0.99459 with the defaults, where alpha(T) = 0.0031.
class CosineVpSde final : public Sde {
 public:
  explicit CosineVpSde(CosineSchedule schedule = {}, double t_max = 1.0);
  std::string name() const override { return "cosine"; }
  const CosineSchedule& schedule() const { return schedule_; }
  double alpha(double t) const override;
  double sigma(double t) const override;
  double drift_coef(double t) const override;
  double diffusion(double t) const override;
  double prior_std() const override { return 1.0; }
  torch::Tensor alpha(const torch::Tensor& t) const override;
  torch::Tensor sigma(const torch::Tensor& t) const override;
  torch::Tensor drift_coef(const torch::Tensor& t) const override;
  torch::Tensor diffusion(const torch::Tensor& t) const override;
  /// Closed form: alpha^2 = sigmoid(2 lambda), sigma^2 = sigmoid(-2 lambda), and
  /// theta = atan2(sqrt(sin^2 theta_0 + cos^2 theta_0 sigma^2), cos theta_0 alpha).
  double time_at_log_snr(double lambda) const override;
  torch::Tensor time_at_log_snr(const torch::Tensor& lambda) const override;

 private:
  CosineSchedule schedule_;
  detail::CosineAngles angles_;
};

}  // namespace sde
