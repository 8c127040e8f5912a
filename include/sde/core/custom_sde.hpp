// Forward processes given by their kernel: any alpha(t), sigma(t) in C++ (a user's own schedule),
// and the discrete DDPM-style schedules of a table of betas or alpha-bars (diffusers'
// alphas_cumprod; dpm-solver's NoiseScheduleVP('discrete')).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sde/core/forward_sde.hpp"

namespace sde {

/// The kernel N(alpha(t) x_0, sigma(t)^2 I) of a linear process, as functions. alpha and sigma are
/// required; the rest is optional.
struct KernelFunctions {
  std::function<double(double)> alpha, sigma;
  /// d alpha / dt and d sigma / dt; empty: central differences (step 1e-6 T, one-sided at the ends).
  std::function<double(double)> alpha_derivative, sigma_derivative;
  /// The inverse of the log-SNR log(alpha / sigma); empty: bisection (Sde::time_at_log_snr).
  std::function<double(double)> time_at_log_snr;
  double t_max = 1.0;      ///< T
  double prior_std = 1.0;  ///< the prior N(0, prior_std^2 I) at T
  std::string name = "custom";
  int64_t discrete_steps = 0;  ///< N of a table the kernel interpolates (Sde::discrete_steps), 0: none
};

/// A process from its kernel: f = alpha'/alpha, g^2 = 2 sigma sigma' - 2 f sigma^2 (from
/// d sigma^2/dt = 2 f sigma^2 + g^2). Checked at construction on 257 times of [0, T]: alpha and
/// sigma finite and >= 0, sigma > 0 on (0, T], the log-SNR strictly decreasing, g^2 >= 0 (to
/// rounding); every failure names the time and the value. Batched calls evaluate the functions
/// entry by entry (a fixed grid asks for one time per step; per-sample solvers for one per row).
class CustomSde final : public Sde {
 public:
  explicit CustomSde(KernelFunctions kernel);
  std::string name() const override { return kernel_.name; }
  double alpha(double t) const override;
  double sigma(double t) const override;
  double drift_coef(double t) const override;
  double diffusion(double t) const override;
  double prior_std() const override { return kernel_.prior_std; }
  int64_t discrete_steps() const override { return kernel_.discrete_steps; }
  double alpha_derivative(double t) const override;
  double sigma_derivative(double t) const override;
  torch::Tensor alpha(const torch::Tensor& t) const override;
  torch::Tensor sigma(const torch::Tensor& t) const override;
  torch::Tensor drift_coef(const torch::Tensor& t) const override;
  torch::Tensor diffusion(const torch::Tensor& t) const override;
  double time_at_log_snr(double lambda) const override;
  torch::Tensor time_at_log_snr(const torch::Tensor& lambda) const override;

 private:
  KernelFunctions kernel_;
};

/// A discrete VP schedule: alpha_bar_n, n = 0..N-1, at times t_n = (n + 1) / N (dpm-solver's
/// convention), with log alpha = 1/2 log alpha_bar interpolated linearly in t between them and
/// from (0, 0) (clean data at t = 0): alpha = exp(log alpha), sigma = sqrt(1 - alpha^2), T = 1,
/// prior N(0, I). f is the slope of log alpha (constant between knots), g^2 = -2 f. Closed-form
/// inverse log-SNR (the knot interval by binary search). Networks trained on the table take the
/// step index n = N t - 1 as their label (dpm-solver: (t - 1/N) 1000). Files: sde/io/schedule_file.hpp.
struct DiscreteSchedule {
  std::vector<double> alphas_cumprod;
  /// From betas: alpha_bar_n = prod_{i <= n} (1 - beta_i).
  static DiscreteSchedule from_betas(const std::vector<double>& betas);
  /// DDPM's (Ho et al. 2020) and diffusers' "linear": N betas from beta_start to beta_end.
  static DiscreteSchedule ddpm_linear(int64_t n = 1000, double beta_start = 1e-4, double beta_end = 0.02);
  /// Throws unless N >= 2 and 0 < alpha_bar_n < 1, strictly decreasing (names the first bad entry).
  void validate() const;
};

/// The CustomSde of a discrete schedule, named "discrete".
std::shared_ptr<const Sde> make_discrete_sde(const DiscreteSchedule& schedule);

}  // namespace sde
