// DPM-Solver++ multistep, orders 2 and 3 (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided
// Sampling of Diffusion Probabilistic Models", Alg. 2 and App. B), and its SDE variants (ibid.,
// SDE-DPM-Solver++; k-diffusion's dpmpp_2m_sde / dpmpp_3m_sde): registered as dpmpp-2m,
// dpmpp-3m, dpmpp-2m-sde and dpmpp-3m-sde.

#include <algorithm>
#include <cmath>
#include <vector>

#include "exponential_integrator.hpp"
#include "sde/core/errors.hpp"
#include "sde/solve/registration.hpp"
#include "sde/solve/stepper.hpp"

namespace sde {

/// Exponential integrator in data prediction D = x0_hat. With h = lambda_s - lambda_t,
/// phi1 = e^{-h} - 1, phi2 = phi1 / h + 1, phi3 = phi2 / h - 1/2, and divided differences of the
/// stored predictions D_0 (at t, newest), D_1, D_2 with r0 = h_0 / h, r1 = h_1 / h:
///   order 1:  x_s = (sigma_s / sigma_t) x - alpha_s phi1 D_0                              (= DDIM)
///   order 2:  ... - 1/2 alpha_s phi1 D1_0,                  D1_0 = (D_0 - D_1) / r0
///   order 3:  ... - alpha_s phi1 D_0 + alpha_s phi2 D1 - c alpha_s phi3 D2, with
///             D1 = D1_0 + r0 / (r0 + r1) (D1_0 - D1_1), D2 = (D1_0 - D1_1) / (r0 + r1),
///             D1_1 = (D_1 - D_2) / r1.
/// The factor c on the D2 term (ThirdOrderTerm): D1 ~ h D' and D2 ~ h^2 D'' / 2, and the exact
/// integral of the second-order Taylor term is alpha_s (h^3 / 6) D'' = -2 alpha_s phi3 D2 + O(h^4),
/// so c = 2 is third order (measured 2.94); dpm-solver and diffusers use c = 1, which leaves a local
/// error O(h^3) (measured order 2.26) but extrapolates less at few steps, and is the better choice
/// at the budgets people use (docs/solvers.md has the table): c = 1 is the default.
/// SDE variant (eta > 0; 1 = the reverse SDE): with the same D(lambda) polynomial, the linear part
/// and the Gaussian increment are integrated exactly:
///   x_s = (sigma_s / sigma_t) e^{-eta h} x + [the terms above with every phi_k at (1 + eta) h]
///         + sigma_s sqrt(1 - e^{-2 eta h}) z,
/// (at eta = 1 and order 1 this is DDIM with eta = 1, the ancestral step). Noise: one draw per step.
/// The order at step k is min(order, k + 1) (warm-up), and for N < lower_order_final also at
/// most N - k (lower-order final steps, which stabilise few-step sampling). Deterministic, one
/// score call per step. What it remembers: the order - 1 newest data predictions at earlier grid
/// times (DataHistory).

/// The weight of the D2 term of the third-order step (see DpmSolverPPMultistep).
enum class ThirdOrderTerm {
  kReference,  ///< c = 1, as dpm-solver and diffusers (order 2.26 asymptotically; better at few steps)
  kTaylor,     ///< c = 2, the Taylor expansion's (order 2.94)
};

struct MultistepOptions {
  int order = 2;                 ///< 2 or 3
  int64_t lower_order_final = 10;  ///< lower-order final steps when N < this (dpm-solver: 10, diffusers: 15; 0: never)
  ThirdOrderTerm third_order = ThirdOrderTerm::kReference;
  double eta = 0;                ///< 0: the ODE solver; 1: the SDE solver (dpmpp-*m-sde)
  /// Throws unless order is 2 or 3, lower_order_final >= 0 and eta >= 0.
  void validate() const;
};

class DpmSolverPPMultistep final : public StepperWith<DataHistory> {
 public:
  explicit DpmSolverPPMultistep(MultistepOptions options);
  StepperTraits traits() const override;

 protected:
  DataHistory init_state(const SolveProblem&, const torch::Tensor&) const override { return {}; }
  StepOutcome step_with(const SolveProblem& problem, const StepInput& in, DataHistory& memory) const override;

