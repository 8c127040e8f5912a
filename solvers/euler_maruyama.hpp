// Euler–Maruyama on the reverse-time SDE (Song et al. 2021, Sec. 4.1; Kloeden & Platen 1992).
#pragma once

#include "sde/solvers/predictor.hpp"

namespace sde {

/// One step from t to s = t - h:
///   x <- x - [f(x, t) - g(t)^2 s(x, t)] h + g(t) sqrt(h) z.
/// Weak order 1. NFE = N (+1 with denoising).
class EulerMaruyama final : public Predictor {
 public:
  std::string name() const override { return "em"; }

  void step(ReverseSde& reverse, torch::Tensor& x, double t, double s,
            const torch::Tensor& z, StepMemory&) const override {
    reverse.euler_maruyama_step(x, t, t - s, z);
  }
};

}  // namespace sde
