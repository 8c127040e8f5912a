// Euler–Maruyama on the reverse-time SDE (Song et al. 2021, Sec. 4.1; Kloeden & Platen 1992).
#pragma once

#include "sde/solve/stepper.hpp"

namespace sde {

/// One step from t to s = t - h:
///   x <- x - [f(x, t) - g(t)^2 s(x, t)] h + g(t) sqrt(h) z.
/// Weak order 1, one score call per step.
class EulerMaruyama final : public Stepper {
 public:
  StepperTraits traits() const override { return {}; }
  StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState*) const override;
};

}  // namespace sde
