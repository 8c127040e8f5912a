#include "ddim.hpp"
#include "sde/solve/registration.hpp"

#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {

Ddim::Ddim(double eta) : eta_(eta) {
  SDE_CHECK(std::isfinite(eta) && eta >= 0 && eta <= 1, "ddim: eta = ", eta,
            " must lie in [0, 1] (0: deterministic DDIM, 1: ancestral)");
}

StepOutcome Ddim::step(const SolveProblem& problem, const StepInput& in, StepperState*) const {
  const ReverseSde& reverse = problem.reverse();
  const Sde& sde = reverse.sde();
  const double t = in.times.t, s = in.times.s;
  const double alpha_t = sde.alpha(t), sigma_t = sde.sigma(t);
  const double alpha_s = sde.alpha(s), sigma_s = sde.sigma(s);
  const double h = sde.log_snr(s) - sde.log_snr(t);
  const double c = eta_ * sigma_s * std::sqrt(-std::expm1(-2.0 * h));
  const double keep = std::sqrt(std::max(sigma_s * sigma_s - c * c, 0.0));
  const torch::Tensor x0 = reverse.denoise(in.x, t);
  // x_s = alpha_s x0 + keep (x - alpha_t x0) / sigma_t + c z
  torch::Tensor x = in.x;
  x.mul_(keep / sigma_t).add_(x0, alpha_s - keep * alpha_t / sigma_t);
  if (c > 0) x.add_(in.noise(), c);
  return {x};
}

namespace {
struct DdimOptions {
  double eta = 0;
};
}  // namespace

SolverEntry ddim_solver() {
  return solver_entry<DdimOptions>(
      "ddim", "DDIM in exponential-integrator form; eta = 0 deterministic, 1 ancestral (order 1)",
      {number_option<DdimOptions>("eta", [](DdimOptions& o) -> double& { return o.eta; }, "stochasticity in [0, 1]")},
      [](const std::string& name, const DdimOptions& d) {
        return std::make_unique<StepperSampler>(name, std::make_unique<Ddim>(d.eta));
      });
}

}  // namespace sde
