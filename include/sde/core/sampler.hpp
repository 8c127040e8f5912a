// The sampling API shared by every reverse-time solver. A sampler is settings: its method and the
// method's options, fixed when it is made (by name from the registry, sde/solve/registry.hpp).
// A run is a request: how many samples (or which latents), their first global index, the seed, the
// time grid, the condition, the hooks and an observer, passed to Sampler::sample.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "sde/core/condition.hpp"
#include "sde/core/forward_sde.hpp"
#include "sde/core/random.hpp"
#include "sde/core/solve_hooks.hpp"
#include "sde/core/score_model.hpp"
#include "sde/core/time_grid.hpp"

namespace sde {

/// One run of a sampler: everything that may change from one run to the next.
struct SampleRequest {
  /// How many samples: those of global indices [first, first + count). With latents, 0 means one
  /// per latent (and any other count must equal their number).
  int64_t count = 0;
  /// The global index of the first sample. Sample i depends on (seed, i) only, so a run with
  /// first = 37, count = 1 re-renders sample 37 of any larger run (solvers with BatchCoupling::kNone).
  int64_t first = 0;
  uint64_t seed = 0;  ///< key of every random number (prior and noise)
  /// Where a fixed-step solver steps (a formula, or explicit times or sigmas); adaptive solvers
  /// take its end points (eps and the start) and refuse explicit values.
  TimeGrid grid;
  bool denoise = true;  ///< a last Tweedie step x0_hat = (x + sigma^2 s) / alpha at the end (+1 NFE)
  /// The states to start from, [count, sample shape...] at the grid's first time (row j is sample
  /// first + j); undefined: the prior's draws. Excludes hooks.start_state.
  torch::Tensor latents;
  /// Samples per batch; 0 = all at once. Memory: a network keeps its activations for the whole
  /// batch (about 2 MB per 28x28 image for the shipped U-Net). Results: the same at any batch for
  /// exact scores and per-sample solvers; a network's samples move by float32 rounding, and those
  /// of solvers with one step size per batch (ode-dopri5) within the tolerance (docs/conventions.md).
  int64_t batch_size = 0;
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  /// What the samples are conditioned on (sde/core/condition.hpp): one row for all samples, or row i
  /// for the sample of global index i. Empty: unconditional. The model must take it
  /// (ScoreModel::num_classes(), takes_condition_values()); guidance is a score-model wrapper
  /// (sde/core/guidance.hpp).
  Condition condition;
  SolveHooks hooks;        ///< a start state, a per-step transform, a last touch (sde/core/solve_hooks.hpp)
  SolveObserver observer;  ///< progress, trajectories
  /// Set by sde::sample_distributed when one batch is split over several processes: the largest of
  /// a value over all of them. Solvers whose steps depend on the whole batch
  /// (BatchCoupling::kStepControl) pass their error norms through it, so every process takes the
  /// steps the whole batch would. Empty: one process.
  std::function<double(double)> global_max;

  /// count, or the number of latents when count is 0.
  int64_t sample_count() const;
  /// Throws sde::InvalidArgument naming the bad value and the fix.
  void validate() const;
};

/// How a sampler's run ended.
enum class SolveStatus {
  kSuccess,
  kNonFinite,     ///< the state became NaN or infinite; message names the step and time
  kStepLimit,     ///< an adaptive solver used up its step budget before reaching eps
  kStepTooSmall,  ///< an adaptive solver's step fell below the time resolution (a point far out, a stiff model)
};

/// How a sample depends on the other samples of its batch.
enum class BatchCoupling {
  kNone,         ///< sample i depends on (seed, i) only
  kStepControl,  ///< adaptive steps shared by the batch through an error norm (the ODE solvers)
  kStatistics,   ///< batch means enter the update (pc with batch-mean Langevin steps)
};

/// What a sampler returns.
struct SampleResult {
  torch::Tensor samples;      ///< [count, sample_shape...]
  int64_t nfe = 0;            ///< batched score-model calls (the largest over the batches)
  /// Score evaluations per sample, averaged over the samples: equal to nfe for fixed-step
  /// solvers; smaller for adaptive ones, whose samples finish after different numbers of steps.
  double nfe_mean = 0;
  double accepted_steps = 0;  ///< steps per sample (mean over the samples; N on a fixed grid)
  double rejected_steps = 0;  ///< attempts the step-size controller rejected, per sample (mean)
  SolveStatus status = SolveStatus::kSuccess;
  std::string message;        ///< empty on success; otherwise where and why it stopped
  bool ok() const { return status == SolveStatus::kSuccess; }
};

/// A reverse-time solver. Subclasses implement one batch; the batching, the checks on the request
/// and the merging of results are here, so every solver is batch-invariant as long as it draws its
/// noise from `NoiseStream(request.seed)` by (sample index, draw).
class Sampler {
 public:
  virtual ~Sampler() = default;
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  virtual std::string name() const = 0;
  /// kNone unless the solver couples the samples of a batch (see BatchCoupling).
  virtual BatchCoupling batch_coupling() const { return BatchCoupling::kNone; }
  /// Whether it steps on the request's grid (false: it chooses its own steps between its end points).
  virtual bool uses_time_grid() const { return true; }

  /// Runs `request`. Throws on a bad request (sde::InvalidArgument naming the value); a numerical
  /// failure is reported in the result's status.
  SampleResult sample(const Sde& sde, const ScoreModel& model, const SampleRequest& request) const;

 protected:
  Sampler() = default;
  /// The samples of `range` (global indices). `request` is checked, and its latents are its
  /// hooks' start state.
  virtual SampleResult sample_batch(const Sde& sde, const ScoreModel& model, const SampleRequest& request,
                                    SampleRange range) const = 0;
};

/// Whether every entry of x is finite, with one reduction: a sum is NaN or infinite when an entry
/// is (or when finite entries overflow, which is a blow-up as well).
bool all_finite(const torch::Tensor& x);

}  // namespace sde
