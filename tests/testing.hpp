// Include this first in every test file: LibTorch's c10 logging header defines its own CHECK
// macro, so doctest must come after it for CHECK to mean doctest's assertion.
#pragma once

#include <torch/types.h>

#include <algorithm>
#include <cmath>

#include <doctest/doctest.h>

#include <string>

#ifndef SCORESDE_DATA_DIR
#error "tests need SCORESDE_DATA_DIR (set by tests/CMakeLists.txt)"
#endif

namespace sde::testing {

/// Path of a reference file in data/.
inline std::string data_path(const std::string& name) { return std::string(SCORESDE_DATA_DIR) + "/" + name; }

/// Relative difference |a - b| / max(|b|, floor).
inline double rel_diff(double a, double b, double floor = 1e-300) {
  return std::abs(a - b) / std::max(std::abs(b), floor);
}

}  // namespace sde::testing
