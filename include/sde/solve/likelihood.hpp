// Exact likelihoods through the probability-flow ODE (Song et al. 2021, Sec. 4.3 and App. D.2):
// log p_eps(x) = log p_T(x_T) + int_eps^T div F(x_t, t) dt, where F = f - 1/2 g^2 s is the flow's
// drift and x_t solves the flow from x_eps = x. The divergence is integrated with the state.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "sde/solve/ode_integrator.hpp"
#include "sde/core/random.hpp"
#include "sde/core/score_model.hpp"

namespace sde {

enum class TraceEstimator {
  kExact,       ///< the Jacobian's trace through autograd, one backward pass per dimension
  kHutchinson,  ///< E[v^T J v] with `probes` fixed probes per point (one backward pass each)
};

struct LikelihoodOptions {
  OdeOptions ode;                        ///< method, tolerances and norm of the integration
  TraceEstimator trace = TraceEstimator::kExact;
  int64_t probes = 1;                    ///< Hutchinson probes per point, held fixed along the path
  bool gaussian_probes = false;          ///< N(0, I) probes instead of Rademacher (+-1)
  uint64_t seed = 0;                     ///< key of the probes (row i of x gets those of index first_index + i)
  double eps = 1e-5;                     ///< the data are taken as samples at this time
  /// Points integrated together, sharing their steps (0: all of them). A batch's results depend on
  /// its points alone, so runs split on batch boundaries (processes, sessions) agree with one run.
  int64_t batch_size = 0;
  /// Row 0 of x is point first_index of a larger data set (a shard of it): keys the probes, so a
  /// shard computed alone gets the probes it has in the whole set.
  int64_t first_index = 0;
  /// Throws sde::InvalidArgument naming the bad value.
  void validate() const;
};

/// A point whose likelihood could not be computed, and why.
struct PointFailure {
  int64_t index;
  std::string message;
};

struct LikelihoodResult {
  torch::Tensor log_p;      ///< [B] float64: log p_eps(x) in nats (prior log-density + integral); NaN where failed
  torch::Tensor std_error;  ///< [B] the Hutchinson estimate's standard error (probes >= 2), else undefined
  torch::Tensor latent;     ///< [B, ...] x_T, where the flow takes the data
  torch::Tensor prior_log_p;  ///< [B] log N(x_T; 0, prior_std^2 I), the first term of log_p
  int64_t nfe = 0;          ///< score calls (each right-hand side is one; backward passes not counted)
  /// Points the integration could not follow (their log_p is NaN); the others are unaffected.
  std::vector<PointFailure> failures;
  SolveStatus status = SolveStatus::kSuccess;  ///< a failure only when every point failed
  std::string message;
  bool ok() const { return status == SolveStatus::kSuccess; }
  /// Mean log p over the points that did not fail.
  double mean_log_p() const;
  /// Mean bits per dimension, -mean(log_p) / (D ln 2), for data with D entries per point (over the
  /// points that did not fail).
  double bits_per_dim() const;
};

/// Uniform dequantization of discrete data k in {0, ..., levels - 1}^D, in the data scaling in use:
/// x = scale (k + u) / levels + shift with u ~ U(0, 1)^D ([0, 1] data: scale 1, shift 0; [-1, 1]
/// data: scale 2, shift -1). A density p on x gives a discrete model whose probabilities obey
///   log P(k) >= E_u[log p(x)] + D log(scale / levels)            (Jensen, Theano et al. 2016)
/// so bits/dim <= -E[log p(x)] / (D ln 2) + log2(levels / scale): 8 for 8-bit data in [0, 1], 7 in
/// [-1, 1]. docs/likelihood.md derives it.
struct Dequantization {
  int64_t levels = 256;
  double scale = 1.0;
  double shift = 0.0;
  /// Throws sde::InvalidArgument naming the bad value.
  void validate() const;
  /// log2(levels / scale): the bits per dimension the bin width adds.
  double bits_offset() const;
  /// x for the integers k (any shape [B, ...]), with u from draw 0 of `noise` for the rows in `range`.
  torch::Tensor apply(const torch::Tensor& k, const NoiseStream& noise, SampleRange range) const;
};

/// The discrete bits/dim bound from the log-likelihoods of dequantized data.
double discrete_bits_per_dim(const LikelihoodResult& result, const Dequantization& dequantization);

/// log p_eps of every point of x ([B, sample_shape...]) under the model's probability flow.
/// Needs a score model that autograd can differentiate with respect to x. Throws on bad input
/// (shape, NaN). A point the step-size controller cannot follow does not stop the others: the
/// batch is split until it is found, and it is listed in `failures` with NaN as its log p (the
/// points integrated in smaller groups then take their own steps, within the tolerances).
/// When every point fails, the status says why.
LikelihoodResult log_likelihood(const Sde& sde, const ScoreModel& model, const torch::Tensor& x,
                                const LikelihoodOptions& options);

}  // namespace sde
