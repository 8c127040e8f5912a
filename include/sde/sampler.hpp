// The sampling API shared by every reverse-time solver: options, results and the Sampler
// interface. Solvers themselves live in solvers/ and are picked by name from its registry.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "sde/condition.hpp"
#include "sde/forward_sde.hpp"
#include "sde/random.hpp"
#include "sde/solve_hooks.hpp"
#include "sde/score_model.hpp"
#include "sde/time_grid.hpp"

namespace sde {

/// Options every sampler understands.
struct SamplerOptions {
  int64_t steps = 1000;       ///< N, the number of solver steps from T down to eps
  TimeGrid grid;              ///< where the N + 1 times lie (uniform in t by default)
  double eps = 1e-3;          ///< the final time; sampling integrates from T to eps
  bool denoise = true;        ///< a last Tweedie step x0_hat = (x + sigma^2 s) / alpha at eps (+1 NFE)
  uint64_t seed = 0;          ///< key of every random number (prior and noise)
  /// Samples per batch; 0 = all at once. Memory: a network keeps its activations for the whole
  /// batch (about 2 MB per 28x28 image for the shipped U-Net). Results: the same at any batch for
  /// exact scores and per-sample solvers; a network's samples move by float32 rounding, and those
  /// of solvers with one step size per batch (ode-dopri5) within the tolerance (docs/conventions.md).
  int64_t batch_size = 0;
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  /// Set when one batch is split over several processes (sde::sample_distributed does): the
  /// largest of a value over all of them. Solvers whose steps depend on the whole batch
  /// (BatchCoupling::kStepControl) pass their error norms through it, so every process takes the
  /// steps the whole batch would. Empty: one process.
  std::function<double(double)> global_max;
  /// Where the solve starts, a per-step transform and an observer (all optional; sde/solve_hooks.hpp).
  SolveHooks hooks;
  /// What the samples are conditioned on (sde/condition.hpp): one row for all samples, or row i
  /// for the sample of global index i. Empty: unconditional. The model must take it
  /// (ScoreModel::num_classes(), takes_condition_values()); guidance is a score-model wrapper
  /// (sde/guidance.hpp).
  Condition condition;

  /// Throws sde::InvalidArgument naming the bad value and the fix.
  void validate() const;
};

enum class SampleStatus {
  kSuccess,
  kNonFinite,  ///< the state became NaN or infinite; message names the step and time
  kStepLimit,  ///< an adaptive solver used up its step budget before reaching eps
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
  SampleStatus status = SampleStatus::kSuccess;
  std::string message;        ///< empty on success; otherwise where and why it stopped
  bool ok() const { return status == SampleStatus::kSuccess; }
};

/// A reverse-time solver. Subclasses implement one batch; the batching, the checks on the
/// arguments and the merging of results are here, so every solver is batch-invariant as long
/// as it draws its noise from `NoiseStream(options().seed)` by (sample index, draw).
class Sampler {
 public:
  virtual ~Sampler() = default;
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  virtual std::string name() const = 0;
  const SamplerOptions& options() const { return options_; }
  /// kNone unless the solver couples the samples of a batch (see BatchCoupling).
  virtual BatchCoupling batch_coupling() const { return BatchCoupling::kNone; }
  /// Whether it steps on options().steps and options().grid (false: it chooses its own steps).
  virtual bool uses_time_grid() const { return true; }

  /// Samples with global indices [first_index, first_index + count). Throws on bad arguments
  /// (eps outside (0, T), count < 0); a numerical failure is reported in the result's status.
  SampleResult sample(const Sde& sde, const ScoreModel& model, int64_t count,
                      int64_t first_index = 0) const;

 protected:
  explicit Sampler(SamplerOptions options);
  virtual SampleResult sample_batch(const Sde& sde, const ScoreModel& model,
                                    SampleRange range) const = 0;

 private:
  SamplerOptions options_;
};

/// Whether every entry of x is finite, with one reduction: a sum is NaN or infinite when an entry
/// is (or when finite entries overflow, which is a blow-up as well).
bool all_finite(const torch::Tensor& x);

}  // namespace sde
