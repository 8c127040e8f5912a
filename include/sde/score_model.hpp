// The score model interface: s(x, t) ~ grad_x log p_t(x).
#pragma once

#include <torch/types.h>

#include <vector>

namespace sde {

/// Abstract score model. Implementations: exact Gaussian-mixture scores (the ground truth of the
/// accuracy tests), networks trained in C++, TorchScript files exported from Python.
class ScoreModel {
 public:
  virtual ~ScoreModel() = default;
  ScoreModel() = default;
  ScoreModel(const ScoreModel&) = delete;
  ScoreModel& operator=(const ScoreModel&) = delete;

  /// s(x, t) for x of shape [B, sample_shape...] and t of shape [B]; same shape and dtype as x.
  virtual torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const = 0;
  /// Shape of one sample (without the batch dimension), e.g. {D} or {C, H, W}.
  virtual std::vector<int64_t> sample_shape() const = 0;
};

/// Throws sde::InvalidArgument unless x is [B, sample_shape...] and t is [B], naming the shapes.
void check_score_inputs(const ScoreModel& model, const torch::Tensor& x, const torch::Tensor& t);

}  // namespace sde
