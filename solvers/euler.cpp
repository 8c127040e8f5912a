// Euler's method on the probability-flow ODE: the sampler of flow matching / rectified flow
// (x_s = x + (s - t) u(x, t), u the velocity; Lipman et al. 2023, Liu et al. 2023).

#include "sde/solve/registration.hpp"
#include "sde/solve/stepper.hpp"

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

StepperTraits Euler::traits() const {
  StepperTraits traits;
  traits.zero_signal_start = true;  // the probability-flow drift is finite at alpha = 0 (ReverseSde)
  return traits;
}

StepOutcome Euler::step(const SolveProblem& problem, const StepInput& in, StepperState*) const {
  torch::Tensor dxdt;
  problem.field(in.x, dxdt, in.times.t);
  torch::Tensor x = in.x;
  return {x.add_(dxdt, in.times.s - in.times.t)};
}

SolverEntry euler_solver() {
  return fixed_grid_solver<Euler>("euler", "Euler on the probability-flow ODE: flow matching's sampler (order 1)");
}

}  // namespace sde
