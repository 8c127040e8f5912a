#include "sde/solvers/sde_adaptive.hpp"
#include "sde/solvers/registration.hpp"

namespace sde {
namespace {

// The stochastic Heun step: x' = x - h b(x,t) + g(t) sqrt(h) z, kept (x' + x - h b(x',s) + g(s) sqrt(h) z) / 2.
// Returns {x'', x'}.
StepOutcome stochastic_heun(const ReverseSde& reverse, const torch::Tensor& x, const torch::Tensor& b_t,
                            const torch::Tensor& t, const torch::Tensor& s, const torch::Tensor& z) {
  const Sde& sde = reverse.sde();
  const torch::Tensor h = t - s, root_h = h.sqrt(), minus_h = per_sample(-h, x);
  torch::Tensor euler = x.addcmul(minus_h, b_t).addcmul_(per_sample(sde.diffusion(t) * root_h, x), z);
  torch::Tensor heun = x.addcmul(minus_h, reverse.drift(euler, s))
                           .addcmul_(per_sample(sde.diffusion(s) * root_h, x), z)
                           .add_(euler)
                           .mul_(0.5);
  return {std::move(heun), std::move(euler)};
}

torch::Tensor times_of(const torch::Tensor& each, const torch::Tensor& x) { return each.to(x.device()); }

}  // namespace

StepperTraits SdeAdaptivePair::traits() const {
  StepperTraits traits;
  traits.error_estimate = traits.per_sample_times = traits.first_stage = true;
  traits.order = 2;
  traits.error_order = 1;
  return traits;
}

torch::Tensor SdeAdaptivePair::first_stage(const SolveProblem& problem, const torch::Tensor& x,
                                           const StepTimes& times) const {
  return problem.reverse().drift(x, times_of(times.t_rows(x.size(0)), x));
}

StepOutcome SdeAdaptivePair::step(const SolveProblem& problem, const StepInput& in, StepperState*) const {
  const ReverseSde& reverse = problem.reverse();
  const torch::Tensor& x = in.x;
  const torch::Tensor t = times_of(in.times.t_rows(x.size(0)), x), s = times_of(in.times.s_rows(x.size(0)), x);
  if (estimate_ == SdeErrorEstimate::kPaper) return stochastic_heun(reverse, x, in.first, t, s, in.noise());
  // The same pair on the noise-free path (z = 0).
  const torch::Tensor minus_h = per_sample(s - t, x);
  torch::Tensor euler = x.addcmul(minus_h, in.first);
  torch::Tensor heun = x.addcmul(minus_h, reverse.drift(euler, s)).add_(euler).mul_(0.5);
  return {std::move(heun), std::move(euler)};
}

torch::Tensor SdeAdaptivePair::finish(const SolveProblem& problem, const StepInput& in, const StepOutcome& outcome) const {
  if (estimate_ == SdeErrorEstimate::kPaper) return outcome.x;
  const torch::Tensor t = times_of(in.times.t_rows(in.x.size(0)), in.x), s = times_of(in.times.s_rows(in.x.size(0)), in.x);
  return stochastic_heun(problem.reverse(), in.x, in.first, t, s, in.noise()).x;
}

namespace {
struct SdeAdaptiveOptions {
  PerSampleStepOptions control;  // its defaults are this paper's (Jolicoeur-Martineau et al. 2021)
  SdeErrorEstimate estimate = SdeErrorEstimate::kDrift;
};
}  // namespace

SolverEntry sde_adaptive_solver() {
  using O = SdeAdaptiveOptions;
  auto fields = per_sample_control_fields<O>([](O& o) -> PerSampleStepOptions& { return o.control; }, "t");
  fields.push_back(number_option<O>("exponent", [](O& o) -> double& { return o.control.exponent; }, "r in h <- theta h E^(-r)"));
  fields.push_back(choice_option<O, SdeErrorEstimate>(
      "error_estimate", [](O& o) -> SdeErrorEstimate& { return o.estimate; },
      {{"drift", SdeErrorEstimate::kDrift}, {"paper", SdeErrorEstimate::kPaper}},
      "drift: acceptance independent of the noise; paper: the paper's noisy pair, biased, for reproduction"));
  return solver_entry<O>(
      "sde-adaptive", "adaptive EM / improved-Euler pair on the reverse SDE (Jolicoeur-Martineau et al. 2021); ignores --steps",
      fields, [](const std::string& name, const O& a) {
        SolverControl control;
        control.kind = SolverControl::Kind::kPerSampleSteps;
        control.per_sample = a.control;
        return std::make_unique<StepperSampler>(name, std::make_unique<SdeAdaptivePair>(a.estimate), control);
      },
      Steps::kAdaptive);
}

}  // namespace sde
