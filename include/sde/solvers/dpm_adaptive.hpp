// Adaptive DPM-Solver (Lu et al. 2022, "DPM-Solver", Sec. 3.4 and Alg. 4-5) in the data-prediction
// form of DPM-Solver++ (Lu et al. 2022b): DPM-Solver-12 and DPM-Solver-23 as embedded pairs.
#pragma once

#include "sde/solvers/stepper.hpp"

namespace sde {

/// Step variable u = lambda (log-SNR); a step from t to s has h = lambda_s - lambda_t > 0, and
/// with D the data prediction, phi_1 = expm1(-h), phi_2 = phi_1 / h + 1:
///   base   = (sigma_s / sigma_t) x - alpha_s phi_1 D_t                         (DPM-Solver-1)
///   x_r    = the same to lambda_t + r h;  D_r = D(x_r)
///   2S(r)  = base + (alpha_s phi_2 / r) (D_r - D_t)                            (order 2)
///   3S     = base + (alpha_s phi_2 / r2) (D_r2 - D_t), with x_r2 from x_r1's slope (order 3)
/// order 2: lower DPM-Solver-1, higher 2S(1/2) (2 calls). order 3: lower 2S(1/3), higher
/// 3S(1/3, 2/3) sharing x_{1/3} (3 calls). The error exponent is 1 / order.
/// The first stage is D_t, kept across a rejection. Per-sample times; under a fixed grid every
/// sample shares them.
class DpmAdaptivePair final : public Stepper {
 public:
  explicit DpmAdaptivePair(int order);
  StepperTraits traits() const override;
  torch::Tensor first_stage(const SolveProblem& problem, const torch::Tensor& x, const StepTimes& times) const override;
  StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState*) const override;

 private:
  int order_;
};

}  // namespace sde
