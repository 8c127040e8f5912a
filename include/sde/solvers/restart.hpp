// Restart sampling (Xu, Deng, Tian, Zhang, Tegmark & Jaakkola 2023, "Restart Sampling for
// Improving Generative Processes", Alg. 1): a deterministic solve that, once it reaches a low
// noise level, jumps back up with fresh forward noise and solves down again, K times. Registered
// as restart.
#pragma once

#include "sde/solvers/heun.hpp"
#include "sde/solvers/stepper.hpp"

namespace sde {

struct RestartOptions {
  double sigma_min = 0.06;  ///< the restart interval [sigma_min, sigma_max] in sigma~ = sigma / alpha (options restart_sigma_min, _max)
  double sigma_max = 0.30;  ///< (the paper's CIFAR-10 interval)
  int64_t restarts = 2;     ///< K, the number of jumps back up
  int64_t restart_steps = 3;  ///< Heun steps of each solve down (Karras grid, rho 7)
  /// Throws unless 0 < sigma_min < sigma_max, restarts >= 0 and restart_steps >= 1.
  void validate() const;
};

/// The main solve is Heun on the probability-flow ODE (EDM's coordinates, heun.hpp) on the grid
/// given. At the first grid time s with sigma~(s) <= sigma_min (so after the step that crosses
/// it), K times: x <- the exact forward transition from s to t_max, the time of sigma~ = sigma_max,
///   x <- (alpha(t_max) / alpha(s)) x + sqrt(sigma(t_max)^2 - (alpha(t_max)/alpha(s))^2 sigma(s)^2) z,
/// then restart_steps Heun steps from t_max back to s on a Karras grid. The forward noise contracts
/// the accumulated error of the deterministic solve (the paper's Theorem 2) at 2 K restart_steps
/// extra calls. Noise: draw 1 + j for restart j. Nothing happens where the grid never crosses
/// sigma_min, or where the interval lies outside the process's (it is clipped to [eps, T]).
class Restart final : public Stepper {
 public:
  explicit Restart(RestartOptions options);
  StepperTraits traits() const override;
  StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState*) const override;

 private:
  RestartOptions options_;
  Heun heun_;
};

}  // namespace sde
