// Ancestral sampling (DDPM, Ho et al. 2020, eq. 11; SMLD's ancestral sampler, Song et al. 2021,
// App. F): sample the forward process's posterior q(x_s | x_t, x_0) with x_0 from Tweedie.
#pragma once

#include "sde/solve/stepper.hpp"

namespace sde {

/// With the forward transition x_t = a x_s + b z (Sde::transition) and x_0 estimated by Tweedie,
/// the posterior q(x_s | x_t, x_0) has
///   mean = (x + b^2 s(x, t)) / a,     std = sigma(s) b / sigma(t).
/// For VP this is DDPM's step with the posterior variance beta~ = (1 - abar_{i-1})/(1 - abar_i) beta_i
/// (the reference code uses beta_i; both are Ho et al.'s choices and agree as N grows); for VE
/// it is SMLD's ancestral step exactly; sub-VP is supported by the same formula. One score call
/// per step.
class Ancestral final : public Stepper {
 public:
  StepperTraits traits() const override { return {}; }
  StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState*) const override;
};

}  // namespace sde
