#include "sde/solvers/fixed_step_sampler.hpp"

#include "sde/errors.hpp"

namespace sde {

SampleResult FixedStepSampler::sample_batch(const Sde& sde, const ScoreModel& model,
                                            SampleRange range) const {
  const SamplerOptions& opt = options();
  const auto tensor_options = torch::TensorOptions(opt.dtype).device(opt.device);
  const std::vector<int64_t> shape = model.sample_shape();
  const std::vector<double> t = make_time_grid(sde, opt.eps, opt.steps, opt.grid);
  const NoiseStream noise(opt.seed);
  ReverseSde reverse(sde, model);
  SampleResult result;
  torch::Tensor x = sde.prior_sample(noise, range, shape, tensor_options);
  for (int64_t k = 0; k < opt.steps; ++k) {
    step(reverse, x, t[k], t[k + 1], noise.normal(range, shape, uint32_t(k + 1), tensor_options));
    if (!all_finite(x)) {
      result.status = SampleStatus::kNonFinite;
      result.message = detail::concat(name(), ": the state became non-finite at step ", k + 1,
                                      " of ", opt.steps, " (t = ", t[k + 1], ")");
      break;
    }
  }
  if (result.ok() && opt.denoise) x = reverse.denoise(x, opt.eps);
  result.samples = x;
  result.nfe = reverse.nfe();
  return result;
}

}  // namespace sde
