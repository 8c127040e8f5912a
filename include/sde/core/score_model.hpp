// The score model interface: s(x, t) ~ grad_x log p_t(x).
#pragma once

#include <torch/types.h>

#include <vector>

#include "sde/core/condition.hpp"

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

  // ---- Conditional models (Song et al. 2021, sec. 5; Ho & Salimans 2022). score(x, t) above is the
  // unconditional score; a conditional model also answers for a per-sample condition c.

  /// K, the number of classes its labels may name (0: it takes no class labels).
  virtual int64_t num_classes() const { return 0; }
  /// Whether it takes a condition tensor (Condition::values).
  virtual bool takes_condition_values() const { return false; }
  /// s(x, t | c) = grad_x log p_t(x | c), c with B rows; rows labelled kUnconditional get s(x, t).
  /// The default (a model without conditions) accepts only an empty condition or labels that are
  /// all kUnconditional, and throws sde::InvalidArgument naming the fix otherwise.
  virtual torch::Tensor conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const;
  /// E[x_0 | x_t = x, c] (see data_prediction); the same default.
  virtual torch::Tensor conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                                    const Condition& c) const;
};

/// Throws sde::InvalidArgument unless `model` can take condition c on a batch of `batch` rows (its
/// labels within num_classes(), values only where takes_condition_values()), naming the fix.
void check_condition(const ScoreModel& model, const Condition& c, int64_t batch);

/// Throws sde::InvalidArgument unless x is [B, sample_shape...] and t is [B], naming the shapes.
void check_score_inputs(const ScoreModel& model, const torch::Tensor& x, const torch::Tensor& t);

}  // namespace sde
