#include "heun.hpp"
#include "sde/solve/registration.hpp"

#include <algorithm>
#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {

void HeunChurn::validate() const {
  SDE_CHECK(std::isfinite(s_churn) && s_churn >= 0, "heun: s_churn = ", s_churn, " must be >= 0");
  SDE_CHECK(s_tmin >= 0 && s_tmin <= s_tmax, "heun: need 0 <= s_tmin <= s_tmax, got s_tmin = ", s_tmin,
            ", s_tmax = ", s_tmax);
  SDE_CHECK(std::isfinite(s_noise) && s_noise > 0, "heun: s_noise = ", s_noise, " must be > 0");
}

Heun::Heun(HeunChurn churn) : churn_(churn) { churn_.validate(); }

StepperTraits Heun::traits() const {
  StepperTraits traits;
  traits.order = 2;
  return traits;
}

StepOutcome Heun::step(const SolveProblem& problem, const StepInput& in, StepperState*) const {
  const ReverseSde& reverse = problem.reverse();
  const Sde& sde = reverse.sde();
  double t = in.times.t;
  const double s = in.times.s;
  torch::Tensor x = in.x;
  double alpha_t = sde.alpha(t), sig_t = sde.sigma(t) / alpha_t;  // sigma~
  if (churn_.s_churn > 0 && sig_t >= churn_.s_tmin && sig_t <= churn_.s_tmax) {
    const double gamma = std::min(churn_.s_churn / double(in.times.steps), std::sqrt(2.0) - 1.0);
    const double lambda_hat = std::max(-std::log(sig_t * (1 + gamma)), sde.log_snr(sde.t_max()));
    const double t_hat = sde.time_at_log_snr(lambda_hat);
    const double alpha_hat = sde.alpha(t_hat), sig_hat = sde.sigma(t_hat) / alpha_hat;
    // x~^ = x~ + s_noise sqrt(sigma^^2 - sigma~^2) z, written in x = alpha x~.
    const double extra = std::sqrt(std::max(sig_hat * sig_hat - sig_t * sig_t, 0.0));
    x.mul_(alpha_hat / alpha_t).add_(in.noise(), alpha_hat * churn_.s_noise * extra);
    t = t_hat, alpha_t = alpha_hat, sig_t = sig_hat;
  }
  const double alpha_s = sde.alpha(s), sig_s = sde.sigma(s) / alpha_s;
  const double delta = sig_s - sig_t;
  // Written back in x = alpha x~, the two stages are linear combinations of x and the data
  // predictions, so each is a few fused passes without temporaries:
  //   x' = alpha_s [(1 + delta / sig_t) x / alpha_t - (delta / sig_t) D_t]
  //   x_s = alpha_s [(1 + delta / (2 sig_t)) x / alpha_t - delta / (2 sig_t) D_t
  //                  + delta / (2 sig_s) x' / alpha_s - delta / (2 sig_s) D_s]
  const torch::Tensor d_t = reverse.denoise(x, t);
  const torch::Tensor x_euler = (x * (alpha_s * (1.0 + delta / sig_t) / alpha_t)).add_(d_t, -alpha_s * delta / sig_t);
  const torch::Tensor d_s = reverse.denoise(x_euler, s);
  const double half = 0.5 * delta;
  x.mul_(alpha_s * (1.0 + half / sig_t) / alpha_t)
      .add_(d_t, -alpha_s * half / sig_t)
      .add_(x_euler, half / sig_s)
      .add_(d_s, -alpha_s * half / sig_s);
  return {x};
}

SolverEntry heun_solver() {
  using H = HeunChurn;
  return solver_entry<H>(
      "heun", "Heun on the probability-flow ODE in EDM's coordinates (order 2, 2 NFE per step), EDM churn optional",
      {number_option<H>("s_churn", [](H& o) -> double& { return o.s_churn; }, "EDM churn; 0 = deterministic"),
       number_option<H>("s_tmin", [](H& o) -> double& { return o.s_tmin; }, "churn only where sigma/alpha >= s_tmin"),
       number_option<H>("s_tmax", [](H& o) -> double& { return o.s_tmax; }, "churn only where sigma/alpha <= s_tmax"),
       number_option<H>("s_noise", [](H& o) -> double& { return o.s_noise; }, "scale of the churn noise")},
      [](const std::string& name, const H& churn) {
        return std::make_unique<StepperSampler>(name, std::make_unique<Heun>(churn));
      });
}

}  // namespace sde
