#include "sde/solvers/euler_maruyama.hpp"

#include "sde/errors.hpp"
#include "sde/reverse_sde.hpp"

namespace sde {

SampleResult EulerMaruyama::sample_batch(const Sde& sde, const ScoreModel& model,
                                         SampleRange range) const {
  const SamplerOptions& opt = options();
  const auto tensor_options = torch::TensorOptions(opt.dtype).device(opt.device);
  const std::vector<int64_t> shape = model.sample_shape();
  const NoiseStream noise(opt.seed);
  ReverseSde reverse(sde, model);
  const double h = (sde.t_max() - opt.eps) / double(opt.steps);
  SampleResult result;
  torch::Tensor x = sde.prior_sample(noise, range, shape, tensor_options);
  for (int64_t k = 0; k < opt.steps; ++k) {
    const double t = uniform_time(sde.t_max(), opt.eps, opt.steps, k);
    reverse.euler_maruyama_step(x, t, h, noise.normal(range, shape, uint32_t(k + 1), tensor_options));
    if (!all_finite(x)) {
      result.status = SampleStatus::kNonFinite;
      result.message = detail::concat("em: the state became non-finite at step ", k + 1, " of ",
                                      opt.steps, " (t = ", t - h, ")");
      break;
    }
  }
  if (result.ok() && opt.denoise) x = reverse.denoise(x, opt.eps);
  result.samples = x;
  result.nfe = reverse.nfe();
  return result;
}

}  // namespace sde
