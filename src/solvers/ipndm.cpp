#include "sde/solvers/ipndm.hpp"
#include "sde/solvers/registration.hpp"

#include <algorithm>

#include "sde/errors.hpp"
#include "sde/solvers/exponential_integrator.hpp"

namespace sde {
namespace {

// Adams–Bashforth coefficients of equal steps, orders 1-4, newest slope first.
const std::vector<std::vector<double>>& adams_bashforth() {
  static const std::vector<std::vector<double>> c = {
      {1.0}, {1.5, -0.5}, {23.0 / 12, -16.0 / 12, 5.0 / 12}, {55.0 / 24, -59.0 / 24, 37.0 / 24, -9.0 / 24}};
  return c;
}

}  // namespace

void IpndmOptions::validate() const {
  SDE_CHECK(order >= 1 && order <= 4, "ipndm: order = ", order, " must be 1-4");
  SDE_CHECK(lower_order_final >= 0, "ipndm: lower_order_final = ", lower_order_final, " must be >= 0 (0: never)");
}

Ipndm::Ipndm(IpndmOptions options) : options_(options) { options_.validate(); }

StepperTraits Ipndm::traits() const {
  StepperTraits traits;
  traits.order = int(options_.order);
  return traits;
}

StepOutcome Ipndm::step_with(const SolveProblem& problem, const StepInput& in, SlopeHistory& history) const {
  const ReverseSde& reverse = problem.reverse();
  const Sde& sde = reverse.sde();
  const double t = in.times.t, s = in.times.s;
  const int64_t k = in.times.index, steps = in.times.steps;
  const double alpha_t = sde.alpha(t), alpha_s = sde.alpha(s);
  const double rho_t = sde.sigma(t) / alpha_t, rho_s = sde.sigma(s) / alpha_s;
  // d = (x~ - D) / rho = (x / alpha_t - D) / rho_t.
  const torch::Tensor d = reverse.denoise(in.x, t).mul_(-1.0 / rho_t).add_(in.x, 1.0 / (alpha_t * rho_t));
  history.slopes.push_back(d);
  if (int64_t(history.slopes.size()) > options_.order) history.slopes.erase(history.slopes.begin());
  const int64_t order = std::min<int64_t>(multistep_order(options_.order, k, steps, options_.lower_order_final),
                                         int64_t(history.slopes.size()));
  const std::vector<double>& c = adams_bashforth()[size_t(order - 1)];
  torch::Tensor x = in.x;
  x.mul_(alpha_s / alpha_t);
  for (size_t j = 0; j < c.size(); ++j) x.add_(history.slopes[history.slopes.size() - 1 - j], alpha_s * (rho_s - rho_t) * c[j]);
  return {x};
}

SolverEntry ipndm_solver() {
  using O = IpndmOptions;
  return solver_entry<O>(
      "ipndm", "iPNDM: Adams–Bashforth with equal-step coefficients on EDM's slope, lower orders to start (1 NFE per step)",
      {integer_option<O>("order", [](O& o) -> int64_t& { return o.order; }, "1-4"),
       lower_order_final_option<O>()},
      [](const std::string& name, const O& p) {
        return std::make_unique<StepperSampler>(name, std::make_unique<Ipndm>(p));
      });
}

}  // namespace sde
