// DPM-Solver++(2S) (Lu et al. 2022, Alg. 1): second-order singlestep in data prediction.

#include "exponential_integrator.hpp"
#include "sde/solve/registration.hpp"
#include "sde/solve/stepper.hpp"

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
