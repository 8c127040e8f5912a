// Include this first in every test file: LibTorch's c10 logging header defines its own CHECK
// macro, so doctest must come after it for CHECK to mean doctest's assertion.
#pragma once

#include <torch/types.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "sde/core/metrics.hpp"
#include "sde/core/sampler.hpp"

#ifndef SCORESDE_DATA_DIR
#error "tests need SCORESDE_DATA_DIR (set by tests/CMakeLists.txt)"
#endif

namespace sde::testing {

/// The request of the unit tests: `steps` steps, float64, seed 3.
inline sde::SampleRequest float64_request(int64_t steps) {
  sde::SampleRequest r;
  r.grid.steps = steps;
  r.dtype = torch::kFloat64;
  r.seed = 3;
  return r;
}

/// `request` for the samples [first, first + count).
inline sde::SampleRequest samples_of(sde::SampleRequest request, int64_t count, int64_t first = 0) {
  request.count = count;
  request.first = first;
  return request;
}

/// Path of a reference file in data/.
inline std::string data_path(const std::string& name) { return std::string(SCORESDE_DATA_DIR) + "/" + name; }

/// Relative difference |a - b| / max(|b|, floor).
inline double rel_diff(double a, double b, double floor = 1e-300) {
  return std::abs(a - b) / std::max(std::abs(b), floor);
}

/// |value - target| <= tolerance. For measured orders and slopes: doctest::Approx's epsilon is
/// relative to 1 + max(|value|, |target|), so Approx(2).epsilon(0.15) would allow +-0.45.
inline bool within(double value, double target, double tolerance) {
  return std::abs(value - target) <= tolerance;
}

/// The library's measured convergence order (sde/core/metrics.hpp), by its old name here.
using ::sde::log_log_slope;

/// A fresh directory under $TMPDIR, removed with everything in it when the object goes.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "scoresde_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// A test program that writes files under relative names declares one of these at namespace
/// scope: it works in a fresh temporary directory, removed at exit, so no test writes into the
/// source or build tree.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    if (::chdir(directory_.path().c_str()) != 0) std::abort();
  }
  ~ScratchDirectory() {
    // Leave the directory before it is removed.
    std::error_code ignored;
    std::filesystem::current_path(std::filesystem::temp_directory_path(), ignored);
  }

 private:
  TemporaryDirectory directory_;
};

/// An absolute path for a test's file `name`, in one temporary directory per test program that is
/// removed at exit (with what a failed test left there). Test files that share a program share the
/// directory: prefix names that could collide.
inline std::string temp_file(const std::string& name) {
  static const TemporaryDirectory directory;
  return (directory.path() / name).string();
}

/// What a shell command printed (stdout and stderr) and its exit code.
struct CommandResult {
  int code;
  std::string output;
};

inline CommandResult run_command(const std::string& command) {
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (size_t got = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, got);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

/// The bytes of a file, and a file made of given bytes (crafted inputs).
inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

/// A version-2 .npy (4-byte header length) with the given header text and data bytes: headers
/// that lie, for the loaders' tests.
inline std::string npy_with_header(const std::string& header, const std::string& data = "") {
  std::string out = "\x93NUMPY";
  out += '\x02';
  out += '\x00';
  const uint32_t n = uint32_t(header.size() + 1);
  for (int i = 0; i < 4; ++i) out += char((n >> (8 * i)) & 0xff);
  return out + header + "\n" + data;
}

/// The header of a float32 .npy with the given shape text, e.g. "(-3, 2)".
inline std::string npy_shape_header(const std::string& shape) {
  return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}

}  // namespace sde::testing
