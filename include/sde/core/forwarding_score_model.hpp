// A score model that forwards every call to another: the base of wrappers that change one or two
// of its answers (bounded data predictions, counting calls) and must pass the rest on, the data
// prediction and the conditional calls included (a wrapper that forgot one would break flow
// matching at alpha = 0 or drop a class).
#pragma once

#include "sde/core/score_model.hpp"

namespace sde {

class ForwardingScoreModel : public ScoreModel {
 public:
  /// `model` must outlive this wrapper.
  explicit ForwardingScoreModel(const ScoreModel& model) : model_(model) {}

  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override { return model_.score(x, t); }
  std::vector<int64_t> sample_shape() const override { return model_.sample_shape(); }
  bool has_data_prediction() const override { return model_.has_data_prediction(); }
  torch::Tensor data_prediction(const torch::Tensor& x, const torch::Tensor& t) const override {
    return model_.data_prediction(x, t);
  }
  int64_t num_classes() const override { return model_.num_classes(); }
  bool takes_condition_values() const override { return model_.takes_condition_values(); }
  torch::Tensor conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const override {
    return model_.conditional_score(x, t, c);
  }
  torch::Tensor conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                            const Condition& c) const override {
    return model_.conditional_data_prediction(x, t, c);
  }

 protected:
  const ScoreModel& model() const { return model_; }

 private:
  const ScoreModel& model_;
};

}  // namespace sde
