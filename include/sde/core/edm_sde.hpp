// EDM's forward process (Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based
// Generative Models", Table 1): no scaling, and time is the noise level, sigma(t) = t.
#pragma once

#include "sde/core/forward_sde.hpp"

namespace sde {

/// The largest noise level, which is T. EDM's sigma_min = 0.002 is where its samplers stop: that
/// is the sampler's eps here (`--eps 0.002`), with the Karras grid (`--schedule karras`, rho = 7).
struct EdmSchedule {
  double sigma_max = 80.0;
  /// Throws unless sigma_max is finite and > 0.
  void validate() const;
};

/// dx = sqrt(2 t) dw on [0, sigma_max]: alpha = 1, sigma(t) = t, f = 0, g = sqrt(2 t) (so that
/// d sigma^2 / dt = g^2), prior N(0, sigma_max^2 I). lambda = -log t, so t = exp(-lambda).
/// sigma(0) = 0: p_0 is the data itself (unlike VE's sigma_min convention).
class EdmSde final : public Sde {
 public:
  explicit EdmSde(EdmSchedule schedule = {});
  std::string name() const override { return "edm"; }
  const EdmSchedule& schedule() const { return schedule_; }
  double alpha(double t) const override;
  double sigma(double t) const override;
  double drift_coef(double t) const override;
  double diffusion(double t) const override;
  double prior_std() const override { return schedule_.sigma_max; }
  torch::Tensor alpha(const torch::Tensor& t) const override;
  torch::Tensor sigma(const torch::Tensor& t) const override;
  torch::Tensor drift_coef(const torch::Tensor& t) const override;
  torch::Tensor diffusion(const torch::Tensor& t) const override;
  double time_at_log_snr(double lambda) const override;
  torch::Tensor time_at_log_snr(const torch::Tensor& lambda) const override;

 private:
  EdmSchedule schedule_;
};

}  // namespace sde
