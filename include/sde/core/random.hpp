// Counter-based random streams: every random number is a pure function of
// (seed, draw, sample index, element index), so sample i is the same whatever the batch
// size, the order of evaluation or the process that computes it (DESIGN principle 5).
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace sde {

/// A contiguous range of global sample indices [first, first + count).
struct SampleRange {
  int64_t first = 0;
  int64_t count = 0;
};

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) keyed by
/// the seed. Element j of sample i in draw d is number g = i * numel(sample_shape) + j of the
/// stream (seed, d): Philox block g / 4, word g % 4. Normals come from Box–Muller on word pairs
/// (0,1) and (2,3) with 24-bit uniforms, so |z| < 5.9 (a tail mass of 4e-9 is cut); they are
/// computed in float32 and converted to the requested dtype.
///
/// Draw numbers are the caller's bookkeeping: a solver uses draw 0 for the prior and draw k + 1
/// for the noise of step k, so no two uses share numbers.
class NoiseStream {
 public:
  explicit NoiseStream(uint64_t seed) : seed_(seed) {}

  uint64_t seed() const { return seed_; }

  /// Standard normals of shape [range.count, sample_shape...].
  torch::Tensor normal(SampleRange range, c10::IntArrayRef sample_shape, uint32_t draw,
                       const torch::TensorOptions& options = {}) const;

  /// Uniforms in (0, 1) of shape [range.count, sample_shape...], 32-bit resolution, in float64
  /// before conversion to the requested dtype.
  torch::Tensor uniform(SampleRange range, c10::IntArrayRef sample_shape, uint32_t draw,
                        const torch::TensorOptions& options = {}) const;

 private:
  uint64_t seed_;
};

}  // namespace sde
