// The reverse-diffusion predictor (Song et al. 2021, Sec. 4.2 and App. E): the forward
// discretisation x_t = a x_s + b z run backwards with the score.
#pragma once

#include "sde/solve/stepper.hpp"

namespace sde {

/// With the exact forward transition x_t = a x_s + b z from s to t (Sde::transition; DDPM's
/// a = sqrt(1 - beta_i), b^2 = beta_i for VP, SMLD's a = 1, b^2 = sigma_t^2 - sigma_s^2 for VE),
/// the discrete reverse SDE step is
///   x <- x - [(a - 1) x - b^2 s(x, t)] + b z = (2 - a) x + b^2 s(x, t) + b z.
/// Works on every SDE; one score call per step.
class ReverseDiffusion final : public Stepper {
 public:
  StepperTraits traits() const override { return {}; }
  StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState*) const override;
};

}  // namespace sde
