// Adaptive step-size control for reverse-time solvers: every sample takes its own steps, sized
// from the difference of an embedded pair of solutions (Jolicoeur-Martineau et al. 2021, "Gotta
// Go Fast When Generating Data with Score-Based Models", Alg. 1; Lu et al. 2022, DPM-Solver,
// Alg. 4-5). Per-sample control keeps a sample's path independent of the rest of its batch.
#pragma once

#include <memory>
#include <string>

#include "sde/reverse_sde.hpp"
#include "sde/sampler.hpp"

namespace sde {

/// Two solutions of different order from one set of score calls. Steps are taken in a step
/// variable u that increases from u(T) to u(eps) (t itself reversed, or the log-SNR).
class EmbeddedPair {
 public:
  struct Solutions {
    torch::Tensor lower;   ///< the lower-order solution: the error estimate's reference
    torch::Tensor higher;  ///< the higher-order solution
  };

  virtual ~EmbeddedPair() = default;
  virtual std::string name() const = 0;
  /// The step variable at time t, and its per-sample inverse.
  virtual double step_variable(const Sde& sde, double t) const = 0;
  virtual torch::Tensor time_at(const Sde& sde, const torch::Tensor& u) const = 0;
  /// What the first stage needs at the current state (one score call). The controller keeps it
  /// across a rejected attempt, whose state is unchanged, so a rejection costs one call less.
  virtual torch::Tensor first_stage(ReverseSde& reverse, const torch::Tensor& x,
                                    const torch::Tensor& t) const = 0;
  /// Both solutions of the step from t to s (per-sample [B] times; the step is u_s - u_t),
  /// with `first` = first_stage(x, t) and z ~ N(0, I) shaped like x when uses_noise().
  virtual Solutions attempt(ReverseSde& reverse, const torch::Tensor& x, const torch::Tensor& first,
                            const torch::Tensor& t, const torch::Tensor& s,
                            const torch::Tensor& z) const = 0;
  /// Score calls an attempt makes besides the first stage.
  virtual int attempt_calls() const = 0;
  /// The state after an accepted step, computed for the accepted samples only (arguments and
  /// `higher` restricted to them). By default the higher-order solution (local extrapolation).
  virtual torch::Tensor advance(ReverseSde& reverse, const torch::Tensor& x, const torch::Tensor& first,
                                const torch::Tensor& t, const torch::Tensor& s, const torch::Tensor& z,
                                const torch::Tensor& higher) const;
  /// Score calls advance() makes.
  virtual int advance_calls() const { return 0; }
  virtual bool uses_noise() const = 0;
};

/// The controller's settings.
struct AdaptiveOptions {
  double rtol = 0.01;      ///< relative tolerance
  double atol = 0.0078;    ///< absolute tolerance (in data units; 0.0078 ~ 1 level of 8-bit data in [-1, 1])
  double h_init = 0.01;    ///< first step, in the step variable
  double safety = 0.9;     ///< the factor theta on every proposed step
  double exponent = 0.9;   ///< r in h <- theta h E^(-r) (1 / order is the classical choice)
  int64_t max_steps = 10000;  ///< attempts (accepted or not) before giving up
  /// Throws sde::InvalidArgument naming the bad value.
  void validate(const std::string& solver) const;
};

/// From x_T ~ prior (draw 0), attempt k (k = 0, 1, ...) of every unfinished sample uses the normals
/// of draw k + 1. Error of an attempt, per sample: E = RMS((higher - lower) / delta) over the
/// sample's entries, delta = max(atol, rtol max(|lower|, |lower of the last accepted step|)).
/// E <= 1 accepts (x <- advance(...), by default higher); then h <- min(theta h E^(-r), u(eps) - u). A sample is done when
/// it reaches u(eps) exactly; finished samples leave the batch, so later calls are smaller. Then
/// Tweedie at eps if options().denoise. nfe counts batched calls; nfe_mean the calls per sample.
class AdaptiveSampler final : public Sampler {
 public:
  AdaptiveSampler(SamplerOptions options, AdaptiveOptions adaptive, std::unique_ptr<EmbeddedPair> pair);

  std::string name() const override { return pair_->name(); }

 protected:
  SampleResult sample_batch(const Sde& sde, const ScoreModel& model, SampleRange range) const override;

 private:
  AdaptiveOptions adaptive_;
  std::unique_ptr<EmbeddedPair> pair_;
};

}  // namespace sde
