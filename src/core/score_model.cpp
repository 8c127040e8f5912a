#include "sde/core/score_model.hpp"

#include "sde/core/errors.hpp"

namespace sde {

void check_score_inputs(const ScoreModel& model, const torch::Tensor& x, const torch::Tensor& t) {
  const std::vector<int64_t> shape = model.sample_shape();
  const bool x_ok = x.dim() == int64_t(shape.size()) + 1 &&
                    std::equal(shape.begin(), shape.end(), x.sizes().begin() + 1);
  SDE_CHECK(x_ok, "score model: x must have shape [B, ", c10::IntArrayRef(shape),
            "...] (batch first, then the sample shape), got ", x.sizes());
  SDE_CHECK(t.dim() == 1 && t.size(0) == x.size(0),
            "score model: t must have shape [B] with B = x.size(0) = ", x.size(0), ", got ",
            t.sizes());
}

torch::Tensor ScoreModel::data_prediction(const torch::Tensor&, const torch::Tensor&) const {
  throw InvalidArgument(
      "this score model has no data prediction of its own, and where alpha(t) = 0 (flow matching at T = 1) "
      "Tweedie's formula from the score is 0/0; use a model that predicts x_0, v or a flow velocity, or start "
      "below T (a flow process with t_max < 1)");
}

namespace {

// Whether a model without conditions can answer c: nothing asked, or every label "no class".
bool unconditional(const Condition& c) {
  if (c.values.defined()) return false;
  return !c.labels.defined() || c.labels.numel() == 0 || (c.labels == kUnconditional).all().item<bool>();
}

[[noreturn]] void refuse_condition() {
  throw InvalidArgument(
      "this score model takes no condition (class labels or a condition tensor); sample it without --class, or use a "
      "class-conditional model (trained with --classes K, a labelled mixture, or a TorchScript forward(x, t, labels))");
}

}  // namespace

torch::Tensor ScoreModel::conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const {
  if (!unconditional(c)) refuse_condition();
  return score(x, t);
}

torch::Tensor ScoreModel::conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                                      const Condition& c) const {
  if (!unconditional(c)) refuse_condition();
  return data_prediction(x, t);
}

void check_condition(const ScoreModel& model, const Condition& c, int64_t batch) {
  if (model.num_classes() == 0 && unconditional(c)) return;
  c.check(batch, model.num_classes(), "the score model");
  SDE_CHECK(!c.values.defined() || model.takes_condition_values(),
            "the score model takes no condition tensor; give class labels only, or use a model whose network reads one");
}

}  // namespace sde
