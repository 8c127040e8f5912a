// DEIS (Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator", the
// tAB variant): an exponential integrator on the noise prediction with a polynomial extrapolation
// of its history. Registered as deis.

#include <algorithm>
#include <cmath>
#include <vector>

#include "exponential_integrator.hpp"
#include "gauss_legendre.hpp"
#include "sde/core/errors.hpp"
#include "sde/solve/registration.hpp"
#include "sde/solve/stepper.hpp"

namespace sde {

/// The variable the noise prediction is a polynomial in.
enum class DeisVariable {
  kTime,    ///< t itself: the paper's tAB-DEIS
  kLogRho,  ///< log(sigma / alpha) = -lambda: diffusers' "logrho" DEIS
};

struct DeisOptions {
  int64_t order = 3;               ///< polynomial degree + 1 (1-3); order 1 is DDIM
  DeisVariable variable = DeisVariable::kLogRho;  ///< better than the paper's t at 5-15 NFE on 5 of 7 suite problems
  int64_t lower_order_final = 10;  ///< lower-order final steps when N < this (0: never)
  /// Throws unless 1 <= order <= 3 and lower_order_final >= 0.
  void validate() const;
};

/// In x~ = x / alpha and rho = sigma / alpha = e^{-lambda} the probability-flow ODE is
/// dx~/drho = eps_hat(x, t), eps_hat = (x - alpha x0_hat) / sigma. With eps_hat replaced by the
/// Lagrange polynomial P through the newest q predictions (at times tau_j, in DeisVariable):
///   x_s = alpha_s (x_t / alpha_t + sum_j C_j eps_j),   C_j = int_{rho_t}^{rho_s} l_j(tau(rho)) d rho,
/// l_j the Lagrange basis. The C_j are integrated numerically (Gauss–Legendre, 16 nodes in lambda,
/// exact to double precision for these smooth integrands) as in the paper. Order q = min(order,
/// k + 1) at step k, at most N - k when N < lower_order_final. One call per step. Needs a finite
/// log-SNR at the start (x~ is infinite where alpha = 0).
struct EpsHistory {
  std::vector<torch::Tensor> eps;  ///< eps_hat at earlier grid times, newest last
  std::vector<double> tau;         ///< their times in the chosen variable
};

class Deis final : public StepperWith<EpsHistory> {
 public:
  explicit Deis(DeisOptions options);
  StepperTraits traits() const override;

 protected:
  EpsHistory init_state(const SolveProblem&, const torch::Tensor&) const override { return {}; }
  StepOutcome step_with(const SolveProblem& problem, const StepInput& in, EpsHistory& history) const override;

 private:
  DeisOptions options_;
};

namespace {

double tau_of(const Sde& sde, DeisVariable variable, double lambda) {
  return variable == DeisVariable::kTime ? sde.time_at_log_snr(lambda) : -lambda;
}

}  // namespace

void DeisOptions::validate() const {
  SDE_CHECK(order >= 1 && order <= 3, "deis: order = ", order, " must be 1, 2 or 3");
  SDE_CHECK(lower_order_final >= 0, "deis: lower_order_final = ", lower_order_final, " must be >= 0 (0: never)");
}

Deis::Deis(DeisOptions options) : options_(options) { options_.validate(); }

StepperTraits Deis::traits() const {
  StepperTraits traits;
  traits.order = int(options_.order);
  return traits;
}

StepOutcome Deis::step_with(const SolveProblem& problem, const StepInput& in, EpsHistory& history) const {
  const ReverseSde& reverse = problem.reverse();
  const Sde& sde = reverse.sde();
  const double t = in.times.t, s = in.times.s;
  const int64_t k = in.times.index, steps = in.times.steps;
  const double alpha_t = sde.alpha(t), sigma_t = sde.sigma(t), alpha_s = sde.alpha(s);
  const double lambda_t = sde.log_snr(t), lambda_s = sde.log_snr(s);
  const torch::Tensor d = reverse.denoise(in.x, t);
  torch::Tensor eps = (in.x - d * alpha_t).div_(sigma_t);
  history.eps.push_back(eps);
  history.tau.push_back(tau_of(sde, options_.variable, lambda_t));
  while (int64_t(history.eps.size()) > options_.order) {
    history.eps.erase(history.eps.begin());
    history.tau.erase(history.tau.begin());
  }
  const int64_t order =
      std::min<int64_t>(multistep_order(options_.order, k, steps, options_.lower_order_final), int64_t(history.eps.size()));
  const size_t first = history.eps.size() - size_t(order);  // the points used: [first, size)
  // C_j = int_{lambda_t}^{lambda_s} l_j(tau(lambda)) (-e^{-lambda}) d lambda: the basis is in tau, so
  // it is evaluated through tau(lambda) inside the weight (points in lambda would not do for tau = t).
  std::vector<double> taus(history.tau.begin() + std::ptrdiff_t(first), history.tau.end());
  std::vector<double> c(static_cast<size_t>(order));
  for (size_t j = 0; j < size_t(order); ++j)
    c[j] = detail::integrate(lambda_t, lambda_s, [&](double lambda) {
      return -std::exp(-lambda) * detail::lagrange_basis(taus, j, tau_of(sde, options_.variable, lambda));
    });
  torch::Tensor x = in.x;
  x.mul_(alpha_s / alpha_t);
  for (size_t j = 0; j < size_t(order); ++j) x.add_(history.eps[first + j], alpha_s * c[j]);
  return {x};
}

SolverEntry deis_solver() {
  using O = DeisOptions;
  return solver_entry<O>(
      "deis", "DEIS (tAB): exponential integrator on the noise prediction, polynomial history (Zhang & Chen 2023; 1 NFE per step)",
      {integer_option<O>("order", [](O& o) -> int64_t& { return o.order; }, "1-3; 1 is DDIM"),
       choice_option<O, DeisVariable>("variable", [](O& o) -> DeisVariable& { return o.variable; },
                                      {{"time", DeisVariable::kTime}, {"logrho", DeisVariable::kLogRho}},
                                      "the polynomial's variable: t (the paper's tAB) or log(sigma/alpha) (diffusers')"),
       lower_order_final_option<O>()},
      [](const std::string& name, const O& d) {
        return std::make_unique<StepperSampler>(name, std::make_unique<Deis>(d));
      });
}

}  // namespace sde
