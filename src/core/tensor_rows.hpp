// Per-sample factors broadcast over a batch's trailing dimensions (internal to the library).
#pragma once

#include <torch/types.h>

#include <vector>

namespace sde::detail {

/// v of shape [B] as [B, 1, ..., 1] in like's dtype and device, to scale the rows of like ([B, ...]).
inline torch::Tensor per_row(const torch::Tensor& v, const torch::Tensor& like) {
  std::vector<int64_t> shape(size_t(like.dim()), 1);
  shape[0] = v.size(0);
  return v.to(like.options()).reshape(shape);
}

}  // namespace sde::detail
