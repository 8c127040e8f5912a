#include "euler_maruyama.hpp"
#include "sde/solve/registration.hpp"

namespace sde {

StepOutcome EulerMaruyama::step(const SolveProblem& problem, const StepInput& in, StepperState*) const {
  torch::Tensor x = in.x;
  problem.reverse().euler_maruyama_step(x, in.times.t, in.times.t - in.times.s, in.noise());
  return {x};
}

SolverEntry euler_maruyama_solver() {
  return fixed_grid_solver<EulerMaruyama>("em", "Euler–Maruyama on the reverse SDE (weak order 1)");
}

}  // namespace sde
