// DDIM (Song, Meng & Ermon, ICLR 2021, eq. 12) for any linear SDE, in exponential-integrator form.
#pragma once

#include "sde/solvers/predictor.hpp"

namespace sde {

/// With x0_hat = (x + sigma_t^2 s(x, t)) / alpha_t, eps_hat = (x - alpha_t x0_hat) / sigma_t and
/// h = lambda_s - lambda_t (log-SNR step):
///   x_s = alpha_s x0_hat + sqrt(sigma_s^2 - c^2) eps_hat + c z,   c = eta sigma_s sqrt(1 - e^{-2h}).
/// eta = 0 is deterministic and equals first-order DPM-Solver (Lu et al. 2022) and DPM-Solver++;
/// eta = 1 equals the ancestral step (the posterior q(x_s | x_t, x0_hat)) on every SDE, which is
/// DDPM's step with the posterior variance for VP. Order 1. NFE = N (+1 with denoising).
class Ddim final : public Predictor {
 public:
  /// Throws unless 0 <= eta <= 1.
  explicit Ddim(double eta);
  std::string name() const override { return "ddim"; }
  bool uses_noise() const override { return eta_ > 0; }
  void step(ReverseSde& reverse, torch::Tensor& x, double t, double s, const torch::Tensor& z,
            StepMemory& memory) const override;

 private:
  double eta_;
};

}  // namespace sde
