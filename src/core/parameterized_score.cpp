#include "sde/core/parameterized_score.hpp"

#include <algorithm>

#include "sde/core/errors.hpp"
#include "core/memory_limits.hpp"

namespace sde {

Parameterization parse_parameterization(const std::string& name) {
  if (name == "score") return Parameterization::kScore;
  if (name == "noise") return Parameterization::kNoise;
  if (name == "data") return Parameterization::kData;
  if (name == "v") return Parameterization::kV;
  if (name == "velocity") return Parameterization::kVelocity;
  throw InvalidArgument("unknown parameterization '" + name + "'; known: score, noise, data, v, velocity");
}

std::vector<std::string> parameterization_names() { return {"score", "noise", "data", "v", "velocity"}; }

std::vector<std::string> time_conditioning_names() { return {"time", "999t", "sigma", "smld", "index"}; }

TimeConditioning parse_time_conditioning(const std::string& name) {
  if (name == "time") return TimeConditioning::kTime;
  if (name == "999t") return TimeConditioning::kDiscrete999;
  if (name == "sigma") return TimeConditioning::kSigma;
  if (name == "smld") return TimeConditioning::kSmldIndex;
  if (name == "index") return TimeConditioning::kStepIndex;
  throw InvalidArgument("unknown time conditioning '" + name + "'; known: time, 999t, sigma, smld, index");
}

std::string name_of(Parameterization p) {
  switch (p) {
    case Parameterization::kScore: return "score";
    case Parameterization::kNoise: return "noise";
    case Parameterization::kData: return "data";
    case Parameterization::kV: return "v";
    case Parameterization::kVelocity: return "velocity";
  }
  return "?";
}

std::string name_of(TimeConditioning c) {
  switch (c) {
    case TimeConditioning::kTime: return "time";
    case TimeConditioning::kDiscrete999: return "999t";
    case TimeConditioning::kSigma: return "sigma";
    case TimeConditioning::kSmldIndex: return "smld";
    case TimeConditioning::kStepIndex: return "index";
  }
  return "?";
}

namespace {

ConditionalNetwork ignoring_condition(Network network) {
  SDE_CHECK(static_cast<bool>(network), "parameterized score model: the network must not be empty");
  return [network = std::move(network)](const torch::Tensor& x, const torch::Tensor& label, const Condition&) {
    return network(x, label);
  };
}

}  // namespace

ParameterizedScoreModel::ParameterizedScoreModel(std::shared_ptr<const Sde> sde, Network network,
                                                 Parameterization parameterization, TimeConditioning conditioning,
                                                 std::vector<int64_t> sample_shape, int64_t rows_per_call)
    : ParameterizedScoreModel(std::move(sde), ignoring_condition(std::move(network)), ConditionInputs{},
                              parameterization, conditioning, std::move(sample_shape), rows_per_call) {}

ParameterizedScoreModel::ParameterizedScoreModel(std::shared_ptr<const Sde> sde, ConditionalNetwork network,
                                                 ConditionInputs inputs, Parameterization parameterization,
                                                 TimeConditioning conditioning, std::vector<int64_t> sample_shape,
                                                 int64_t rows_per_call)
    : sde_(std::move(sde)),
      network_(std::move(network)),
      inputs_(inputs),
      parameterization_(parameterization),
      conditioning_(conditioning),
      sample_shape_(std::move(sample_shape)),
      rows_per_call_(rows_per_call) {
  SDE_CHECK(sde_ != nullptr, "parameterized score model: the SDE must not be null");
  SDE_CHECK(static_cast<bool>(network_), "parameterized score model: the network must not be empty");
  SDE_CHECK(inputs_.classes >= 0, "parameterized score model: classes = ", inputs_.classes, " must be >= 0");
  uint64_t bytes = 0;
  SDE_CHECK(!sample_shape_.empty() && checked_byte_count(sample_shape_, 4, bytes) && bytes > 0,
            "parameterized score model: the sample shape ", c10::IntArrayRef(sample_shape_),
            " must have entries >= 1 (e.g. {2} or {1, 28, 28})");
  SDE_CHECK(conditioning_ != TimeConditioning::kStepIndex || sde_->discrete_steps() > 0,
            "the 'index' time conditioning (label N t - 1) needs a discrete schedule (--sde discrete), not ",
            sde_->name(), "; continuous VP networks of the reference code take '999t'");
  SDE_CHECK(rows_per_call_ >= kAutoRows, "parameterized score model: rows_per_call = ", rows_per_call_,
            " must be a row count, 0 (whole batches) or kAutoRows");
  if (rows_per_call_ == kAutoRows) {
    int64_t entries = 1;
    for (const int64_t n : sample_shape_) entries *= n;
    rows_per_call_ = entries <= kMaxPointEntries ? 2048 : 0;
  }
}

torch::Tensor ParameterizedScoreModel::network_output(const torch::Tensor& x, const torch::Tensor& label,
                                                      const Condition& c) const {
  const int64_t batch = x.size(0);
  if (rows_per_call_ == 0) return network_(x, label, c);
  // Every call has exactly rows_per_call_ rows, the last block padded with copies of its last
  // row: float32 matrix products choose their kernels by the row count, so a sample's output
  // would otherwise depend on how many others share its call (up to 8.5e-6 measured).
  std::vector<torch::Tensor> parts;
  for (int64_t first = 0; first < batch; first += rows_per_call_) {
    const int64_t rows = std::min(rows_per_call_, batch - first);
    if (rows == rows_per_call_) {
      parts.push_back(network_(x.narrow(0, first, rows), label.narrow(0, first, rows), c.narrow(first, rows)));
      continue;
    }
    const torch::Tensor index = torch::arange(first, first + rows_per_call_, torch::TensorOptions(torch::kLong).device(x.device()))
                                    .clamp_max(batch - 1);
    parts.push_back(network_(x.index_select(0, index), label.index_select(0, index), c.select(index)).narrow(0, 0, rows));
  }
  return parts.size() == 1 ? parts[0] : torch::cat(parts, 0);
}

torch::Tensor time_label(TimeConditioning c, const Sde& sde, const torch::Tensor& t) {
  switch (c) {
    case TimeConditioning::kTime: return t;
    case TimeConditioning::kDiscrete999: return t * 999.0;
    case TimeConditioning::kSigma: return sde.sigma(t);
    // score_sde's get_score_fn for discrete VE models: labels = round((T - t) (N - 1)), N = 1000.
    case TimeConditioning::kSmldIndex: return ((sde.t_max() - t) * (999.0 / sde.t_max())).round();
    case TimeConditioning::kStepIndex: return t * double(sde.discrete_steps()) - 1.0;
  }
  return t;
}

torch::Tensor ParameterizedScoreModel::label(const torch::Tensor& t) const { return time_label(conditioning_, *sde_, t); }

torch::Tensor ParameterizedScoreModel::output(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const {
  check_score_inputs(*this, x, t);
  if (!c.empty()) check_condition(*this, c, x.size(0));
  torch::Tensor out = network_output(x, label(t).to(x.dtype()), c);
  SDE_CHECK(out.sizes() == x.sizes(), "the network returned shape ", out.sizes(), " for input ", x.sizes(),
            "; a ", name_of(parameterization_), " prediction must have the input's shape");
  return out;
}

torch::Tensor ParameterizedScoreModel::score(const torch::Tensor& x, const torch::Tensor& t) const {
  return score_of(output(x, t, {}), x, t);
}

torch::Tensor ParameterizedScoreModel::conditional_score(const torch::Tensor& x, const torch::Tensor& t,
                                                         const Condition& c) const {
  return score_of(output(x, t, c), x, t);
}

torch::Tensor ParameterizedScoreModel::score_of(const torch::Tensor& out, const torch::Tensor& x,
                                                const torch::Tensor& t) const {
  if (parameterization_ == Parameterization::kScore) return out;
  const torch::Tensor alpha = per_sample(sde_->alpha(t), x), sigma = per_sample(sde_->sigma(t), x);
  switch (parameterization_) {
    case Parameterization::kNoise: return -out / sigma;
    case Parameterization::kData: return (alpha * out - x) / sigma.square();
    case Parameterization::kV: return -(sigma * x + alpha * out) / ((alpha.square() + sigma.square()) * sigma);
    case Parameterization::kVelocity: return -(x + alpha * out) / ((alpha + sigma) * sigma);
    case Parameterization::kScore: break;
  }
  return out;
}

bool ParameterizedScoreModel::has_data_prediction() const {
  return parameterization_ == Parameterization::kData || parameterization_ == Parameterization::kV ||
         parameterization_ == Parameterization::kVelocity;
}

torch::Tensor ParameterizedScoreModel::data_prediction(const torch::Tensor& x, const torch::Tensor& t) const {
  if (!has_data_prediction()) return ScoreModel::data_prediction(x, t);  // throws, with the fix
  return data_prediction_of(output(x, t, {}), x, t);
}

torch::Tensor ParameterizedScoreModel::conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                                                   const Condition& c) const {
  if (!has_data_prediction()) return ScoreModel::data_prediction(x, t);  // throws, with the fix
  return data_prediction_of(output(x, t, c), x, t);
}

torch::Tensor ParameterizedScoreModel::data_prediction_of(const torch::Tensor& out, const torch::Tensor& x,
                                                          const torch::Tensor& t) const {
  if (parameterization_ == Parameterization::kData) return out;
  const torch::Tensor alpha = per_sample(sde_->alpha(t), x), sigma = per_sample(sde_->sigma(t), x);
  if (parameterization_ == Parameterization::kV) return (alpha * x - sigma * out) / (alpha.square() + sigma.square());
  return (x - sigma * out) / (alpha + sigma);
}

}  // namespace sde
