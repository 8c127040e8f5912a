#include "sde/solvers/dpmpp_2s.hpp"
#include "sde/solvers/registration.hpp"

#include "sde/solvers/exponential_integrator.hpp"

namespace sde {

StepperTraits DpmSolverPP2S::traits() const {
  StepperTraits traits;
  traits.order = 2;
  return traits;
}

StepOutcome DpmSolverPP2S::step(const SolveProblem& problem, const StepInput& in, StepperState*) const {
  const ReverseSde& reverse = problem.reverse();
  const Sde& sde = reverse.sde();
  const double t = in.times.t, s = in.times.s;
  const double lambda_t = sde.log_snr(t), h = sde.log_snr(s) - lambda_t;
  const double u = sde.time_at_log_snr(lambda_t + 0.5 * h);
  const torch::Tensor dt = reverse.denoise(in.x, t);
  torch::Tensor xu = in.x.clone();
  exponential_step(sde, t, u, 0.5 * h).first_order(xu, dt);
  const torch::Tensor du = reverse.denoise(xu, u);
  torch::Tensor x = in.x;
  return {exponential_step(sde, t, s, h).first_order(x, du)};
}

SolverEntry dpmpp_2s_solver() {
  return fixed_grid_solver<DpmSolverPP2S>("dpmpp-2s",
                                          "DPM-Solver++(2S): singlestep data prediction (order 2, 2 NFE per step)");
}

}  // namespace sde
