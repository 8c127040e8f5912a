#include "ancestral.hpp"
#include "sde/solve/registration.hpp"

namespace sde {

StepOutcome Ancestral::step(const SolveProblem& problem, const StepInput& in, StepperState*) const {
  const ReverseSde& reverse = problem.reverse();
  const Sde& sde = reverse.sde();
  const double t = in.times.t, s = in.times.s;
  const Transition tr = sde.transition(s, t);
  const torch::Tensor score = reverse.score(in.x, t);
  const double noise_std = sde.sigma(s) * tr.std / sde.sigma(t);
  torch::Tensor x = in.x;
  x.add_(score, tr.std * tr.std).div_(tr.mean_coef).add_(in.noise(), noise_std);
  return {x};
}

SolverEntry ancestral_solver() {
  return fixed_grid_solver<Ancestral>("ancestral", "posterior q(x_s | x_t, Tweedie x_0): DDPM for VP, SMLD for VE");
}

}  // namespace sde
