#include "sde/solve/stepper_sampler.hpp"

#include "sde/core/errors.hpp"
#include "solve/fixed_grid.hpp"
#include "solve/solve.hpp"

namespace sde {

StepperSampler::StepperSampler(std::string name, std::unique_ptr<Stepper> stepper, SolverControl control)
    : name_(std::move(name)), stepper_(std::move(stepper)), control_(std::move(control)) {
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

namespace {

// The controller of a solve from t0 to t1, and its times on a fixed grid.
std::unique_ptr<Controller> make_controller(const SolverControl& control, const Sde& sde, const SampleRequest& request,
                                            const std::vector<double>& grid) {
  switch (control.kind) {
    case SolverControl::Kind::kFixedGrid:
      return std::make_unique<FixedGrid>(grid);
    case SolverControl::Kind::kSharedSteps: {
      SharedStepOptions shared = control.shared;
      shared.global_max = request.global_max;
      return std::make_unique<SharedStepControl>(shared);
    }
    case SolverControl::Kind::kPerSampleSteps:
      return std::make_unique<PerSampleStepControl>(control.per_sample, &sde);
  }
  return nullptr;
}

}  // namespace

SampleResult StepperSampler::sample_batch(const Sde& sde, const ScoreModel& model, const SampleRequest& request,
                                          SampleRange range) const {
  if (request.observer.begin) request.observer.begin(range);
  const auto tensor_options = torch::TensorOptions(request.dtype).device(request.device);
  const std::vector<int64_t> shape = model.sample_shape();
  const NoiseStream noise(request.seed);
  const ReverseSde reverse(sde, model, request.condition.for_range(range));
  // Adaptive control needs only the end points; a formula grid gives them without its inner times.
  const bool fixed = control_.kind == SolverControl::Kind::kFixedGrid;
  const TimeGrid& grid_spec = request.grid;
  const std::vector<double> grid = fixed ? make_time_grid(sde, grid_spec) : std::vector<double>{};
  const double t0 = fixed ? grid.front() : grid_spec.start > 0 ? grid_spec.start : sde.t_max();
  const double t1 = fixed ? grid.back() : grid_spec.eps;
  SDE_CHECK(fixed || (t0 <= sde.t_max() && t1 < t0), name_, ": the solve from the start ", t0, " to eps = ", t1,
            " must run down within (0, T] = (0, ", sde.t_max(), "]");
  SDE_CHECK(sde.alpha(t0) != 0 || stepper_->traits().zero_signal_start, name_, ": the ", sde.name(),
            " process has alpha = 0 at the start t = ", t0, ", where its drift f and diffusion g are infinite (log-SNR "
            "-inf), and ", name_, " steps with them; use a solver in alpha/sigma form (ddim, euler, dpmpp-2m/3m(-sde), unipc, sa-solver, "
            "ode-*), or a process that ends below it (flow with t_max < 1, e.g. 0.999)");
  torch::Tensor x;
  if (request.hooks.start_state) {
    x = request.hooks.start_state(range, t0).to(tensor_options);
    std::vector<int64_t> expected{range.count};
    expected.insert(expected.end(), shape.begin(), shape.end());
    SDE_CHECK(x.sizes() == c10::IntArrayRef(expected), name_, ": the start state has shape ", x.sizes(),
              "; expected ", c10::IntArrayRef(expected));
  } else {
    x = sde.prior_sample(noise, range, shape, tensor_options);
  }
  const std::unique_ptr<Controller> controller = make_controller(control_, sde, request, grid);
  const SolveSetup setup{range, &noise, &request.hooks, &request.observer, &sde};
  SolveOutcome solved = solve(*stepper_, *controller, SolveProblem(reverse), x, t0, t1, setup);
  SampleResult result;
  result.samples = std::move(solved.x);
  result.status = solved.status;
  if (!solved.ok()) result.message = name_ + ": " + solved.message;
  result.nfe = solved.nfe;
  result.nfe_mean = solved.nfe_mean;
  if (result.ok() && request.denoise) {
    int64_t calls = 0;
    result.samples = reverse.on({}, [&calls] { ++calls; }).denoise(result.samples, t1);
    result.nfe += calls;
    result.nfe_mean += double(calls);
  }
  if (result.ok() && request.hooks.finish) request.hooks.finish(result.samples, range);
  result.accepted_steps = solved.accepted;
  result.rejected_steps = solved.rejected;
  return result;
}

}  // namespace sde
