// UniPC (Zhao, Bai, Rao, Zhou & Lu 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast
// Sampling of Diffusion Models", Alg. 2-3 in data prediction): registered as unipc.

#include <Eigen/LU>
#include <algorithm>
#include <cmath>

#include "exponential_integrator.hpp"
#include "sde/core/errors.hpp"
#include "sde/solve/registration.hpp"
#include "sde/solve/stepper.hpp"

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

namespace {

// One UniP or UniC update from (x, t) to s: x_s = (sigma_s / sigma_t) x - alpha_s (e^hh - 1) D_0
// - alpha_s B(h) sum_i w_i D1_i, with the D1_i = (D_i - D_0) / r_i of `points` (data, log-SNR),
// and, for the corrector, D_s as a last point at r = 1. The weights solve the system of the header.
torch::Tensor unipc_update(const Sde& sde, UniPcVariant variant, const torch::Tensor& x, double t, double s,
                           const torch::Tensor& d0, const std::vector<std::pair<torch::Tensor, double>>& points) {
  const double lambda_t = sde.log_snr(t), h = sde.log_snr(s) - lambda_t, hh = -h;
  const double alpha_s = sde.alpha(s), phi = std::expm1(hh);
  torch::Tensor out = x * (sde.sigma(s) / sde.sigma(t));
  out.add_(d0, -alpha_s * phi);
  const int64_t p = int64_t(points.size());  // the differences used
  if (p == 0) return out;
  const double b_h = variant == UniPcVariant::kBh1 ? hh : phi;
  // b_j = j! g_j / B(h), j = 1..p.
  Eigen::VectorXd b(p);
  double g = phi / hh - 1.0, factorial = 1.0;
  for (int64_t j = 1; j <= p; ++j) {
    b(j - 1) = g * factorial / b_h;
    factorial *= double(j + 1);
    g = g / hh - 1.0 / factorial;
  }
  std::vector<double> r(static_cast<size_t>(p));
  for (int64_t i = 0; i < p; ++i) r[size_t(i)] = (points[size_t(i)].second - lambda_t) / h;
  Eigen::VectorXd w(p);
  if (p == 1) {
    w(0) = 0.5;  // the papers' choice at the lowest order (the solve would give b_1 = 1/2 + O(h))
  } else {
    Eigen::MatrixXd rs(p, p);
    for (int64_t j = 0; j < p; ++j)
      for (int64_t i = 0; i < p; ++i) rs(j, i) = std::pow(r[size_t(i)], double(j));
    w = rs.partialPivLu().solve(b);
  }
  for (int64_t i = 0; i < p; ++i) out.add_(points[size_t(i)].first - d0, -alpha_s * b_h * w(i) / r[size_t(i)]);
  return out;
}

}  // namespace

void UniPcOptions::validate() const {
  SDE_CHECK(order >= 1 && order <= 3, "unipc: order = ", order, " must be 1, 2 or 3");
  SDE_CHECK(lower_order_final >= 0, "unipc: lower_order_final = ", lower_order_final, " must be >= 0 (0: never)");
}

UniPc::UniPc(UniPcOptions options) : options_(options) { options_.validate(); }

StepperTraits UniPc::traits() const {
  StepperTraits traits;
  traits.order = int(options_.order) + (options_.corrector ? 1 : 0);
  traits.zero_signal_start = true;
  return traits;
}

StepOutcome UniPc::step_with(const SolveProblem& problem, const StepInput& in, UniPcState& state) const {
  const ReverseSde& reverse = problem.reverse();
  const Sde& sde = reverse.sde();
  const double t = in.times.t, s = in.times.s;
  const int64_t k = in.times.index, steps = in.times.steps;
  const torch::Tensor d = reverse.denoise(in.x, t);
  DataHistory& history = state.history;
  // The usable older predictions, newest first: finite log-SNR only.
  const auto older = [&](size_t skip, int64_t count) {
    std::vector<std::pair<torch::Tensor, double>> points;
    for (size_t i = history.data.size() - skip; i-- > 0 && int64_t(points.size()) < count;)
      if (std::isfinite(history.log_snr[i])) points.push_back({history.data[i], history.log_snr[i]});
    return points;
  };
  torch::Tensor x = in.x;
  if (options_.corrector && state.previous_x.defined() && std::isfinite(history.log_snr.back())) {
    // UniC: the step previous_t -> t again, with D_t as the point at r = 1.
    auto points = older(1, state.previous_order - 1);
    points.push_back({d, sde.log_snr(t)});
    x = unipc_update(sde, options_.variant, state.previous_x, state.previous_t, t, history.data.back(), points);
  }
  const int64_t order = multistep_order(options_.order, k, steps, options_.lower_order_final);
  history.push(d, sde.log_snr(t), size_t(options_.order));
  const auto points = std::isfinite(sde.log_snr(t)) ? older(1, order - 1) : std::vector<std::pair<torch::Tensor, double>>{};
  state.previous_order = int64_t(points.size()) + 1;
  state.previous_t = t;
  state.previous_x = x;
  return {unipc_update(sde, options_.variant, x, t, s, d, points)};
}

SolverEntry unipc_solver() {
  using O = UniPcOptions;
  return solver_entry<O>(
      "unipc", "UniPC: multistep predictor UniP with the free corrector UniC (Zhao et al. 2023; order p + 1, 1 NFE per step)",
      {integer_option<O>("order", [](O& o) -> int64_t& { return o.order; }, "order p of the predictor, 1-3"),
       choice_option<O, UniPcVariant>("variant", [](O& o) -> UniPcVariant& { return o.variant; },
                                      {{"bh1", UniPcVariant::kBh1}, {"bh2", UniPcVariant::kBh2}}, "B(h) = h or e^h - 1"),
       choice_option<O, bool>("corrector", [](O& o) -> bool& { return o.corrector; }, {{"on", true}, {"off", false}},
                              "UniC after each step but the last"),
       lower_order_final_option<O>()},
      [](const std::string& name, const O& u) {
        return std::make_unique<StepperSampler>(name, std::make_unique<UniPc>(u));
      });
}

}  // namespace sde
