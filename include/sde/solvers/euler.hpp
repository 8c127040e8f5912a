// Euler's method on the probability-flow ODE: the sampler of flow matching / rectified flow
// (x_s = x + (s - t) u(x, t), u the velocity; Lipman et al. 2023, Liu et al. 2023).
#pragma once

#include "sde/solvers/stepper.hpp"

namespace sde {

/// x_s = x + (s - t) F(x, t), F = f x - 1/2 g^2 s the probability-flow drift (on the flow process
/// F = (x - x0_hat) / t, the velocity a flow network predicts; finite at t = 1). On the flow
/// process this is DDIM (eta = 0) in other arithmetic: (s/t) x + ((t - s)/t) x0_hat; on curved
/// processes it is not, and DDIM is then the better first-order method. Order 1, one call per step.
class Euler final : public Stepper {
 public:
  StepperTraits traits() const override;
  StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState*) const override;
};

}  // namespace sde
