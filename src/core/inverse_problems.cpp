#include "sde/core/inverse_problems.hpp"

#include <cmath>

#include "sde/core/errors.hpp"
#include "core/tensor_rows.hpp"
#include "sde/core/random.hpp"

namespace sde {

using detail::per_row;
namespace {

// Draw numbers of the replacement noise: far above any solver's (1 + k * draws + j).
constexpr uint32_t kMeasurementDraws = 1u << 31;

// `v` as [1 or N, sample shape...] in float64: a tensor of one sample's shape gets a batch dimension.
torch::Tensor per_sample_rows(const torch::Tensor& v, c10::IntArrayRef sample_shape, const char* what) {
  SDE_CHECK(v.defined(), what, " is missing");
  const torch::Tensor batched = v.dim() == int64_t(sample_shape.size()) ? v.unsqueeze(0) : v;
  SDE_CHECK(batched.dim() == int64_t(sample_shape.size()) + 1 && batched.sizes().slice(1) == sample_shape, what,
            " has shape ", v.sizes(), "; expected the shape of one sample ", sample_shape,
            " or [N, ", sample_shape, "...] (one per sample)");
  return batched.to(torch::kFloat64).contiguous();
}

// Rows of a per-request tensor for the samples of global indices `samples`.
torch::Tensor rows_of(const torch::Tensor& v, const torch::Tensor& samples, const torch::Tensor& like) {
  const int64_t n = samples.size(0);
  if (v.size(0) == 1) {
    std::vector<int64_t> shape = v.sizes().vec();
    shape[0] = n;
    return v.to(like.options()).expand(shape);
  }
  if (n > 0) {
    const int64_t last = samples.max().item<int64_t>();
    SDE_CHECK(last < v.size(0), "the measurement has ", v.size(0), " rows, one per sample, but sample ", last,
              " was asked for; give one row per sample of the request (or a single row for all)");
  }
  return v.index_select(0, samples.to(v.device())).to(like.options());
}

}  // namespace

Measurement mask_measurement(const torch::Tensor& known, const torch::Tensor& mask, c10::IntArrayRef sample_shape) {
  const torch::Tensor m = per_sample_rows(mask, sample_shape, "the mask");
  const torch::Tensor k = per_sample_rows(known, sample_shape, "the known values");
  SDE_CHECK(m.eq(0).logical_or(m.eq(1)).all().item<bool>(),
            "the mask must hold 1 (known) and 0 (to fill in) only; threshold it first");
  SDE_CHECK(m.size(0) == 1 || k.size(0) == 1 || m.size(0) == k.size(0), "the mask has ", m.size(0),
            " rows and the known values ", k.size(0), "; give one of them one row, or both one per sample");
  const torch::Tensor observed = torch::where(m.eq(1), k, torch::zeros_like(k));
  SDE_CHECK(torch::isfinite(observed).all().item<bool>(),
            "the known values have NaN or infinite entries where the mask is 1; check the data they came from");
  // One row count for both: the observation is per sample whenever either is.
  const torch::Tensor obs = observed.size(0) == 1 && m.size(0) > 1 ? observed.expand_as(m).contiguous() : observed;
  const torch::Tensor lifted = obs * (m.size(0) == obs.size(0) ? m : m.expand_as(obs));
  return {[m](const torch::Tensor& x, const torch::Tensor& samples) { return x * rows_of(m, samples, x); },
          [lifted](const torch::Tensor& samples) { return rows_of(lifted, samples, lifted); }};
}

Measurement channel_mean_measurement(const torch::Tensor& gray, c10::IntArrayRef sample_shape) {
  SDE_CHECK(sample_shape.size() == 3, "colorization needs image samples [C, H, W], got sample shape ", sample_shape);
  const int64_t channels = sample_shape[0];
  const std::vector<int64_t> gray_shape{1, sample_shape[1], sample_shape[2]};
  const torch::Tensor g = per_sample_rows(gray, gray_shape, "the grayscale image");
  SDE_CHECK(torch::isfinite(g).all().item<bool>(), "the grayscale image has NaN or infinite entries");
  const torch::Tensor lifted = g.expand({g.size(0), channels, sample_shape[1], sample_shape[2]}).contiguous();
  return {[](const torch::Tensor& x, const torch::Tensor&) { return x.mean(1, /*keepdim=*/true).expand_as(x); },
          [lifted](const torch::Tensor& samples) { return rows_of(lifted, samples, lifted); }};
}

SolveHooks replacement_hooks(const Sde& sde, Measurement measurement, uint64_t seed, SolveHooks base) {
  SDE_CHECK(measurement.project && measurement.observed, "a measurement needs its projection and its observation");
  const Sde* process = &sde;
  base.transform = [process, measurement, seed, previous = base.transform](torch::Tensor& x, const StepPosition& where) {
    if (previous) previous(x, where);
    const bool all = !where.rows.defined();
    const torch::Tensor rows = all ? torch::arange(x.size(0), torch::kInt64) : where.rows.to(torch::kInt64);
    const torch::Tensor samples = rows.cpu() + where.range.first;
    const torch::Tensor xr = all ? x : x.index_select(0, rows.to(x.device()));
    const torch::Tensor times = where.times.defined() ? where.times.to(torch::kFloat64)
                                                      : torch::full({rows.size(0)}, where.time, torch::kFloat64);
    const std::vector<int64_t> shape(x.sizes().begin() + 1, x.sizes().end());
    torch::Tensor z = NoiseStream(seed).normal(where.range, shape, kMeasurementDraws + uint32_t(where.index), x.options());
    if (!all) z = z.index_select(0, rows.to(x.device()));
    const torch::Tensor replaced = xr - measurement.project(xr, samples) +
                                   per_row(process->alpha(times), xr) * measurement.observed(samples).to(xr.options()) +
                                   per_row(process->sigma(times), xr) * measurement.project(z, samples);
    if (all) x.copy_(replaced);
    else x.index_copy_(0, rows.to(x.device()), replaced);
  };
  base.finish = [measurement, previous = base.finish](torch::Tensor& samples, SampleRange range) {
    if (previous) previous(samples, range);
    const torch::Tensor global = torch::arange(range.first, range.first + range.count, torch::kInt64);
    samples = samples - measurement.project(samples, global) + measurement.observed(global).to(samples.options());
  };
  return base;
}

SolveHooks sdedit_hooks(const Sde& sde, const torch::Tensor& start, uint64_t seed, SolveHooks base) {
  SDE_CHECK(start.defined() && start.dim() >= 1, "SDEdit: the start images are missing");
  SDE_CHECK(torch::isfinite(start).all().item<bool>(), "SDEdit: the start images have NaN or infinite entries");
  const torch::Tensor x = start.to(torch::kFloat64).contiguous();
  const Sde* process = &sde;
  base.start_state = [x, process, seed](SampleRange range, double t0) {
    const torch::Tensor global = torch::arange(range.first, range.first + range.count, torch::kInt64);
    const std::vector<int64_t> shape(x.sizes().begin() + 1, x.sizes().end());
    const torch::Tensor rows = rows_of(x, global, x);
    return process->alpha(t0) * rows + process->sigma(t0) * NoiseStream(seed).normal(range, shape, /*draw=*/0, torch::kFloat64);
  };
  return base;
}

}  // namespace sde
