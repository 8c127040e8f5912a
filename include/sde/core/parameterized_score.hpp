// Any network as a score model: what its output means (score, noise, data or v prediction) and
// what time label it expects, named explicitly, converted in one place.
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sde/core/forward_sde.hpp"
#include "sde/core/score_model.hpp"

namespace sde {

/// What a network predicts, with x_t = alpha x_0 + sigma eps:
enum class Parameterization {
  kScore,  ///< s = grad log p_t(x) itself
  kNoise,  ///< eps (DDPM's epsilon prediction): s = -eps / sigma
  kData,   ///< x_0 (Tweedie's mean): s = (alpha x0 - x) / sigma^2
  kV,      ///< v = alpha eps - sigma x_0 (Salimans & Ho 2022): eps = (sigma x + alpha v) / (alpha^2 + sigma^2)
  /// u = eps - x_0, the velocity d x_t / dt of flow matching / rectified flow (Lipman et al. 2023,
  /// Liu et al. 2023; SD3, Flux) on the flow process x_t = (1 - t) x_0 + t eps. On any process:
  /// x_0 = (x - sigma u) / (alpha + sigma), eps = (x + alpha u) / (alpha + sigma).
  kVelocity,
};

/// The time input a network was trained with:
enum class TimeConditioning {
  kTime,        ///< t itself
  kDiscrete999, ///< 999 t: the reference code's labels for VP and sub-VP (DDPM's 1000 steps)
  kSigma,       ///< sigma(t): the reference code's labels for VE (NCSN)
  kSmldIndex,   ///< round(999 (T - t) / T): the noise-level index of a discrete SMLD model (smld_loss)
  /// N t - 1: the step index n of a discrete schedule of N steps at t = (n + 1) / N (DDPM-style
  /// models, diffusers' timesteps; dpm-solver's (t - 1/N) 1000 for N = 1000). Needs a process with
  /// a table (Sde::discrete_steps() > 0).
  kStepIndex,
};

Parameterization parse_parameterization(const std::string& name);       ///< score | noise | data | v | velocity
TimeConditioning parse_time_conditioning(const std::string& name);     ///< time | 999t | sigma | smld | index
std::string name_of(Parameterization p);
std::vector<std::string> parameterization_names();                     ///< every Parameterization's name
std::vector<std::string> time_conditioning_names();                    ///< every TimeConditioning's name
std::string name_of(TimeConditioning c);

/// The label a network with time conditioning `c` sees at times t [B] (float64 or x's dtype).
torch::Tensor time_label(TimeConditioning c, const Sde& sde, const torch::Tensor& t);

/// A network: output for inputs x [B, ...] and labels [B].
using Network = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& label)>;
/// A conditional network: also the condition's rows for x (an empty condition: unconditional).
using ConditionalNetwork =
    std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& label, const Condition& c)>;

/// What a conditional network reads: K class labels (and kUnconditional), a condition tensor.
struct ConditionInputs {
  int64_t classes = 0;
  bool values = false;
};

/// Rows per network call (see ParameterizedScoreModel): kAutoRows picks by the sample's size,
/// 0 evaluates every batch whole.
constexpr int64_t kAutoRows = -1;

/// Samples of at most this many entries are points (a network on them is cheap per row and
/// called in row blocks); larger ones are images (whole batches, whose size bounds memory).
constexpr int64_t kMaxPointEntries = 64;

/// The adapter: score(x, t) = convert(network(x, label(t))).
///
/// Large batches of small samples are evaluated in blocks of rows: an MLP on 2-D points at batch
/// 20000 keeps [20000, width] activations (10 MB at width 128) that miss the cache at every layer,
/// and blocks of 2048 rows ran 10-25% faster per call (docs/benchmarks.md). The network must then
/// treat rows independently, as every score network in evaluation does. `rows_per_call`:
/// kAutoRows (2048 rows for samples of at most 64 entries, whole batches otherwise: images gain
/// nothing measurable), 0 (whole batches) or a row count.
class ParameterizedScoreModel final : public ScoreModel {
 public:
  ParameterizedScoreModel(std::shared_ptr<const Sde> sde, Network network, Parameterization parameterization,
                          TimeConditioning conditioning, std::vector<int64_t> sample_shape,
                          int64_t rows_per_call = kAutoRows);
  /// A conditional network: conditional_score() hands it the condition's rows.
  ParameterizedScoreModel(std::shared_ptr<const Sde> sde, ConditionalNetwork network, ConditionInputs inputs,
                          Parameterization parameterization, TimeConditioning conditioning,
                          std::vector<int64_t> sample_shape, int64_t rows_per_call = kAutoRows);

  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override;
  int64_t num_classes() const override { return inputs_.classes; }
  bool takes_condition_values() const override { return inputs_.values; }
  torch::Tensor conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const override;
  torch::Tensor conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                            const Condition& c) const override;
  std::vector<int64_t> sample_shape() const override { return sample_shape_; }
  /// True for data, v and velocity networks: x_0 comes out without dividing by alpha.
  bool has_data_prediction() const override;
  torch::Tensor data_prediction(const torch::Tensor& x, const torch::Tensor& t) const override;
  /// The label the network sees at times t.
  torch::Tensor label(const torch::Tensor& t) const;
  /// Rows per network call; 0: whole batches.
  int64_t rows_per_call() const { return rows_per_call_; }

 private:
  torch::Tensor network_output(const torch::Tensor& x, const torch::Tensor& label, const Condition& c) const;
  /// The network's output at (x, t) under c, its shape checked.
  torch::Tensor output(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const;
  /// The score and the data prediction from the network's output.
  torch::Tensor score_of(const torch::Tensor& out, const torch::Tensor& x, const torch::Tensor& t) const;
  torch::Tensor data_prediction_of(const torch::Tensor& out, const torch::Tensor& x, const torch::Tensor& t) const;

  std::shared_ptr<const Sde> sde_;
  ConditionalNetwork network_;
  ConditionInputs inputs_;
  Parameterization parameterization_;
  TimeConditioning conditioning_;
  std::vector<int64_t> sample_shape_;
  int64_t rows_per_call_;
};

}  // namespace sde