 private:
  MultistepOptions options_;
};

void MultistepOptions::validate() const {
  SDE_CHECK(order == 2 || order == 3, "DPM-Solver++ multistep: order = ", order, " must be 2 or 3");
  SDE_CHECK(std::isfinite(eta) && eta >= 0, "DPM-Solver++ multistep: eta = ", eta,
            " must be >= 0 (0: the ODE solver; 1: the SDE solver of the reverse SDE)");
  SDE_CHECK(lower_order_final >= 0, "DPM-Solver++ multistep: lower_order_final = ", lower_order_final,
            " must be >= 0 (0: never; dpm-solver uses 10)");
}

DpmSolverPPMultistep::DpmSolverPPMultistep(MultistepOptions options) : options_(options) { options_.validate(); }

StepperTraits DpmSolverPPMultistep::traits() const {
  StepperTraits traits;
  traits.order = options_.order;
  traits.zero_signal_start = true;  // h = +inf: phi1 = -1, and the older predictions' weights r = inf vanish
  return traits;
}

StepOutcome DpmSolverPPMultistep::step_with(const SolveProblem& problem, const StepInput& in,
                                            DataHistory& memory) const {
  const ReverseSde& reverse = problem.reverse();
  const Sde& sde = reverse.sde();
  const double t = in.times.t, s = in.times.s;
  const int64_t k = in.times.index, steps = in.times.steps;
  const double lambda_t = sde.log_snr(t), h = sde.log_snr(s) - lambda_t;
  const int order_ = options_.order;
  const int64_t order = multistep_order(order_, k, steps, options_.lower_order_final);
  const torch::Tensor d0 = reverse.denoise(in.x, t);
  const ExponentialStep step = exponential_step(sde, t, s, h);
  // The SDE variant integrates with rate (1 + eta) in the log-SNR (see the header); eta = 0: as is.
  const double eta = options_.eta, ch = (1.0 + eta) * h;
  const double alpha_s = step.alpha_s, phi1 = eta == 0 ? step.phi1() : std::expm1(-ch);
  // Every order is x_s = (sigma_s / sigma_t) x + c0 D_0 + c1 D_1 + c2 D_2: the divided differences
  // are folded into scalar coefficients, so a step is one pass per term and no temporaries.
  double c0 = -alpha_s * phi1, c1 = 0, c2 = 0;
  const auto& lam = memory.log_snr;  // lam.back() belongs to D_1, lam[size - 2] to D_2
  if (order == 2) {
    const double r0 = (lambda_t - lam.back()) / h;  // D1_0 = (D_0 - D_1) / r0
    c0 += -0.5 * alpha_s * phi1 / r0;
    c1 = 0.5 * alpha_s * phi1 / r0;
  } else if (order == 3) {
    const double r0 = (lambda_t - lam.back()) / h, r1 = (lam.back() - lam[lam.size() - 2]) / h;
    const double phi2 = phi1 / ch + 1.0, phi3 = phi2 / ch - 0.5;
    // alpha phi2 D1 - c alpha phi3 D2 = u D1_0 - v D1_1 (c: see the header)
    const double c = options_.third_order == ThirdOrderTerm::kTaylor ? 2.0 : 1.0;
    const double a2 = alpha_s * phi2, b2 = -c * alpha_s * phi3, q = 1.0 / (r0 + r1);
    const double v = (a2 * r0 + b2) * q, u = a2 + v;
    c0 += u / r0;
    c1 = -u / r0 - v / r1;
    c2 = v / r1;
  }
  torch::Tensor x = in.x;
  x.mul_(eta == 0 ? step.sigma_ratio : step.sigma_ratio * std::exp(-eta * h)).add_(d0, c0);
  if (c1 != 0) x.add_(memory.data.back(), c1);
  if (c2 != 0) x.add_(memory.data[memory.data.size() - 2], c2);
  if (eta > 0) x.add_(in.noise(), sde.sigma(s) * std::sqrt(-std::expm1(-2.0 * eta * h)));
  memory.push(d0, lambda_t, size_t(order_ - 1));  // keep the order - 1 newest predictions
  return {x};
}

namespace {

// The SDE solvers' options: the same, with eta = 1 as the default.
struct SdeMultistepOptions : MultistepOptions {
  SdeMultistepOptions() { eta = 1.0; }
};

template <class O>
SolverEntry multistep_solver(int order, bool sde) {
  std::vector<OptionField<O>> fields = {lower_order_final_option<O>()};
  if (order == 3)
    fields.push_back(choice_option<O, ThirdOrderTerm>(
        "third_order", [](O& o) -> ThirdOrderTerm& { return o.third_order; },
        {{"reference", ThirdOrderTerm::kReference}, {"taylor", ThirdOrderTerm::kTaylor}},
        "weight 1 of dpm-solver on the D2 term, better at few steps; 2 of the Taylor expansion, order 3"));
  if (sde)
    fields.push_back(number_option<O>("eta", [](O& o) -> double& { return o.eta; },
                                      "noise: 1 the reverse SDE, 0 the ODE solver, between: partly stochastic"));
  const std::string name = detail::concat("dpmpp-", order, "m", sde ? "-sde" : "");
  const std::string summary =
      sde ? detail::concat("SDE-DPM-Solver++(", order, "M): the reverse SDE, its linear part and noise exact (1 NFE per step)")
          : order == 2 ? std::string("DPM-Solver++(2M): multistep data prediction (order 2, 1 NFE per step)")
                       : std::string("DPM-Solver++(3M): multistep data prediction (order 2 with dpm-solver's D2 weight, "
                                     "3 with taylor; 1 NFE per step)");
  return solver_entry<O>(name, summary, fields, [order](const std::string& n, const O& m) {
    MultistepOptions options = m;
    options.order = order;
    return std::make_unique<StepperSampler>(n, std::make_unique<DpmSolverPPMultistep>(options));
  });
}

}  // namespace

SolverEntry dpmpp_2m_solver() { return multistep_solver<MultistepOptions>(2, false); }
SolverEntry dpmpp_3m_solver() { return multistep_solver<MultistepOptions>(3, false); }
SolverEntry dpmpp_2m_sde_solver() { return multistep_solver<SdeMultistepOptions>(2, true); }
SolverEntry dpmpp_3m_sde_solver() { return multistep_solver<SdeMultistepOptions>(3, true); }

}  // namespace sde
