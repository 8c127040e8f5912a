#include "sde/sampler.hpp"

#include <c10/core/InferenceMode.h>

#include <cmath>
#include <vector>

#include "sde/errors.hpp"
#include "sde/memory_limits.hpp"

namespace sde {

void SamplerOptions::validate() const {
  SDE_CHECK(steps >= 1, "sampler option steps = ", steps, " must be >= 1");
  SDE_CHECK(std::isfinite(eps) && eps > 0, "sampler option eps = ", eps,
            " must be finite and > 0 (the usual value is 1e-3)");
  SDE_CHECK(batch_size >= 0, "sampler option batch_size = ", batch_size,
            " must be >= 0 (0 means all samples in one batch)");
  grid.validate();
  SDE_CHECK(dtype == torch::kFloat32 || dtype == torch::kFloat64, "sampler option dtype = ", dtype,
            " must be float32 or float64");
}

Sampler::Sampler(SamplerOptions options) : options_(options) { options_.validate(); }

SampleResult Sampler::sample(const Sde& sde, const ScoreModel& model, int64_t count,
                             int64_t first_index) const {
  SDE_CHECK(count >= 0 && first_index >= 0, name(), ": count = ", count, " and first_index = ",
            first_index, " must be >= 0");
  SDE_CHECK(options_.eps < sde.t_max(), name(), ": eps = ", options_.eps,
            " must be smaller than the SDE's end time T = ", sde.t_max());
  const int64_t batch = options_.batch_size > 0 ? options_.batch_size : std::max<int64_t>(count, 1);
  // The samples are kept, and a batch needs a few states of its size (x, the score, the noise):
  // refused up front rather than by the allocator hours later.
  double entries = 1;
  for (const int64_t n : model.sample_shape()) entries *= double(n);
  const double element = double(c10::elementSize(options_.dtype));
  check_fits_in_memory((double(count) + 4.0 * double(std::min(batch, count))) * entries * element,
                       detail::concat(count, " samples of shape ", c10::IntArrayRef(model.sample_shape())),
                       "draw fewer samples (and a smaller batch)");
  std::vector<torch::Tensor> parts;
  SampleResult merged;
  // Sampling never differentiates: no autograd graph, version counters or view tracking for any
  // tensor of the solve, whatever the score model's parameters ask for.
  c10::InferenceMode inference;
  for (int64_t start = 0; start < count; start += batch) {
    const SampleRange range{first_index + start, std::min(batch, count - start)};
    SampleResult part = sample_batch(sde, model, range);
    merged.nfe = std::max(merged.nfe, part.nfe);
    const double share = double(range.count) / double(count);
    merged.nfe_mean += part.nfe_mean * share;
    merged.accepted_steps += part.accepted_steps * share;
    merged.rejected_steps += part.rejected_steps * share;
    parts.push_back(std::move(part.samples));
    if (!part.ok()) {
      merged.status = part.status;
      merged.message = detail::concat(part.message, " (batch of samples [", range.first, ", ",
                                      range.first + range.count, "))");
      break;
    }
  }
  if (parts.empty()) {
    std::vector<int64_t> shape{0};
    const auto sample_shape = model.sample_shape();
    shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
    merged.samples = torch::empty(shape, torch::TensorOptions(options_.dtype).device(options_.device));
  } else {
    merged.samples = parts.size() == 1 ? parts[0] : torch::cat(parts, 0);
  }
  // The samples leave as an ordinary tensor: an inference tensor refuses in-place updates and
  // autograd outside InferenceMode. One copy of the output, against steps x the batch.
  c10::InferenceMode normal(false);
  merged.samples = merged.samples.clone();
  return merged;
}

bool all_finite(const torch::Tensor& x) { return std::isfinite(x.sum().item<double>()); }

}  // namespace sde
