// Checksums of tensors, stored with weights and checkpoints and checked when they are read back:
// LibTorch's archives do not check their zip CRCs, so a flipped bit would otherwise load silently.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sde {

/// CRC-32 (zlib's) of `size` bytes.
uint32_t bytes_crc32(const void* data, size_t size);

/// CRC-32 (zlib's) over the dtype, shape and bytes of each tensor, in order. Any change of a bit
/// of any tensor, or of a shape, changes it; a burst error of up to 32 bits always does.
uint32_t tensors_crc32(const std::vector<torch::Tensor>& tensors);

}  // namespace sde
