// A network exported from Python (torch.jit.trace or torch.jit.script) as a score model. The file
// says nothing about what its output means or which time label it expects, so both are named
// here, as with any network (see parameterized_score.hpp and docs/training.md).
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "sde/core/forward_sde.hpp"
#include "sde/core/parameterized_score.hpp"
#include "sde/core/score_model.hpp"

namespace sde {

class TorchScriptScoreModel final : public ScoreModel {
 public:
  /// Loads `path` (a TorchScript module whose forward(x, label) maps x [B, sample_shape...] and
  /// labels [B] to an output of x's shape) and checks it at once on a probe batch of two samples,
  /// so a wrong signature or output shape is an sde::InvalidArgument here, not a failure at the
  /// first solver step. A missing or unreadable file is an sde::FileError naming it.
  /// Inputs are cast to the module's parameter dtype and outputs back to the caller's. The module
  /// is frozen (torch::jit::freeze) at load; large batches of small samples are evaluated in
  /// blocks of `rows_per_call` rows (ParameterizedScoreModel), so its rows must be independent.
  ///
  /// A conditional module (`condition`): forward(x, label, y) with y the class labels (int64 [B],
  /// "no class" passed as K, the null class of label-dropout training in the usual Python
  /// implementations) when condition.classes = K > 0, or the condition tensor (float [B, ...]; zeros
  /// for "none") when condition.values.
  ///
  /// The module is loaded onto `device`, where the sampler's tensors must live (SampleRequest::device).
  TorchScriptScoreModel(const std::string& path, std::shared_ptr<const Sde> sde, Parameterization parameterization,
                        TimeConditioning conditioning, std::vector<int64_t> sample_shape,
                        ConditionInputs condition = {}, int64_t rows_per_call = kAutoRows,
                        torch::Device device = torch::kCPU);
  ~TorchScriptScoreModel() override;

  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override;
  std::vector<int64_t> sample_shape() const override;
  bool has_data_prediction() const override;
  torch::Tensor data_prediction(const torch::Tensor& x, const torch::Tensor& t) const override;
  int64_t num_classes() const override { return model_->num_classes(); }
  bool takes_condition_values() const override { return model_->takes_condition_values(); }
  torch::Tensor conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const override {
    return model_->conditional_score(x, t, c);
  }
  torch::Tensor conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                            const Condition& c) const override {
    return model_->conditional_data_prediction(x, t, c);
  }

 private:
  std::unique_ptr<ParameterizedScoreModel> model_;
};

}  // namespace sde
