// Integration of batched ODEs dx/dt = F(x, t) with Boost.Odeint (tensor states): the engine of the
// probability-flow samplers, encoding and likelihoods.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sde/sampler.hpp"

namespace sde {

/// The right-hand side: writes F(x, t) into dxdt (which it may reassign). x has shape [B, ...].
using OdeRhs = std::function<void(const torch::Tensor& x, torch::Tensor& dxdt, double t)>;

/// How an error estimate becomes one number for the step-size controller. Both scale the error
/// entrywise by atol + rtol |x| (x before the step).
enum class OdeErrorNorm {
  /// The largest scaled error over every entry of the batch (Odeint's own norm). Strict: one bad
  /// entry of one sample decides, so the cost grows with the batch and the dimension.
  kMax,
  /// The RMS over each sample's entries, then the largest over the samples (the norm of Hairer's
  /// codes, per sample). Every sample meets the tolerance on average over its own entries: the
  /// usual choice for images and other high-dimensional data.
  kPerSampleRms,
  /// The RMS over every entry of the batch: what an ODE solver applied to the flattened batch does
  /// (the Python reference's scipy RK45). The loosest: a few bad samples hide among many good ones.
  kBatchRms,
};

/// `rms` (per sample, the default), `max` or `batch-rms`; throws naming the known ones.
OdeErrorNorm parse_error_norm(const std::string& name);

struct OdeOptions {
  std::string method = "dopri5";  ///< dopri5 | cash-karp (adaptive), rk4 (fixed steps)
  double rtol = 1e-5;
  double atol = 1e-5;
  OdeErrorNorm norm = OdeErrorNorm::kPerSampleRms;
  /// First step of the adaptive methods as a fraction of |t1 - t0|; 0 = chosen from the problem
  /// (Hairer's rule: one extra evaluation of F).
  double h_init = 0;
  int64_t max_steps = 100000;  ///< attempted steps (accepted or rejected) before giving up
  /// When the batch is split over processes: the largest of a value over all of them. Every error
  /// norm passes through it, so each process takes the steps of the whole batch (kMax and
  /// kPerSampleRms are maxima over samples, so this is exact; kBatchRms is refused with it).
  std::function<double(double)> global_max;
  /// Throws sde::InvalidArgument naming the bad value.
  void validate() const;
};

struct OdeSolution {
  torch::Tensor x;            ///< the state at t1 (or where the integration stopped)
  int64_t accepted = 0;       ///< steps taken
  int64_t rejected = 0;       ///< steps the controller rejected
  SampleStatus status = SampleStatus::kSuccess;
  std::string message;        ///< on failure: which step, at which time, and why
  bool ok() const { return status == SampleStatus::kSuccess; }
};

/// Integrates from t0 to t1 (either direction) with an adaptive method; the last step is cut to end
/// at t1 exactly, so F is only evaluated between t0 and t1. Step sizes follow Hairer's policy
/// (0.9 err^(-1/5) within [0.2, 10], no growth right after a rejection); a rejection reuses F at the
/// step's start. Never shares storage with `x`.
OdeSolution integrate_adaptive(const OdeRhs& rhs, const torch::Tensor& x, double t0, double t1,
                               const OdeOptions& options);

/// Classical Runge–Kutta 4 through the given times (monotone, either direction).
OdeSolution integrate_fixed(const OdeRhs& rhs, const torch::Tensor& x, const std::vector<double>& times);

}  // namespace sde
