// The forward SDE dx = f(x,t) dt + g(t) dw, t in [0, T] (Song et al., "Score-Based Generative
// Modeling through Stochastic Differential Equations", ICLR 2021). Every SDE here is linear,
// f(x,t) = f(t) x, with the Gaussian kernel x_t | x_0 ~ N(alpha(t) x_0, sigma(t)^2 I).
#pragma once

#include <torch/types.h>

#include <string>

#include "sde/core/random.hpp"

namespace sde {

/// Exact transition of the forward process from time s to time t > s:
/// x_t = mean_coef * x_s + std * z, with mean_coef = alpha(t)/alpha(s) and
/// std^2 = sigma(t)^2 - mean_coef^2 sigma(s)^2. On a DDPM grid this is the DDPM step
/// (mean_coef = sqrt(1 - beta_i), std = sqrt(beta_i)); for VE it is the SMLD step
/// (mean_coef = 1, std^2 = sigma_i^2 - sigma_{i-1}^2).
struct Transition {
  double mean_coef;
  double std;
};

/// Abstract forward SDE. Immutable; all methods are const. Subclasses give the schedule
/// (alpha, sigma, f, g) once for float64 scalars and once for batched times; the rest is derived.
class Sde {
 public:
  virtual ~Sde() = default;
  Sde(const Sde&) = delete;
  Sde& operator=(const Sde&) = delete;

  virtual std::string name() const = 0;
  /// End time T of the forward process; sampling starts here.
  double t_max() const { return t_max_; }

  // ---- Schedule at one time (float64). Every t is checked to lie in [0, T]. ----
  /// Signal scale alpha(t) of the kernel N(alpha x_0, sigma^2 I).
  virtual double alpha(double t) const = 0;
  /// Noise standard deviation sigma(t) of the kernel.
  virtual double sigma(double t) const = 0;
  /// Coefficient f(t) of the linear drift f(x,t) = f(t) x.
  virtual double drift_coef(double t) const = 0;
  /// Diffusion coefficient g(t).
  virtual double diffusion(double t) const = 0;
  /// Standard deviation of the prior N(0, prior_std^2 I) that approximates p_T.
  virtual double prior_std() const = 0;
  /// d alpha / dt = f alpha. Finite where f is not (flow matching at T = 1, where alpha = 0):
  /// processes with such a point override it with the closed form.
  virtual double alpha_derivative(double t) const;
  /// d sigma / dt = (g^2 / 2 + f sigma^2) / sigma (from d sigma^2 / dt = 2 f sigma^2 + g^2);
  /// overridden where f and g are infinite, as alpha_derivative.
  virtual double sigma_derivative(double t) const;
  /// Log signal-to-noise ratio lambda(t) = log(alpha(t) / sigma(t)).
  double log_snr(double t) const;
  /// N of a discrete schedule's table (its networks take the step index N t - 1 as their time
  /// label); 0 for the continuous processes.
  virtual int64_t discrete_steps() const { return 0; }
  /// The time t in (0, T] with log_snr(t) = lambda, for lambda in [log_snr(T), log_snr(0+)).
  /// log_snr(T) is -inf where alpha(T) = 0 (flow matching): then lambda = -inf gives T.
  /// Requires lambda to decrease strictly in t (true of every SDE here); found by bisection to
  /// double precision (override with a closed form where one exists).
  virtual double time_at_log_snr(double lambda) const;
  /// Exact forward transition from s to t (0 <= s < t <= T).
  Transition transition(double s, double t) const;

  // ---- Batched: t has shape [B]; results have shape [B] in t's dtype. ----
  virtual torch::Tensor alpha(const torch::Tensor& t) const = 0;
  virtual torch::Tensor sigma(const torch::Tensor& t) const = 0;
  virtual torch::Tensor drift_coef(const torch::Tensor& t) const = 0;
  virtual torch::Tensor diffusion(const torch::Tensor& t) const = 0;
  /// f(x, t) = f(t) x for x of shape [B, ...].
  torch::Tensor drift(const torch::Tensor& x, const torch::Tensor& t) const;
  /// lambda(t) = log(alpha(t) / sigma(t)) per entry.
  torch::Tensor log_snr(const torch::Tensor& t) const;
  /// The batched inverse of log_snr: per-entry bisection in float64 (the adaptive solvers step
  /// every sample in log-SNR on its own); VP, sub-VP and VE override it with closed forms.
  virtual torch::Tensor time_at_log_snr(const torch::Tensor& lambda) const;

  // ---- Prior ----
  /// prior_std * z with z the normals of draw 0 of `noise` for the samples in `range`.
  torch::Tensor prior_sample(const NoiseStream& noise, SampleRange range,
                             c10::IntArrayRef sample_shape,
                             const torch::TensorOptions& options = {}) const;
  /// log N(x; 0, prior_std^2 I) summed over all but the batch dimension: shape [B].
  torch::Tensor prior_log_prob(const torch::Tensor& x) const;

 protected:
  /// Validates T (finite, > 0).
  explicit Sde(double t_max);
  /// Throws unless 0 <= t <= T (and finite); names the value and the valid interval.
  void check_time(double t) const;
  /// Same for every entry of a [B] tensor.
  void check_time(const torch::Tensor& t) const;
  /// Throws unless every lambda lies in [log_snr(T), log_snr(0)], the log-SNRs some time has.
  void check_log_snr(double lambda_min, double lambda_max) const;
  void check_log_snr(const torch::Tensor& lambda) const;

 private:
  double t_max_;
};

/// A per-sample coefficient c of shape [B] as a tensor that broadcasts against x of shape
/// [B, ...] (shape [B, 1, ..., 1], x's dtype).
torch::Tensor per_sample(const torch::Tensor& c, const torch::Tensor& x);

/// The squared Euclidean norm of each sample, [B, ...] -> [B]. A matrix-vector product, because
/// LibTorch's reductions over a short innermost dimension are slow (D = 2, 20000 rows: ~0.4 ms).
torch::Tensor per_sample_squared_norm(const torch::Tensor& v);

/// Throws unless `value` is finite; `what` names the parameter in the message.
void check_finite_parameter(const char* what, double value);

/// Throws unless 0 < lo < hi, both finite; the message names `<name>_min` and `<name>_max` and
/// ends with `hint`.
void check_ordered_positive(const char* name, double lo, double hi, const char* hint);

}  // namespace sde
