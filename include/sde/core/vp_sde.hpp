// Variance-preserving SDEs with the linear beta schedule (Song et al. 2021, eqs. 11 and 13;
// DDPM, Ho et al. 2020, is the discretisation of VpSde).
#pragma once

#include "sde/core/forward_sde.hpp"

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
  /// The t >= 0 with integral(t) = b, in the form without cancellation:
  /// t = 2 b / (beta_min + sqrt(beta_min^2 + 2 (beta_max - beta_min) b)).
  template <class T>
  T inverse_integral(const T& b) const {
    using std::sqrt;
    return b * 2.0 / (sqrt(b * (2.0 * (beta_max - beta_min)) + beta_min * beta_min) + beta_min);
  }
  /// Throws unless 0 < beta_min < beta_max, both finite.
  void validate() const;
};

/// The VP family: drift f(t) = -1/2 beta(t) and alpha(t) = exp(-B(t)/2), prior N(0, I).
/// VpSde and SubVpSde differ only in sigma and g.
class LinearBetaSde : public Sde {
 public:
  const LinearBeta& schedule() const { return schedule_; }

  double alpha(double t) const final;
  double drift_coef(double t) const final;
  double prior_std() const final { return 1.0; }
  torch::Tensor alpha(const torch::Tensor& t) const final;
  torch::Tensor drift_coef(const torch::Tensor& t) const final;
  /// Closed form: B(lambda) from the subclass, then t from inverting the quadratic B(t).
  double time_at_log_snr(double lambda) const final;
  torch::Tensor time_at_log_snr(const torch::Tensor& lambda) const final;

 protected:
  LinearBetaSde(LinearBeta schedule, double t_max);
  /// The integral B = int_0^t beta at which the log-SNR equals lambda.
  virtual double integral_at_log_snr(double lambda) const = 0;
  virtual torch::Tensor integral_at_log_snr(const torch::Tensor& lambda) const = 0;

 private:
  LinearBeta schedule_;
};

/// VP SDE: dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw; sigma^2 = 1 - alpha^2 = -expm1(-B).
class VpSde final : public LinearBetaSde {
 public:
  explicit VpSde(LinearBeta schedule = {}, double t_max = 1.0) : LinearBetaSde(schedule, t_max) {}

  std::string name() const override { return "vp"; }
  double sigma(double t) const override;
  double diffusion(double t) const override;
  torch::Tensor sigma(const torch::Tensor& t) const override;
  torch::Tensor diffusion(const torch::Tensor& t) const override;

 protected:
  double integral_at_log_snr(double lambda) const override;
  torch::Tensor integral_at_log_snr(const torch::Tensor& lambda) const override;
};

/// sub-VP SDE: dx = -1/2 beta(t) x dt + sqrt(beta(t) (1 - exp(-2 B(t)))) dw;
/// sigma = 1 - alpha^2 = -expm1(-B) (a standard deviation, not a variance).
class SubVpSde final : public LinearBetaSde {
 public:
  explicit SubVpSde(LinearBeta schedule = {}, double t_max = 1.0) : LinearBetaSde(schedule, t_max) {}

  std::string name() const override { return "subvp"; }
  double sigma(double t) const override;
  double diffusion(double t) const override;
  torch::Tensor sigma(const torch::Tensor& t) const override;
  torch::Tensor diffusion(const torch::Tensor& t) const override;

 protected:
  double integral_at_log_snr(double lambda) const override;
  torch::Tensor integral_at_log_snr(const torch::Tensor& lambda) const override;
};

}  // namespace sde
