#include "sde/solvers/repaint.hpp"

#include <cmath>

#include "sde/errors.hpp"
#include "sde/solvers/registry.hpp"
#include "sde/time_grid.hpp"

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

SampleResult repaint(const std::string& solver, const SamplerOptions& options, const SolverParams& params,
                     const Sde& sde, const ScoreModel& model, const Measurement& measurement,
                     const RePaintOptions& repaint, int64_t count, int64_t first_index) {
  repaint.validate();
  options.validate();
  SDE_CHECK(solver_info(solver).uses_time_grid, "RePaint resamples segments of a fixed grid; ", solver,
            " chooses its own steps: use a fixed-grid solver");
  const std::vector<double> grid = make_time_grid(sde, options.eps, options.steps, options.grid, options.hooks.start_time);
  const int64_t n = int64_t(grid.size()) - 1;
  const std::vector<int64_t> shape = model.sample_shape();
  torch::Tensor x;  // the current state of samples [first_index, first_index + count), at grid[a]
  SampleResult total;
  for (int64_t a = 0, segment = 0; a < n; a += repaint.jump_length, ++segment) {
    const int64_t b = std::min(n, a + repaint.jump_length);
    for (int64_t pass = 0; pass < repaint.resamplings; ++pass) {
      const uint64_t seed = derived_seed(options.seed, segment, pass);
      const bool last = b == n && pass + 1 == repaint.resamplings;
      if (pass > 0) {
        // Back from t_b to t_a by the forward process (x is at t_b after the previous pass).
        const double ratio = sde.alpha(grid[size_t(a)]) / sde.alpha(grid[size_t(b)]);
        const double sa = sde.sigma(grid[size_t(a)]), sb = sde.sigma(grid[size_t(b)]);
        const double spread = std::sqrt(std::max(0.0, sa * sa - ratio * ratio * sb * sb));
        x = x * ratio + NoiseStream(seed).normal({first_index, count}, shape, /*draw=*/0x7FFFFFFF, x.options()) * spread;
      }
      SamplerOptions part = options;
      part.seed = seed;
      part.steps = b - a;
      part.eps = grid[size_t(b)];
      part.denoise = last && options.denoise;
      part.hooks = replacement_hooks(sde, measurement, seed, options.hooks);
      part.hooks.start_time = grid[size_t(a)];
      if (x.defined()) {
        part.hooks.start_state = [&x, first_index](SampleRange range) { return x.narrow(0, range.first - first_index, range.count); };
      } else {
        part.hooks.start_state = nullptr;  // the first segment starts from the prior at grid[0]
        if (options.hooks.start_state) part.hooks.start_state = options.hooks.start_state;
      }
      if (!last) part.hooks.finish = nullptr;  // the observation goes back in exactly only at the end
      SampleResult result = make_sampler(solver, part, params)->sample(sde, model, count, first_index);
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
