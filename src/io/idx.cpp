#include "sde/io/idx.hpp"

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "sde/core/errors.hpp"
#include "core/memory_limits.hpp"

namespace sde {

namespace {

// The whole file, through zlib's gzread (which also reads uncompressed files as they are).
std::vector<uint8_t> read_all(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw FileError("cannot open '" + path + "'");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(file, gzclose);
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  for (;;) {
    const int got = gzread(file, buffer, sizeof buffer);
    if (got < 0) throw FileError("cannot read '" + path + "': corrupt gzip data");
    if (got == 0) break;
    bytes.insert(bytes.end(), buffer, buffer + got);
  }
  return bytes;
}

uint32_t big_endian(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

}  // namespace

torch::Tensor load_idx(const std::string& path) {
  const std::vector<uint8_t> bytes = read_all(path);
  // Magic: two zero bytes, the element type, the rank.
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0)
    throw FileError("'" + path + "' is not an IDX file (bad magic number)");
  const uint8_t type = bytes[2], rank = bytes[3];
  torch::ScalarType dtype;
  size_t element = 1;
  switch (type) {
    case 0x08: dtype = torch::kUInt8; break;
    case 0x09: dtype = torch::kInt8; break;
    default:
      throw FileError(detail::concat("'", path, "': IDX element type 0x", std::hex, int(type),
                                     " is not supported (only unsigned and signed bytes)"));
  }
  if (rank == 0 || bytes.size() < 4 + 4 * size_t(rank))
    throw FileError(detail::concat("'", path, "' is truncated: its header names ", int(rank), " dimensions"));
  std::vector<int64_t> sizes;
  for (uint8_t d = 0; d < rank; ++d) sizes.push_back(big_endian(&bytes[4 + 4 * d]));
  // Up to 255 sizes of 32 bits: the product can wrap, so it is checked before it is compared.
  uint64_t count = 0;
  if (!checked_byte_count(sizes, element, count))
    throw FileError(detail::concat("'", path, "': its header's sizes ", c10::IntArrayRef(sizes), " overflow 64 bits"));
  const size_t offset = 4 + 4 * size_t(rank);
  if (bytes.size() - offset != count)
    throw FileError(detail::concat("'", path, "' holds ", bytes.size() - offset, " bytes of data; its header ",
                                   c10::IntArrayRef(sizes), " needs ", count));
  torch::Tensor out = torch::empty(sizes, dtype);
  if (count > 0) std::memcpy(out.data_ptr(), bytes.data() + offset, count);
  return out;
}

ImageDataset load_fashion_mnist(const std::string& split, PixelScaling scaling, const std::string& dir) {
  SDE_CHECK(split == "train" || split == "test", "Fashion-MNIST split '", split, "' is not one of: train, test");
  const std::string prefix = dir + "/" + (split == "train" ? "train" : "t10k");
  for (const std::string suffix : {"-images-idx3-ubyte.gz", "-labels-idx1-ubyte.gz"})
    if (!std::filesystem::exists(prefix + suffix))
      throw FileError("Fashion-MNIST is not installed: '" + prefix + suffix +
                      "' is missing (apt install dataset-fashion-mnist)");
  const torch::Tensor images = load_idx(prefix + "-images-idx3-ubyte.gz");
  const torch::Tensor labels = load_idx(prefix + "-labels-idx1-ubyte.gz");
  if (images.dim() != 3 || images.size(1) != 28 || images.size(2) != 28 || labels.dim() != 1 ||
      labels.size(0) != images.size(0))
    throw FileError(detail::concat("Fashion-MNIST files in ", dir, " have shapes ", images.sizes(), " and ",
                                   labels.sizes(), "; expected [N, 28, 28] and [N]"));
  torch::Tensor x = images.to(torch::kFloat32).div_(255.0).unsqueeze(1);
  if (scaling == PixelScaling::kSymmetric) x = x.mul_(2.0).sub_(1.0);
  return {x, labels.to(torch::kLong)};
}

}  // namespace sde
