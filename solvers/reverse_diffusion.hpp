// The reverse-diffusion predictor (Song et al. 2021, Sec. 4.2 and App. E): the forward
// discretisation x_t = a x_s + b z run backwards with the score.
#pragma once

#include "sde/solvers/predictor.hpp"

namespace sde {

/// With the exact forward transition x_t = a x_s + b z from s to t (Sde::transition; DDPM's
/// a = sqrt(1 - beta_i), b^2 = beta_i for VP, SMLD's a = 1, b^2 = sigma_t^2 - sigma_s^2 for VE),
/// the discrete reverse SDE step is
///   x <- x - [(a - 1) x - b^2 s(x, t)] + b z = (2 - a) x + b^2 s(x, t) + b z.
/// Works on every SDE. NFE = N (+1 with denoising).
class ReverseDiffusion final : public Predictor {
 public:
  std::string name() const override { return "reverse-diffusion"; }

  void step(ReverseSde& reverse, torch::Tensor& x, double t, double s,
            const torch::Tensor& z, StepMemory& memory) const override;
};

}  // namespace sde
