// iPNDM, the improved pseudo numerical method (Zhang & Chen 2023, "Fast Sampling of Diffusion
// Models with Exponential Integrator", App. on PNDM; Liu et al. 2022 for PNDM): Adams–Bashforth
// with the fixed-step coefficients on the slope of EDM's ODE, lower orders to start. Registered as ipndm.

#include <algorithm>
#include <vector>

#include "exponential_integrator.hpp"
#include "sde/core/errors.hpp"
#include "sde/solve/registration.hpp"
#include "sde/solve/stepper.hpp"

namespace sde {

/// In EDM's coordinates x~ = x / alpha and rho = sigma / alpha, the probability-flow ODE is
/// dx~/drho = d(x, t) = (x~ - x0_hat) / rho, the slope that the data prediction gives. With the
/// newest slopes d_0 (now), d_1, d_2, d_3:
///   x~_s = x~_t + (rho_s - rho_t) [ d_0 ]                                       (first step)
///                                  [ (3 d_0 - d_1) / 2 ]                        (second)
///                                  [ (23 d_0 - 16 d_1 + 5 d_2) / 12 ]           (third)
///                                  [ (55 d_0 - 59 d_1 + 37 d_2 - 9 d_3) / 24 ]  (then)
/// The coefficients are those of equal steps whatever the grid (that is the "improved" PNDM: no
/// Runge–Kutta warm-up, one call per step); order `order` (1-4) at most, and the last steps at
/// most N - k when N < lower_order_final. Needs alpha > 0 at the start.
struct SlopeHistory {
  std::vector<torch::Tensor> slopes;  ///< d at earlier grid times, newest last
};

struct IpndmOptions {
  int64_t order = 4;
  int64_t lower_order_final = 0;  ///< as in the reference implementations: off
  /// Throws unless 1 <= order <= 4 and lower_order_final >= 0.
  void validate() const;
};

class Ipndm final : public StepperWith<SlopeHistory> {
 public:
  explicit Ipndm(IpndmOptions options);
  StepperTraits traits() const override;

 protected:
  SlopeHistory init_state(const SolveProblem&, const torch::Tensor&) const override { return {}; }
  StepOutcome step_with(const SolveProblem& problem, const StepInput& in, SlopeHistory& history) const override;

 private:
  IpndmOptions options_;
};

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
