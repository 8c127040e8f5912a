// The solve loop: one loop for every stepper under every controller. It owns what every solver
// shares: the first-stage cache across rejections, noise drawn by (seed, sample, attempt), model
// calls counted per batch and per sample, accepted and rejected steps, a spent budget, and the hooks.
#pragma once

#include <torch/types.h>

#include <string>

#include "sde/core/sampler.hpp"
#include "sde/core/solve_hooks.hpp"
#include "sde/solve/controller.hpp"
#include "sde/solve/stepper.hpp"

namespace sde {

/// Where a solve's randomness and hooks come from. Without noise, a stepper that draws throws.
struct SolveSetup {
  SampleRange range;                 ///< the batch's global sample indices
  const NoiseStream* noise = nullptr;
  const SolveHooks* hooks = nullptr;
  const SolveObserver* observer = nullptr;
  const Sde* sde = nullptr;          ///< for controllers that step in the log-SNR
};

struct SolveOutcome {
  torch::Tensor x;              ///< the state at t1, or where the solve stopped
  SolveStatus status = SolveStatus::kSuccess;
  std::string message;          ///< on failure: where and why (without the solver's name)
  int64_t nfe = 0;              ///< batched model calls
  double nfe_mean = 0;          ///< model calls per sample, averaged over the samples
  double accepted = 0;          ///< accepted steps per sample (mean over the samples)
  double rejected = 0;          ///< rejected attempts per sample (mean over the samples)
  bool ok() const { return status == SolveStatus::kSuccess; }
};

/// Solves from x at t0 to t1 with `stepper` under `controller` (started here). Never shares
/// storage with x.
SolveOutcome solve(const Stepper& stepper, Controller& controller, const SolveProblem& problem,
                   const torch::Tensor& x, double t0, double t1, const SolveSetup& setup = {});

}  // namespace sde
