#include "reverse_diffusion.hpp"
#include "sde/solve/registration.hpp"

namespace sde {

StepOutcome ReverseDiffusion::step(const SolveProblem& problem, const StepInput& in, StepperState*) const {
  const ReverseSde& reverse = problem.reverse();
  const Transition tr = reverse.sde().transition(in.times.s, in.times.t);
  const torch::Tensor score = reverse.score(in.x, in.times.t);
  torch::Tensor x = in.x;
  x.mul_(2.0 - tr.mean_coef).add_(score, tr.std * tr.std).add_(in.noise(), tr.std);
  return {x};
}

SolverEntry reverse_diffusion_solver() {
  return fixed_grid_solver<ReverseDiffusion>("reverse-diffusion",
                                             "the forward discretisation run backwards (Song et al. 2021, App. E)");
}

}  // namespace sde
