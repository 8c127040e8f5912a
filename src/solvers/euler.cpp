#include "sde/solvers/euler.hpp"
#include "sde/solvers/registration.hpp"

namespace sde {

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
