#include "sde/solve/repaint.hpp"

#include <cmath>

#include "sde/core/errors.hpp"
#include "sde/core/time_grid.hpp"

namespace sde {
namespace {

// A seed for pass `pass` of segment `segment`, from the run's seed (splitmix64's finaliser).
uint64_t derived_seed(uint64_t seed, int64_t segment, int64_t pass) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (uint64_t(segment) * 1000003ull + uint64_t(pass) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

void RePaintOptions::validate() const {
  SDE_CHECK(jump_length >= 1, "RePaint: jump_length = ", jump_length, " must be >= 1 grid step");
  SDE_CHECK(resamplings >= 1, "RePaint: resamplings = ", resamplings, " must be >= 1 (1 = plain replacement)");
}

SampleResult repaint(const Sampler& sampler, const Sde& sde, const ScoreModel& model, const SampleRequest& request,
                     const Measurement& measurement, const RePaintOptions& repaint) {
  repaint.validate();
  request.validate();
  SDE_CHECK(sampler.uses_time_grid(), "RePaint resamples segments of a fixed grid; ", sampler.name(),
            " chooses its own steps: use a fixed-grid solver");
  const int64_t n = request.grid.step_count(), count = request.sample_count(), first = request.first;
  const std::vector<int64_t> shape = model.sample_shape();
  const std::vector<double> grid = make_time_grid(sde, request.grid);
  torch::Tensor x;  // the current state of samples [first, first + count), at grid[a]
  SampleResult total;
  for (int64_t a = 0, segment = 0; a < n; a += repaint.jump_length, ++segment) {
    const int64_t b = std::min(n, a + repaint.jump_length);
    const TimeGrid slice = request.grid.slice(sde, a, b);  // exactly the grid's own times t_a..t_b
    for (int64_t pass = 0; pass < repaint.resamplings; ++pass) {
      const uint64_t seed = derived_seed(request.seed, segment, pass);
      const bool last = b == n && pass + 1 == repaint.resamplings;
      if (pass > 0) {
        // Back from t_b to t_a by the forward process (x is at t_b after the previous pass).
        const double ratio = sde.alpha(grid[size_t(a)]) / sde.alpha(grid[size_t(b)]);
        const double sa = sde.sigma(grid[size_t(a)]), sb = sde.sigma(grid[size_t(b)]);
        const double spread = std::sqrt(std::max(0.0, sa * sa - ratio * ratio * sb * sb));
        x = x * ratio + NoiseStream(seed).normal({first, count}, shape, /*draw=*/0x7FFFFFFF, x.options()) * spread;
      }
      SampleRequest part = request;
      part.count = count;
      part.seed = seed;
      part.grid = slice;
      part.denoise = last && request.denoise;
      part.hooks = replacement_hooks(sde, measurement, seed, request.hooks);
      if (x.defined()) {  // the first segment starts where the request does
        part.latents = x;
        part.hooks.start_state = nullptr;
      }
      if (!last) part.hooks.finish = nullptr;  // the observation goes back in exactly only at the end
      SampleResult result = sampler.sample(sde, model, part);
      total.nfe += result.nfe;
      total.nfe_mean += result.nfe_mean;
      total.accepted_steps += result.accepted_steps;
      total.rejected_steps += result.rejected_steps;
      x = result.samples;
      if (!result.ok()) {
        total.status = result.status;
        total.message = detail::concat("RePaint segment [", grid[size_t(a)], ", ", grid[size_t(b)], "], pass ", pass + 1,
                                       ": ", result.message);
        total.samples = x;
        return total;
      }
    }
  }
  total.samples = x;
  return total;
}

}  // namespace sde
