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

  /// Whether data_prediction() is implemented (networks that predict x_0, v or a flow velocity,
  /// and the exact mixture, have one; a network predicting the score or the noise has not).
  virtual bool has_data_prediction() const { return false; }
  /// E[x_0 | x_t = x], computed by the model itself. Needed where alpha(t) = 0 (flow matching at
  /// T = 1): there the score is -x / sigma^2 whatever the data, and Tweedie's formula
  /// (x + sigma^2 s) / alpha is 0/0, while the data prediction is finite (the data's mean).
  /// Throws sde::InvalidArgument unless has_data_prediction().
  virtual torch::Tensor data_prediction(const torch::Tensor& x, const torch::Tensor& t) const;
};

/// Throws sde::InvalidArgument unless x is [B, sample_shape...] and t is [B], naming the shapes.
void check_score_inputs(const ScoreModel& model, const torch::Tensor& x, const torch::Tensor& t);

}  // namespace sde
