// DPM-Solver++(2S) (Lu et al. 2022, Alg. 1): second-order singlestep in data prediction.
#pragma once

#include "sde/solvers/stepper.hpp"

namespace sde {

/// One step from t to s, h = lambda_s - lambda_t, midpoint u with lambda_u = lambda_t + h / 2:
///   x_u = (sigma_u / sigma_t) x - alpha_u (e^{-h/2} - 1) D(x, t),
///   x_s = (sigma_s / sigma_t) x - alpha_s (e^{-h} - 1) D(x_u, u)
/// (with r = 1/2 the combination (1 - 1/(2r)) D_t + 1/(2r) D_u is D_u). Deterministic, order 2,
/// two score calls per step.
class DpmSolverPP2S final : public Stepper {
 public:
  StepperTraits traits() const override;
  StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState*) const override;
};

}  // namespace sde
