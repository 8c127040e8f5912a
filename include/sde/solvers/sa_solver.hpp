// SA-Solver (Xue, Yi, Zhao, Li, Liu & Ma 2023, "SA-Solver: Stochastic Adams Solver for Fast
// Sampling of Diffusion Models", Alg. 1, data prediction): a stochastic Adams predictor and
// corrector on the variance-controlled reverse SDE. Registered as sa-solver.
#pragma once

#include "sde/solvers/exponential_integrator.hpp"
#include "sde/solvers/stepper.hpp"

namespace sde {

struct SaSolverOptions {
  double tau = 1.0;                ///< stochasticity: 0 the ODE, 1 the reverse SDE
  int64_t predictor_order = 3;     ///< Adams–Bashforth points of the predictor (1-4)
  int64_t corrector_order = 4;     ///< Adams–Moulton points of the corrector, the new one included (0: none, 1-4)
  int64_t lower_order_final = 10;  ///< lower-order final steps when N < this (0: never)
  /// Throws unless tau >= 0, 1 <= predictor_order <= 4, 0 <= corrector_order <= 4 and
  /// lower_order_final >= 0.
  void validate() const;
};

/// With eta = tau^2, h = lambda_s - lambda_t and the data prediction D(lambda) replaced by the
/// Lagrange polynomial through some of its values D_j at log-SNRs lambda_j:
///   x_s = (sigma_s / sigma_t) e^{-eta h} x_t + alpha_s sum_j b_j D_j + sigma_s sqrt(1 - e^{-2 eta h}) z,
///   b_j = int_{lambda_t}^{lambda_s} (1 + eta) e^{-(1 + eta)(lambda_s - lambda)} l_j(lambda) d lambda,
/// (the linear part and the noise exact; tau = 0 is the deterministic exponential Adams method,
/// and order 1 with tau = 1 is DDIM with eta = 1). The predictor uses the newest
/// predictor_order points up to t; at the next grid time the call that step needs anyway gives
/// D_s, and the corrector redoes the step with the corrector_order points up to s, with the same
/// z. The b_j are integrated numerically (16-node Gauss–Legendre; one point: in closed form).
/// Orders at step k: min(order, k + 1), and at most N - k when N < lower_order_final. A point at
/// log-SNR -inf (flow's T = 1) never enters a polynomial and its step is not corrected.
struct SaSolverState {
  DataHistory history;
  torch::Tensor previous_x, previous_noise;  ///< x at the previous grid time and that step's z
  double previous_t = 0;
};

class SaSolver final : public StepperWith<SaSolverState> {
 public:
  explicit SaSolver(SaSolverOptions options);
  StepperTraits traits() const override;

 protected:
  SaSolverState init_state(const SolveProblem&, const torch::Tensor&) const override { return {}; }
  StepOutcome step_with(const SolveProblem& problem, const StepInput& in, SaSolverState& state) const override;

 private:
  SaSolverOptions options_;
};

}  // namespace sde
