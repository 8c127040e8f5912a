// UniPC (Zhao, Bai, Rao, Zhou & Lu 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast
// Sampling of Diffusion Models", Alg. 2-3 in data prediction): registered as unipc.
#pragma once

#include "sde/solvers/exponential_integrator.hpp"
#include "sde/solvers/stepper.hpp"

namespace sde {

/// B(h) of the UniPC update: bh1 is B(h) = h, bh2 is B(h) = e^h - 1 (in data prediction, with
/// the step -h in their notation).
enum class UniPcVariant { kBh1, kBh2 };

struct UniPcOptions {
  int64_t order = 3;               ///< of the predictor UniP (1-3); UniC raises it by one
  UniPcVariant variant = UniPcVariant::kBh2;
  bool corrector = true;           ///< UniC after every step but the last (costs no model call)
  int64_t lower_order_final = 10;  ///< lower-order final steps when N < this (0: never)
  /// Throws unless 1 <= order <= 3 and lower_order_final >= 0.
  void validate() const;
};

/// With h = lambda_s - lambda_t, hh = -h, D_0 = x0_hat(x_t) and older predictions D_i at log-SNRs
/// lambda_i, r_i = (lambda_i - lambda_t) / h, D1_i = (D_i - D_0) / r_i:
///   UniP-p:  x_s = (sigma_s / sigma_t) x_t - alpha_s (e^hh - 1) D_0 - alpha_s B(h) sum_i a_i D1_i,
/// a solving sum_i r_i^(j-1) a_i = b_j (j < p), b_j = j! g_j(hh) / B(h), g_1 = (e^hh - 1)/hh - 1,
/// g_(j+1) = g_j / hh - 1/(j+1)! (a = 1/2 at p = 2). At the next grid time s, the model call that
/// the next step needs anyway gives D_s, and UniC-p redoes the step with it as one more point
/// (r = 1, the full p x p system; c = 1/2 at p = 1): order p + 1 for free. The order is
/// min(order, k + 1) at step k (warm-up) and at most N - k when N < lower_order_final.
/// A prediction at log-SNR -inf (flow's T = 1) carries no slope: it never enters a difference, and
/// the step from there is not corrected (B(h) = h is infinite there). What it remembers: the
/// newest `order` predictions, and x and the order of the step before (for UniC).
struct UniPcState {
  DataHistory history;
  torch::Tensor previous_x;  ///< x at the previous grid time (after its correction), undefined at first
  double previous_t = 0;
  int64_t previous_order = 0;
};

class UniPc final : public StepperWith<UniPcState> {
 public:
  explicit UniPc(UniPcOptions options);
  StepperTraits traits() const override;

 protected:
  UniPcState init_state(const SolveProblem&, const torch::Tensor&) const override { return {}; }
  StepOutcome step_with(const SolveProblem& problem, const StepInput& in, UniPcState& state) const override;

 private:
  UniPcOptions options_;
};

}  // namespace sde
