// Integration of batched ODEs dx/dt = F(x, t) on the solve loop: the Runge–Kutta steppers under the
// shared step-size controller (adaptive) or a fixed grid. The engine of encoding and likelihoods.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sde/core/sampler.hpp"
#include "sde/solve/runge_kutta.hpp"
#include "sde/solve/shared_step_control.hpp"

namespace sde {

/// `rms` (per sample, the default), `max` or `batch-rms`; throws naming the known ones.
OdeErrorNorm parse_error_norm(const std::string& name);

/// An adaptive method and its controller's settings.
struct OdeOptions : SharedStepOptions {
  OdeMethod method = OdeMethod::kDopri5;
  /// Watches the accepted steps (progress); begin is the caller's to call (likelihood: per batch).
  SolveObserver observer;
};

struct OdeSolution {
  torch::Tensor x;            ///< the state at t1 (or where the integration stopped)
  int64_t accepted = 0;       ///< steps taken
  int64_t rejected = 0;       ///< steps the controller rejected
  int64_t nfe = 0;            ///< evaluations of F (batched)
  SolveStatus status = SolveStatus::kSuccess;
  std::string message;        ///< on failure: which step, at which time, and why
  bool ok() const { return status == SolveStatus::kSuccess; }
};

/// Integrates from t0 to t1 (either direction) with an adaptive method (dopri5 or cash-karp): the
/// controller of SharedStepControl. Never shares storage with `x`.
OdeSolution integrate_adaptive(const OdeRhs& rhs, const torch::Tensor& x, double t0, double t1,
                               const OdeOptions& options);

/// Classical Runge–Kutta 4 through the given times (monotone, either direction).
OdeSolution integrate_fixed(const OdeRhs& rhs, const torch::Tensor& x, const std::vector<double>& times);

}  // namespace sde
