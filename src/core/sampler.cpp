#include "sde/core/sampler.hpp"

#include <c10/core/InferenceMode.h>

#include <cmath>
#include <vector>

#include "sde/core/errors.hpp"
#include "core/memory_limits.hpp"

namespace sde {

int64_t SampleRequest::sample_count() const {
  return count == 0 && latents.defined() ? latents.size(0) : count;
}

void SampleRequest::validate() const {
  SDE_CHECK(count >= 0 && first >= 0, "sample request: count = ", count, " and first = ", first, " must be >= 0");
  SDE_CHECK(batch_size >= 0, "sample request: batch_size = ", batch_size,
            " must be >= 0 (0 means all samples in one batch)");
  grid.validate();
  SDE_CHECK(dtype == torch::kFloat32 || dtype == torch::kFloat64, "sample request: dtype = ", dtype,
            " must be float32 or float64");
  if (latents.defined()) {
    SDE_CHECK(latents.dim() >= 1 && (count == 0 || count == latents.size(0)), "sample request: count = ", count,
              " but ", latents.dim() >= 1 ? latents.size(0) : 0, " latents: give count 0 (one sample per latent) or equal");
    SDE_CHECK(!hooks.start_state, "sample request: latents and hooks.start_state both set where sampling starts; give one");
  }
}

namespace {

// The request a batch sees: the latents become the start state (rows by global index).
SampleRequest with_start_state(const SampleRequest& request, const std::vector<int64_t>& shape) {
  SampleRequest r = request;
  if (!request.latents.defined()) return r;
  std::vector<int64_t> expected{request.latents.size(0)};
  expected.insert(expected.end(), shape.begin(), shape.end());
  SDE_CHECK(request.latents.sizes() == c10::IntArrayRef(expected), "sample request: latents of shape ",
            request.latents.sizes(), "; the model's samples need ", c10::IntArrayRef(expected));
  const torch::Tensor latents = request.latents;
  const int64_t first = request.first;
  r.hooks.start_state = [latents, first](SampleRange range, double) {
    return latents.narrow(0, range.first - first, range.count);
  };
  r.count = request.sample_count();
  r.latents = torch::Tensor();
  return r;
}

}  // namespace

SampleResult Sampler::sample(const Sde& sde, const ScoreModel& model, const SampleRequest& given) const {
  given.validate();
  SDE_CHECK(uses_time_grid() || !given.grid.is_explicit(), name(), " chooses its own steps, so it cannot step on the ",
            TimeGrid::name(given.grid.kind), " given; give a formula grid's eps (and start), or a fixed-grid solver");
  SDE_CHECK(given.grid.is_explicit() || given.grid.eps < sde.t_max(), name(), ": eps = ", given.grid.eps,
            " must be smaller than the SDE's end time T = ", sde.t_max());
  const SampleRequest request = with_start_state(given, model.sample_shape());
  const int64_t count = request.sample_count();
  const int64_t batch = request.batch_size > 0 ? request.batch_size : std::max<int64_t>(count, 1);
  // The samples are kept, and a batch needs a few states of its size (x, the score, the noise):
  // refused up front rather than by the allocator hours later.
  double entries = 1;
  for (const int64_t n : model.sample_shape()) entries *= double(n);
  const double element = double(c10::elementSize(request.dtype));
  check_fits_in_memory((double(count) + 4.0 * double(std::min(batch, count))) * entries * element,
                       detail::concat(count, " samples of shape ", c10::IntArrayRef(model.sample_shape())),
                       "draw fewer samples (and a smaller batch)");
  std::vector<torch::Tensor> parts;
  SampleResult merged;
  // Sampling never differentiates: no autograd graph, version counters or view tracking for any
  // tensor of the solve, whatever the score model's parameters ask for.
  c10::InferenceMode inference;
  for (int64_t start = 0; start < count; start += batch) {
    const SampleRange range{request.first + start, std::min(batch, count - start)};
    SampleResult part = sample_batch(sde, model, request, range);
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
    merged.samples = torch::empty(shape, torch::TensorOptions(request.dtype).device(request.device));
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
