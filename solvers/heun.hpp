// Heun's second-order method on the probability-flow ODE in EDM's coordinates (Karras et al.
// 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", Alg. 1).
#pragma once

#include "sde/solvers/predictor.hpp"

namespace sde {

/// In x~ = x / alpha and sigma~ = sigma / alpha = exp(-lambda), every linear SDE's probability-flow
/// ODE is dx~/dsigma~ = (x~ - D(x~)) / sigma~ with D the data prediction x0_hat. One step from t
/// to s: d = (x~ - D_t) / sigma~_t, x~' = x~ + (sigma~_s - sigma~_t) d, d' = (x~' - D_s) / sigma~_s,
/// x~_s = x~ + (sigma~_s - sigma~_t) (d + d') / 2. Deterministic (EDM's churn is not offered yet),
/// order 2, two score calls per step. NFE = 2N (+1 with denoising).
class Heun final : public Predictor {
 public:
  std::string name() const override { return "heun"; }
  bool uses_noise() const override { return false; }
  void step(ReverseSde& reverse, torch::Tensor& x, double t, double s, const torch::Tensor& z,
            StepMemory& memory) const override;
};

}  // namespace sde
