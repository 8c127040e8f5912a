// Hooks on the solve loop: where a solve starts, a transform of the state after every step, the
// samples' last touch, and an observer. Conditioning and inverse problems (SDEdit, replacement
// inpainting, saved trajectories, progress) use these instead of editing solvers.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>

#include "sde/core/random.hpp"

namespace sde {

/// Where a step left the samples that took it.
struct StepPosition {
  int64_t index = 0;     ///< attempt k (the k-th step on a fixed grid)
  double time = 0;       ///< the time they reached, when the batch shares its times
  torch::Tensor times;   ///< [rows] per-sample times under per-sample control; undefined otherwise
  torch::Tensor rows;    ///< which samples of the batch stepped (indices); undefined: all of them
  SampleRange range;     ///< the batch's global sample indices
  int64_t calls = 0;     ///< batched model calls of this batch so far (the loop's one count)
};

/// What a solve does besides solving; all optional. The state x given to transform is the whole
/// batch, [B, ...].
struct SolveHooks {
  /// The state to start from for the samples of `range`, [count, sample shape...], at time t0
  /// (the grid's first time). Unset: the prior (noise draw 0).
  std::function<torch::Tensor(SampleRange range, double t0)> start_state;
  /// Called after every accepted step; may change the rows that stepped, in place (replacement
  /// inpainting sets the known pixels to a noised copy of the observation at the new time).
  std::function<void(torch::Tensor& x, const StepPosition& where)> transform;
  /// Called once on the samples of `range` a sampler returns (after its last denoising step), in
  /// place: inpainting puts the known values back exactly.
  std::function<void(torch::Tensor& samples, SampleRange range)> finish;
};

/// Watches a run without changing it (progress bars, saved trajectories); all optional.
struct SolveObserver {
  /// Called when the solve of the samples of `range` begins, before anything else.
  std::function<void(SampleRange range)> begin;
  /// Called after every accepted step (and the transform). x is the loop's own state, valid during
  /// the call only: clone what you keep.
  std::function<void(const torch::Tensor& x, const StepPosition& where)> step;
};

}  // namespace sde
