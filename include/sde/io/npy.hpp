// NumPy .npy files (format version 1.0, C order, little endian): the exchange format of sample
// sets and data with Python.
#pragma once

#include <torch/types.h>

#include <string>

namespace sde {

/// Writes a float32, float64, int32 or int64 tensor atomically (sde::FileError on failure).
void save_npy(const std::string& path, const torch::Tensor& tensor);

/// The bytes save_npy writes (for writing several files as one: write_files_atomic).
std::string npy_bytes(const torch::Tensor& tensor);

/// Reads a C-order little-endian .npy of dtype f4, f8, i4 or i8 (versions 1.0-3.0).
/// Throws sde::FileError naming the file and what is wrong with it.
torch::Tensor load_npy(const std::string& path);

}  // namespace sde
