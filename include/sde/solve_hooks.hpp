// Hooks on the solve loop: a batch's beginning, where a solve starts, a transform of the state after every step, and an
// observer. Conditioning and inverse problems (SDEdit, replacement inpainting, saved trajectories,
// progress) use these instead of editing solvers.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>

#include "sde/random.hpp"

namespace sde {

/// Where a step left the samples that took it.
struct StepPosition {
  int64_t index = 0;     ///< attempt k (the k-th step on a fixed grid)
  double time = 0;       ///< the time they reached, when the batch shares its times
  torch::Tensor times;   ///< [rows] per-sample times under per-sample control; undefined otherwise
  torch::Tensor rows;    ///< which samples of the batch stepped (indices); undefined: all of them
  SampleRange range;     ///< the batch's global sample indices
};

/// All optional. The state x given to transform and observe is the whole batch, [B, ...].
struct SolveHooks {
  /// Called when the solve of the samples of `range` begins, before anything else (progress
  /// reporting counts batches and their model calls from it).
  std::function<void(SampleRange range)> begin;
  /// The state to start from for the samples of `range`, [count, sample shape...], at start_time.
  /// Unset: the prior at T (noise draw 0).
  std::function<torch::Tensor(SampleRange range)> start_state;
  /// The time the solve starts at; 0 means T. SDEdit starts below T from a noised image.
  double start_time = 0;
  /// Called after every accepted step; may change the rows that stepped, in place (replacement
  /// inpainting sets the known pixels to a noised copy of the observation at the new time).
  std::function<void(torch::Tensor& x, const StepPosition& where)> transform;
  /// Called after every accepted step (and transform). x is the loop's own state, valid during
  /// the call only: clone what you keep.
  std::function<void(const torch::Tensor& x, const StepPosition& where)> observe;
  /// Called once on the samples of `range` a sampler returns (after its last denoising step), in
  /// place: inpainting puts the known values back exactly.
  std::function<void(torch::Tensor& samples, SampleRange range)> finish;
};

}  // namespace sde
