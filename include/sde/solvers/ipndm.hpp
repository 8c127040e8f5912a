// iPNDM, the improved pseudo numerical method (Zhang & Chen 2023, "Fast Sampling of Diffusion
// Models with Exponential Integrator", App. on PNDM; Liu et al. 2022 for PNDM): Adams–Bashforth
// with the fixed-step coefficients on the slope of EDM's ODE, lower orders to start. Registered as ipndm.
#pragma once

#include <vector>

#include "sde/solvers/stepper.hpp"

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

}  // namespace sde
