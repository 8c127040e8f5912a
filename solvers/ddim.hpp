// DDIM (Song, Meng & Ermon, ICLR 2021, eq. 12) for any linear SDE, in exponential-integrator form.
#pragma once

#include "sde/solve/stepper.hpp"

namespace sde {

/// With x0_hat = (x + sigma_t^2 s(x, t)) / alpha_t, eps_hat = (x - alpha_t x0_hat) / sigma_t and
/// h = lambda_s - lambda_t (log-SNR step):
///   x_s = alpha_s x0_hat + sqrt(sigma_s^2 - c^2) eps_hat + c z,   c = eta sigma_s sqrt(1 - e^{-2h}).
/// eta = 0 is deterministic and equals first-order DPM-Solver (Lu et al. 2022) and DPM-Solver++;
/// eta = 1 equals the ancestral step (the posterior q(x_s | x_t, x0_hat)) on every SDE, which is
/// DDPM's step with the posterior variance for VP. Order 1, one score call per step.
class Ddim final : public Stepper {
 public:
  /// Throws unless 0 <= eta <= 1.
  explicit Ddim(double eta);
  StepperTraits traits() const override {
    StepperTraits traits;
    traits.zero_signal_start = true;  // h = +inf from alpha = 0: c = eta sigma_s, x_s = alpha_s x0_hat + ...
    return traits;
  }
  StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState*) const override;

 private:
  double eta_;
};

}  // namespace sde
