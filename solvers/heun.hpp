// Heun's second-order method on the probability-flow ODE in EDM's coordinates, with EDM's optional
// churn (Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models",
// Alg. 1 and 2).
#pragma once

#include <limits>

#include "sde/solve/stepper.hpp"

namespace sde {

/// EDM's stochasticity: at a step whose sigma~ lies in [s_tmin, s_tmax], first raise the noise
/// level to sigma^ = (1 + gamma) sigma~ with gamma = min(s_churn / N, sqrt(2) - 1) by adding
/// fresh noise of variance s_noise^2 (sigma^2 - sigma~^2). s_churn = 0 is the deterministic solver.
struct HeunChurn {
  double s_churn = 0;
  double s_tmin = 0;
  double s_tmax = std::numeric_limits<double>::infinity();
  double s_noise = 1;
  /// Throws sde::InvalidArgument naming the bad value.
  void validate() const;
};

/// In x~ = x / alpha and sigma~ = sigma / alpha = exp(-lambda), every linear SDE's probability-flow
/// ODE is dx~/dsigma~ = (x~ - D(x~)) / sigma~ with D the data prediction x0_hat. One step from t
/// to s: d = (x~ - D_t) / sigma~_t, x~' = x~ + (sigma~_s - sigma~_t) d, d' = (x~' - D_s) / sigma~_s,
/// x~_s = x~ + (sigma~_s - sigma~_t) (d + d') / 2. Order 2, two score calls per step. With churn,
/// the step starts from the raised level sigma^ at the time t^ that has it; t^ is capped at T (the
/// model is defined on [0, T] only, unlike EDM's networks), so the first step, which starts at T,
/// is never churned. Churn needs the grid's N (gamma = s_churn / N): a fixed grid only.
class Heun final : public Stepper {
 public:
  explicit Heun(HeunChurn churn = {});
  StepperTraits traits() const override;
  StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState*) const override;

 private:
  HeunChurn churn_;
};

}  // namespace sde
