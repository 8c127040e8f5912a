// IDX files (the MNIST format: a magic number naming the element type and rank, big-endian
// dimensions, then the data), plain or gzip-compressed, and Fashion-MNIST from Debian's
// dataset-fashion-mnist package.
#pragma once

#include <torch/types.h>

#include <string>

namespace sde {

/// The tensor an IDX file holds, in its own element type (uint8 for images and labels). Reads
/// `path` directly or through gzip when it ends in ".gz". Throws sde::FileError naming the path for
/// a missing, truncated or malformed file (bad magic, sizes that do not match the data).
torch::Tensor load_idx(const std::string& path);

/// Where Debian's dataset-fashion-mnist installs the files.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// How 8-bit pixels p become model inputs: kUnit p / 255 in [0, 1]; kSymmetric 2 p / 255 - 1 in
/// [-1, 1] (see docs/likelihood.md for the bits/dim offset each implies).
enum class PixelScaling { kUnit, kSymmetric };

struct ImageDataset {
  torch::Tensor images;  ///< [N, 1, 28, 28] float32, scaled
  torch::Tensor labels;  ///< [N] int64
};

/// Fashion-MNIST's "train" (60000) or "test" (10000) split from `dir`. A missing directory or file
/// is an sde::FileError that names the Debian package to install.
ImageDataset load_fashion_mnist(const std::string& split, PixelScaling scaling, const std::string& dir = kFashionMnistDir);

}  // namespace sde
