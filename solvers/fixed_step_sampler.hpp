// The loop every fixed-step reverse-time predictor shares: prior, time grid, noise draws,
// finiteness check, last-step denoising. A predictor only says how one step goes.
#pragma once

#include "sde/reverse_sde.hpp"
#include "sde/sampler.hpp"

namespace sde {

/// From x_{t_0} ~ prior, for k = 0..N-1 on the grid of options().grid: x <- step(x, t_k, t_{k+1}, z_k),
/// z_k the normals of draw k + 1; then Tweedie at eps if options().denoise. Non-finite states stop
/// the loop with the step and time in the message.
class FixedStepSampler : public Sampler {
 protected:
  using Sampler::Sampler;

  /// One reverse step from t down to s < t, in place; z ~ N(0, I) has x's shape.
  virtual void step(ReverseSde& reverse, torch::Tensor& x, double t, double s,
                    const torch::Tensor& z) const = 0;

  SampleResult sample_batch(const Sde& sde, const ScoreModel& model,
                            SampleRange range) const final;
};

}  // namespace sde
