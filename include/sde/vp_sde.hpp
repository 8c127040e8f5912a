// Variance-preserving SDEs with the linear beta schedule (Song et al. 2021, eqs. 11 and 13;
// DDPM, Ho et al. 2020, is the discretisation of VpSde).
#pragma once

#include "sde/forward_sde.hpp"

namespace sde {

/// beta(t) = beta_min + t (beta_max - beta_min) and its integral B(t) = int_0^t beta.
/// Shared by VP and sub-VP: one source of truth for the schedule.
struct LinearBeta {
  double beta_min = 0.1;
  double beta_max = 20.0;

  template <class T>
  T beta(const T& t) const {
    return t * (beta_max - beta_min) + beta_min;
  }
  template <class T>
  T integral(const T& t) const {
    return t * beta_min + t * t * (0.5 * (beta_max - beta_min));
  }
  /// Throws unless 0 < beta_min < beta_max, both finite.
  void validate() const;
};

/// VP SDE: dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw.
/// alpha = exp(-B/2), sigma^2 = 1 - alpha^2 = -expm1(-B), prior N(0, I).
class VpSde final : public Sde {
 public:
  explicit VpSde(LinearBeta schedule = {}, double t_max = 1.0);

  std::string name() const override { return "vp"; }
  const LinearBeta& schedule() const { return schedule_; }

  double alpha(double t) const override;
  double sigma(double t) const override;
  double drift_coef(double t) const override;
  double diffusion(double t) const override;
  double prior_std() const override { return 1.0; }

  torch::Tensor alpha(const torch::Tensor& t) const override;
  torch::Tensor sigma(const torch::Tensor& t) const override;
  torch::Tensor drift_coef(const torch::Tensor& t) const override;
  torch::Tensor diffusion(const torch::Tensor& t) const override;

 private:
  LinearBeta schedule_;
};

/// sub-VP SDE: dx = -1/2 beta(t) x dt + sqrt(beta(t) (1 - exp(-2 B(t)))) dw.
/// alpha = exp(-B/2) as VP, sigma = 1 - alpha^2 = -expm1(-B) (a standard deviation), prior N(0, I).
class SubVpSde final : public Sde {
 public:
  explicit SubVpSde(LinearBeta schedule = {}, double t_max = 1.0);

  std::string name() const override { return "subvp"; }
  const LinearBeta& schedule() const { return schedule_; }

  double alpha(double t) const override;
  double sigma(double t) const override;
  double drift_coef(double t) const override;
  double diffusion(double t) const override;
  double prior_std() const override { return 1.0; }

  torch::Tensor alpha(const torch::Tensor& t) const override;
  torch::Tensor sigma(const torch::Tensor& t) const override;
  torch::Tensor drift_coef(const torch::Tensor& t) const override;
  torch::Tensor diffusion(const torch::Tensor& t) const override;

 private:
  LinearBeta schedule_;
};

}  // namespace sde
