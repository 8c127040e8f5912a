// Adaptive DPM-Solver (Lu et al. 2022, "DPM-Solver", Sec. 3.4 and Alg. 4-5) in the data-prediction
// form of DPM-Solver++ (Lu et al. 2022b): DPM-Solver-12 and DPM-Solver-23 as embedded pairs.

#include "sde/core/errors.hpp"
#include "sde/core/reverse_sde.hpp"
#include "sde/solve/registration.hpp"
#include "sde/solve/stepper.hpp"

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

DpmAdaptivePair::DpmAdaptivePair(int order) : order_(order) {
  SDE_CHECK(order == 2 || order == 3, "dpm-adaptive: order = ", order,
            " must be 2 (DPM-Solver-12) or 3 (DPM-Solver-23)");
}

StepperTraits DpmAdaptivePair::traits() const {
  StepperTraits traits;
  traits.error_estimate = traits.per_sample_times = traits.first_stage = true;
  traits.variable = StepVariable::kLogSnr;
  traits.order = order_;
  traits.error_order = order_ - 1;
  return traits;
}

torch::Tensor DpmAdaptivePair::first_stage(const SolveProblem& problem, const torch::Tensor& x,
                                           const StepTimes& times) const {
  return problem.reverse().denoise(x, times.t_rows(x.size(0)).to(x.device()));
}

StepOutcome DpmAdaptivePair::step(const SolveProblem& problem, const StepInput& in, StepperState*) const {
  const ReverseSde& reverse = problem.reverse();
  const Sde& sde = reverse.sde();
  const torch::Tensor& x = in.x;
  const torch::Tensor& d_t = in.first;
  const torch::Tensor t = in.times.t_rows(x.size(0)).to(x.device()), s = in.times.s_rows(x.size(0)).to(x.device());
  // alpha and sigma at each time the step visits, evaluated once: [B] each.
  struct Coefficients {
    torch::Tensor alpha, sigma;
  };
  auto at = [&sde](const torch::Tensor& time) { return Coefficients{sde.alpha(time), sde.sigma(time)}; };
  const Coefficients now = at(t), end = at(s);
  const torch::Tensor lambda_t = (now.alpha / now.sigma).log_(), h = (end.alpha / end.sigma).log_() - lambda_t;
  // The first-order step to log-SNR lambda_t + r h, whose time has coefficients c.
  auto first_order = [&](const Coefficients& c, const torch::Tensor& rh) {
    return (x * per_sample(c.sigma / now.sigma, x)).sub_(d_t * per_sample(c.alpha * torch::expm1(-rh), x));
  };
  const torch::Tensor phi_2 = torch::expm1(-h) / h + 1.0;
  const torch::Tensor slope_s = end.alpha * phi_2;  // weight of D' h at the end of the step
  const torch::Tensor base = first_order(end, h);
  const double r1 = order_ == 2 ? 0.5 : 1.0 / 3.0;
  const torch::Tensor t1 = sde.time_at_log_snr(lambda_t + h * r1);
  const torch::Tensor d1 = reverse.denoise(first_order(at(t1), h * r1), t1).sub_(d_t);  // D_r1 - D_t
  torch::Tensor second = base + d1 * per_sample(slope_s / r1, x);
  if (order_ == 2) return {std::move(second), base};

  const double r2 = 2.0 / 3.0;
  const torch::Tensor t2 = sde.time_at_log_snr(lambda_t + h * r2);
  const torch::Tensor phi_22 = torch::expm1(-h * r2) / (h * r2) + 1.0;
  const Coefficients c2 = at(t2);
  const torch::Tensor x2 = first_order(c2, h * r2).add_(d1 * per_sample(c2.alpha * phi_22 * (r2 / r1), x));
  torch::Tensor third = base + reverse.denoise(x2, t2).sub_(d_t).mul_(per_sample(slope_s / r2, x));
  return {std::move(third), std::move(second)};
}

namespace {
// DPM-Solver's own tolerances (Lu et al. 2022, Alg. 4-5, for data in [-1, 1]); the controller's
// other defaults as PerSampleStepOptions has them. The exponent is 1 / order, set when made.
PerSampleStepOptions dpm_control() {
  PerSampleStepOptions c;
  c.rtol = 0.05;
  c.h_init = 0.05;
  return c;
}

struct DpmAdaptiveOptions {
  int64_t order = 3;
  PerSampleStepOptions control = dpm_control();
};
}  // namespace

SolverEntry dpm_adaptive_solver() {
  using O = DpmAdaptiveOptions;
  auto fields = per_sample_control_fields<O>([](O& o) -> PerSampleStepOptions& { return o.control; }, "log-SNR");
  fields.insert(fields.begin(), integer_option<O>("order", [](O& o) -> int64_t& { return o.order; },
                                                  "2 (DPM-Solver-12) or 3 (DPM-Solver-23); the error exponent is 1/order"));
  return solver_entry<O>(
      "dpm-adaptive", "adaptive DPM-Solver-12/23 (data prediction), every sample with its own steps; ignores --steps",
      fields, [](const std::string& name, const O& a) {
        auto stepper = std::make_unique<DpmAdaptivePair>(int(a.order));
        SolverControl control;
        control.kind = SolverControl::Kind::kPerSampleSteps;
        control.per_sample = a.control;
        control.per_sample.exponent = 1.0 / double(a.order);
        return std::make_unique<StepperSampler>(name, std::move(stepper), control);
      },
      Steps::kAdaptive);
}

}  // namespace sde
