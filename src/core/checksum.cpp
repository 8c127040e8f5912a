#include "sde/core/checksum.hpp"

#include <zlib.h>

#include <algorithm>

namespace sde {

namespace {

uLong add_bytes(uLong crc, const void* data, size_t bytes) {
  // zlib takes uInt lengths: more than 4 GB goes in pieces.
  const auto* p = static_cast<const Bytef*>(data);
  for (size_t done = 0; done < bytes;) {
    const size_t piece = std::min<size_t>(bytes - done, 1u << 30);
    crc = crc32(crc, p + done, uInt(piece));
    done += piece;
  }
  return crc;
}

}  // namespace

uint32_t bytes_crc32(const void* data, size_t size) { return uint32_t(add_bytes(crc32(0L, Z_NULL, 0), data, size)); }

uint32_t tensors_crc32(const std::vector<torch::Tensor>& tensors) {
  uLong crc = crc32(0L, Z_NULL, 0);
  auto add = [&crc](const void* data, size_t bytes) { crc = add_bytes(crc, data, bytes); };
  for (const torch::Tensor& tensor : tensors) {
    const torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    const int64_t header[2] = {int64_t(t.scalar_type()), t.dim()};
    add(header, sizeof header);
    add(t.sizes().data(), sizeof(int64_t) * t.sizes().size());
    if (t.numel() > 0) add(t.data_ptr(), t.numel() * t.element_size());
  }
  return uint32_t(crc);
}

}  // namespace sde
