// Inverse problems and editing through the solve loop's hooks (sde/core/solve_hooks.hpp), so they work
// with every solver:
//  * replacement (Song et al. 2021, app. I.2; "inpainting" and "colorization"): after every step the
//    measured part of the state is replaced by the observation, forward-perturbed to the new time;
//  * SDEdit (Meng et al. 2022): start below T from a given image, forward-perturbed to that time.
//
// A measurement here is linear with orthonormal rows, y = A x_0 with A A^T = I, described in sample
// space by the orthogonal projector P = A^T A and the observation lifted into it, A^T y = P x_0. Then
// A (alpha x_0 + sigma z) = alpha y + sigma A z with A z ~ N(0, I): the replacement is
//   x <- x - P x + alpha(s) A^T y + sigma(s) P z,     z ~ N(0, I) fresh at every step.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>

#include "sde/core/forward_sde.hpp"
#include "sde/core/solve_hooks.hpp"

namespace sde {

/// A linear measurement with orthonormal rows, given by its projector and lifted observation. Both
/// hold one row for every sample (a single row) or one row per sample of the request (row i for the
/// sample of global index i), like sde::Condition.
struct Measurement {
  /// P x for rows x [B, ...] of the samples with global indices `samples` [B] (int64).
  std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& samples)> project;
  /// A^T y = P x_0 for those samples: [B, ...].
  std::function<torch::Tensor(const torch::Tensor& samples)> observed;
};

/// Inpainting: `mask` is 1 where a value is known and 0 elsewhere (any other value is refused), of the
/// shape of one sample or [N, sample shape...]; `known` likewise (its entries where mask = 0 are
/// ignored). Throws sde::InvalidArgument for shapes that differ from `sample_shape`, NaN in the known
/// entries, or a mask that is not 0/1.
Measurement mask_measurement(const torch::Tensor& known, const torch::Tensor& mask, c10::IntArrayRef sample_shape);

/// Colorization: the channel mean of an image [C, H, W] is known (A x = (x_1 + ... + x_C) / sqrt(C)
/// per pixel). `gray` is [1, H, W] or [N, 1, H, W]: the mean over the channels of the images sought.
Measurement channel_mean_measurement(const torch::Tensor& gray, c10::IntArrayRef sample_shape);

/// Hooks that solve the inverse problem by replacement: after every step (all solvers, every kind of
/// step control) the measured part is set to alpha(s) A^T y + sigma(s) P z, and the returned samples
/// get P x = A^T y exactly. The noise z is drawn from NoiseStream(seed) with draw numbers 2^31 + k
/// (k the attempt), kept apart from the solvers' draws, so sample i depends on (seed, i) only.
/// `sde` must outlive the hooks. `base`: hooks to keep (a start state, a transform before this one).
SolveHooks replacement_hooks(const Sde& sde, Measurement measurement, uint64_t seed, SolveHooks base = {});

/// SDEdit: start at the grid's first time t0 < T (TimeGrid::start, set by the caller) from
/// x_t0 = alpha(t0) x + sigma(t0) z, x of shape [1, sample shape...] (one start for all) or
/// [N, sample shape...] (row i for sample i), z draw 0 of NoiseStream(seed) (a sampler's prior draw,
/// unused when it starts from a given state). t0 = T restarts from (almost) pure noise; small t0
/// keeps the input. Combine with replacement_hooks through `base`.
SolveHooks sdedit_hooks(const Sde& sde, const torch::Tensor& start, uint64_t seed, SolveHooks base = {});

}  // namespace sde
