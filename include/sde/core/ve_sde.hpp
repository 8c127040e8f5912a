// Variance-exploding SDE (Song et al. 2021, eq. 9; SMLD/NCSN, Song & Ermon 2019, is its
// discretisation).
#pragma once

#include "sde/core/forward_sde.hpp"

namespace sde {

/// The geometric noise schedule sigma(t) = sigma_min (sigma_max / sigma_min)^t.
struct VeSchedule {
  double sigma_min = 0.01;
  double sigma_max = 50.0;
  /// Throws unless 0 < sigma_min < sigma_max, both finite.
  void validate() const;
};

/// VE SDE: dx = sigma(t) sqrt(2 ln(sigma_max / sigma_min)) dw, with
/// sigma(t) = sigma_min (sigma_max / sigma_min)^t, alpha = 1, f = 0, prior N(0, sigma(T)^2 I).
///
/// Convention (as the reference implementation): sigma(0) = sigma_min, not 0, so p_0 is the
/// data convolved with N(0, sigma_min^2 I), and x_t | x_0 ~ N(x_0, sigma(t)^2 I) for clean x_0.
class VeSde final : public Sde {
 public:
  explicit VeSde(VeSchedule schedule = {}, double t_max = 1.0);

  std::string name() const override { return "ve"; }
  const VeSchedule& schedule() const { return schedule_; }

  double alpha(double t) const override;
  double sigma(double t) const override;
  double drift_coef(double t) const override;
  double diffusion(double t) const override;
  double prior_std() const override;

  torch::Tensor alpha(const torch::Tensor& t) const override;
  torch::Tensor sigma(const torch::Tensor& t) const override;
  torch::Tensor drift_coef(const torch::Tensor& t) const override;
  torch::Tensor diffusion(const torch::Tensor& t) const override;
  /// lambda = -log sigma, so t = (-lambda - log sigma_min) / log(sigma_max / sigma_min).
  double time_at_log_snr(double lambda) const override;
  torch::Tensor time_at_log_snr(const torch::Tensor& lambda) const override;

 private:
  VeSchedule schedule_;
  double log_ratio_;  // ln(sigma_max / sigma_min)
};

}  // namespace sde
