#include "sde/solvers/probability_flow.hpp"

#include "sde/errors.hpp"

namespace sde {

ProbabilityFlowSampler::ProbabilityFlowSampler(SamplerOptions options, OdeOptions ode)
    : Sampler(options), ode_(std::move(ode)) {
  ode_.validate();
}

namespace {

OdeRhs flow_of(ReverseSde& reverse) {
  return [&reverse](const torch::Tensor& x, torch::Tensor& dxdt, double t) {
    dxdt = reverse.probability_flow_drift(x, t);
  };
}

// Integrates the probability flow from t0 to t1 and packs the outcome as a SampleResult.
SampleResult flow(const Sde& sde, const ScoreModel& model, const torch::Tensor& x, double t0, double t1,
                  const OdeOptions& ode, const std::string& what) {
  check_score_inputs(model, x, torch::zeros({x.size(0)}, x.options()));
  SDE_CHECK(std::isfinite(t0) && std::isfinite(t1) && t0 > 0 && t1 > 0 && t0 <= sde.t_max() && t1 <= sde.t_max(),
            what, ": times must lie in (0, T]; got ", t0, " and ", t1);
  SDE_CHECK(all_finite(x), what, ": the input contains NaN or infinite values");
  ReverseSde reverse(sde, model);
  const OdeSolution solution = integrate_adaptive(flow_of(reverse), x, t0, t1, ode);
  SampleResult result;
  result.samples = solution.x;
  result.status = solution.status;
  if (!solution.ok()) result.message = what + ": " + solution.message;
  result.nfe = reverse.nfe();
  result.nfe_mean = double(result.nfe);
  return result;
}

}  // namespace

SampleResult ProbabilityFlowSampler::sample_batch(const Sde& sde, const ScoreModel& model,
                                                  SampleRange range) const {
  const SamplerOptions& opt = options();
  const auto tensor_options = torch::TensorOptions(opt.dtype).device(opt.device);
  const NoiseStream noise(opt.seed);
  ReverseSde reverse(sde, model);
  const torch::Tensor prior = sde.prior_sample(noise, range, model.sample_shape(), tensor_options);
  OdeOptions ode = ode_;
  ode.global_max = opt.global_max;
  const OdeSolution solution =
      ode.method == "rk4" ? integrate_fixed(flow_of(reverse), prior, make_time_grid(sde, opt.eps, opt.steps, opt.grid))
                          : integrate_adaptive(flow_of(reverse), prior, sde.t_max(), opt.eps, ode);
  SampleResult result;
  result.samples = solution.x;
  result.status = solution.status;
  if (!solution.ok()) result.message = name() + ": " + solution.message;
  if (result.ok() && opt.denoise) result.samples = reverse.denoise(result.samples, opt.eps);
  result.nfe = reverse.nfe();
  result.nfe_mean = double(result.nfe);
  return result;
}

SampleResult encode(const Sde& sde, const ScoreModel& model, const torch::Tensor& x, double eps,
                    const OdeOptions& ode) {
  return flow(sde, model, x, eps, sde.t_max(), ode, "encode");
}

SampleResult decode(const Sde& sde, const ScoreModel& model, const torch::Tensor& z, double eps,
                    const OdeOptions& ode) {
  return flow(sde, model, z, sde.t_max(), eps, ode, "decode");
}

}  // namespace sde
