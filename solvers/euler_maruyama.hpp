// Euler–Maruyama on the reverse-time SDE (Song et al. 2021, Sec. 4.1; Kloeden & Platen 1992).
#pragma once

#include "sde/sampler.hpp"

namespace sde {

/// From x_T ~ prior, for k = 0..N-1 with t_k = T - k h, h = (T - eps) / N:
///   x <- x - [f(x, t_k) - g(t_k)^2 s(x, t_k)] h + g(t_k) sqrt(h) z_k,   z_k ~ N(0, I),
/// then, if options.denoise, the Tweedie step at eps. Weak order 1. NFE = N (+1 with denoising).
/// Noise: draw 0 is the prior, draw k + 1 the noise of step k.
class EulerMaruyama final : public Sampler {
 public:
  explicit EulerMaruyama(SamplerOptions options) : Sampler(options) {}
  std::string name() const override { return "em"; }

 protected:
  SampleResult sample_batch(const Sde& sde, const ScoreModel& model,
                            SampleRange range) const override;
};

}  // namespace sde
