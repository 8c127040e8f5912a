// Restart sampling (Xu, Deng, Tian, Zhang, Tegmark & Jaakkola 2023, "Restart Sampling for
// Improving Generative Processes", Alg. 1): a deterministic solve that, once it reaches a low
// noise level, jumps back up with fresh forward noise and solves down again, K times. Registered
// as restart.

#include <algorithm>
#include <cmath>

#include "heun.hpp"
#include "sde/core/errors.hpp"
#include "sde/core/time_grid.hpp"
#include "sde/solve/registration.hpp"
#include "sde/solve/stepper.hpp"

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

void RestartOptions::validate() const {
  SDE_CHECK(std::isfinite(sigma_min) && std::isfinite(sigma_max) && sigma_min > 0 && sigma_min < sigma_max,
            "restart: need 0 < sigma_min < sigma_max, got sigma_min = ", sigma_min, ", sigma_max = ", sigma_max,
            " (the paper's interval is [0.06, 0.30])");
  SDE_CHECK(restarts >= 0, "restart: restarts = ", restarts, " must be >= 0");
  SDE_CHECK(restart_steps >= 1, "restart: restart_steps = ", restart_steps, " must be >= 1");
}

Restart::Restart(RestartOptions options) : options_(options) { options_.validate(); }

StepperTraits Restart::traits() const {
  StepperTraits traits;
  traits.order = 2;
  traits.noise_draws = 1 + options_.restarts;
  return traits;
}

StepOutcome Restart::step(const SolveProblem& problem, const StepInput& in, StepperState*) const {
  const Sde& sde = problem.reverse().sde();
  torch::Tensor x = heun_.step(problem, in, nullptr).x;
  const double t = in.times.t, s = in.times.s;
  // sigma~ = e^{-lambda}: the restart happens after the step that crosses sigma_min.
  const double lambda_low = -std::log(options_.sigma_min), lambda_high = -std::log(options_.sigma_max);
  if (!(sde.log_snr(t) < lambda_low && sde.log_snr(s) >= lambda_low)) return {x};
  const double top = std::min(sde.t_max(), sde.time_at_log_snr(std::max(lambda_high, sde.log_snr(sde.t_max()))));
  if (top <= s) return {x};
  const Transition jump = sde.transition(s, top);
  // The Karras grid from `top` down to s.
  TimeGrid karras = TimeGrid::formula(TimeGridKind::kKarras, options_.restart_steps, s);
  karras.start = top;
  const std::vector<double> down = make_time_grid(sde, karras);
  for (int64_t j = 0; j < options_.restarts; ++j) {
    x.mul_(jump.mean_coef).add_(in.noise(1 + j), jump.std);
    for (size_t k = 0; k + 1 < down.size(); ++k) {
      StepInput inner{x, {}, {}, StepNoise()};
      inner.times.t = down[k];
      inner.times.s = down[k + 1];
      inner.times.index = int64_t(k);
      inner.times.steps = options_.restart_steps;
      x = heun_.step(problem, inner, nullptr).x;
    }
  }
  return {x};
}

SolverEntry restart_solver() {
  using O = RestartOptions;
  return solver_entry<O>(
      "restart", "Restart sampling: Heun with K forward-noise jumps back over the interval [restart_sigma_min, restart_sigma_max] (Xu et al. 2023)",
      {number_option<O>("restart_sigma_min", [](O& o) -> double& { return o.sigma_min; }, "restart interval's low end, in sigma/alpha"),
       number_option<O>("restart_sigma_max", [](O& o) -> double& { return o.sigma_max; }, "its high end"),
       integer_option<O>("restarts", [](O& o) -> int64_t& { return o.restarts; }, "K, the number of restarts"),
       integer_option<O>("restart_steps", [](O& o) -> int64_t& { return o.restart_steps; },
                         "Heun steps of each solve down the interval")},
      [](const std::string& name, const O& r) {
        return std::make_unique<StepperSampler>(name, std::make_unique<Restart>(r));
      });
}

}  // namespace sde
