// What a sample is conditioned on: a class label, a condition tensor, or both, one row per sample.
// A condition travels with the score model's call (ScoreModel::conditional_score); the solvers
// never see it (the solve loop hands the rows of each call to the ReverseSde, which selects them).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

#include "sde/core/random.hpp"

namespace sde {

/// The label that names no class: s(x, t | kUnconditional) = s(x, t). Classifier-free guidance
/// evaluates both branches in one batched call with it; a network trained with label dropout maps
/// it to its null class.
constexpr int64_t kUnconditional = -1;

/// A per-sample condition. Either part may be undefined; both undefined means unconditional.
struct Condition {
  torch::Tensor labels;  ///< int64 [B]: class labels in [0, K), or kUnconditional
  torch::Tensor values;  ///< [B, ...]: a condition tensor (a low-resolution image, an embedding)

  bool empty() const { return !labels.defined() && !values.defined(); }
  /// B, the rows of whichever part is defined (0 when empty).
  int64_t rows() const;
  /// The rows `index` (int64 positions), of both parts.
  Condition select(const torch::Tensor& index) const;
  /// Rows [first, first + count) of both parts.
  Condition narrow(int64_t first, int64_t count) const;
  /// Both parts concatenated with another condition's (the same parts defined).
  Condition cat(const Condition& other) const;

  /// Class labels: int64 [count] filled with `label`.
  static Condition of_class(int64_t label, int64_t count);

  /// The rows of samples `range` in a condition given for a whole request: a condition of one row
  /// applies to every sample; otherwise row i belongs to the sample of global index i, so it must
  /// have at least range.first + range.count rows (sharded runs give every process the same one).
  /// Throws sde::InvalidArgument naming the sizes.
  Condition for_range(SampleRange range) const;

  /// Throws sde::InvalidArgument unless the parts have `batch` rows, the labels are int64 of shape
  /// [B] in [kUnconditional, classes) (classes = 0: labels are refused), and the values are finite.
  /// `who` names the caller in the message.
  void check(int64_t batch, int64_t classes, const std::string& who) const;
};

}  // namespace sde
