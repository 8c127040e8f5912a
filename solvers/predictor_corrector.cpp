#include "sde/solvers/predictor_corrector.hpp"

#include "sde/errors.hpp"
#include "sde/reverse_sde.hpp"

namespace sde {

PredictorCorrector::PredictorCorrector(std::string name, SamplerOptions options,
                                       std::unique_ptr<Predictor> predictor,
                                       std::unique_ptr<Corrector> corrector)
    : Sampler(options),
      name_(std::move(name)),
      predictor_(std::move(predictor)),
      corrector_(std::move(corrector)) {
  SDE_CHECK(predictor_ != nullptr, name_, ": the predictor must not be null (use NoPredictor)");
}

SampleResult PredictorCorrector::sample_batch(const Sde& sde, const ScoreModel& model,
                                              SampleRange range) const {
  const SamplerOptions& opt = options();
  const auto tensor_options = torch::TensorOptions(opt.dtype).device(opt.device);
  const std::vector<int64_t> shape = model.sample_shape();
  const std::vector<double> t = make_time_grid(sde, opt.eps, opt.steps, opt.grid);
  const NoiseStream noise(opt.seed);
  const int64_t m = corrector_ ? corrector_->steps() : 0;
  auto normals = [&](int64_t draw) {
    return noise.normal(range, shape, uint32_t(draw), tensor_options);
  };
  ReverseSde reverse(sde, model);
  SampleResult result;
  torch::Tensor x = sde.prior_sample(noise, range, shape, tensor_options);
  StepMemory memory;
  memory.steps = opt.steps;
  for (int64_t k = 0; k < opt.steps; ++k) {
    memory.step = k;
    const int64_t first_draw = 1 + k * (m + 1);
    if (corrector_)
      corrector_->correct(reverse, x, t[k], t[k + 1], [&](int64_t j) { return normals(first_draw + j); });
    predictor_->step(reverse, x, t[k], t[k + 1],
                     predictor_->uses_noise() ? normals(first_draw + m) : torch::Tensor(), memory);
    if (!all_finite(x)) {
      result.status = SampleStatus::kNonFinite;
      result.message = detail::concat(name_, ": the state became non-finite at step ", k + 1,
                                      " of ", opt.steps, " (t = ", t[k + 1], ")");
      break;
    }
  }
  if (result.ok() && opt.denoise) x = reverse.denoise(x, opt.eps);
  result.samples = x;
  result.nfe = reverse.nfe();
  result.nfe_mean = double(result.nfe);
  return result;
}

}  // namespace sde
