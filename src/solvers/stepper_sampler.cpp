#include "sde/solvers/stepper_sampler.hpp"

#include "sde/errors.hpp"
#include "sde/solvers/fixed_grid.hpp"
#include "sde/solvers/solve.hpp"

namespace sde {

StepperSampler::StepperSampler(std::string name, SamplerOptions options, std::unique_ptr<Stepper> stepper,
                               SolverControl control)
    : Sampler(std::move(options)), name_(std::move(name)), stepper_(std::move(stepper)), control_(std::move(control)) {
  SDE_CHECK(stepper_ != nullptr, name_, ": the stepper must not be null");
  const StepperTraits traits = stepper_->traits();
  if (control_.kind == SolverControl::Kind::kSharedSteps) SharedStepControl(control_.shared).check(name_, traits);
  if (control_.kind == SolverControl::Kind::kPerSampleSteps)
    PerSampleStepControl(control_.per_sample, nullptr).check(name_, traits);
}

BatchCoupling StepperSampler::batch_coupling() const {
  if (stepper_->traits().batch_statistics) return BatchCoupling::kStatistics;
  return control_.kind == SolverControl::Kind::kSharedSteps ? BatchCoupling::kStepControl : BatchCoupling::kNone;
}

SampleResult StepperSampler::sample_batch(const Sde& sde, const ScoreModel& model, SampleRange range) const {
  const SamplerOptions& opt = options();
  const SolveHooks& hooks = opt.hooks;
  if (hooks.begin) hooks.begin(range);
  const auto tensor_options = torch::TensorOptions(opt.dtype).device(opt.device);
  const std::vector<int64_t> shape = model.sample_shape();
  const NoiseStream noise(opt.seed);
  ReverseSde reverse(sde, model);
  reverse.condition_on(opt.condition.for_range(range));
  const double t0 = hooks.start_time > 0 ? hooks.start_time : sde.t_max();
  SDE_CHECK(sde.alpha(t0) != 0 || stepper_->traits().zero_signal_start, name_, ": the ", sde.name(),
            " process has alpha = 0 at the start t = ", t0, ", where its drift f and diffusion g are infinite (log-SNR "
            "-inf), and ", name_, " steps with them; use a solver in alpha/sigma form (ddim, euler, dpmpp-2m/3m(-sde), unipc, sa-solver, "
            "ode-*), or a process that ends below it (flow with t_max < 1, e.g. 0.999)");
  torch::Tensor x;
  if (hooks.start_state) {
    x = hooks.start_state(range).to(tensor_options);
    std::vector<int64_t> expected{range.count};
    expected.insert(expected.end(), shape.begin(), shape.end());
    SDE_CHECK(x.sizes() == c10::IntArrayRef(expected), name_, ": the start state has shape ", x.sizes(),
              "; expected ", c10::IntArrayRef(expected));
  } else {
    x = sde.prior_sample(noise, range, shape, tensor_options);
  }
  std::unique_ptr<Controller> controller;
  switch (control_.kind) {
    case SolverControl::Kind::kFixedGrid:
      controller = std::make_unique<FixedGrid>(make_time_grid(sde, opt.eps, opt.steps, opt.grid, t0));
      break;
    case SolverControl::Kind::kSharedSteps: {
      SharedStepOptions shared = control_.shared;
      shared.global_max = opt.global_max;
      controller = std::make_unique<SharedStepControl>(shared);
      break;
    }
    case SolverControl::Kind::kPerSampleSteps:
      controller = std::make_unique<PerSampleStepControl>(control_.per_sample, &sde);
      break;
  }
  const SolveSetup setup{range, &noise, &hooks, &sde};
  SolveOutcome solved = solve(*stepper_, *controller, SolveProblem(reverse), x, t0, opt.eps, setup);
  SampleResult result;
  result.samples = std::move(solved.x);
  result.status = solved.status;
  if (!solved.ok()) result.message = name_ + ": " + solved.message;
  result.nfe_mean = solved.calls_mean;
  if (result.ok() && opt.denoise) {
    reverse.focus({});
    result.samples = reverse.denoise(result.samples, opt.eps);
    result.nfe_mean += 1;
  }
  if (result.ok() && hooks.finish) hooks.finish(result.samples, range);
  result.nfe = reverse.nfe();
  result.accepted_steps = solved.accepted;
  result.rejected_steps = solved.rejected;
  return result;
}

}  // namespace sde
