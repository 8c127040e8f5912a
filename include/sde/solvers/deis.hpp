// DEIS (Zhang & Chen 2023, "Fast Sampling of Diffusion Models with Exponential Integrator", the
// tAB variant): an exponential integrator on the noise prediction with a polynomial extrapolation
// of its history. Registered as deis.
#pragma once

#include <vector>

#include "sde/solvers/stepper.hpp"

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

}  // namespace sde
