// Include this first in every test file: LibTorch's c10 logging header defines its own CHECK
// macro, so doctest must come after it for CHECK to mean doctest's assertion.
#pragma once

#include <torch/types.h>

#include <algorithm>
#include <cmath>

#include <doctest/doctest.h>

#include <string>
#include <vector>

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

/// |value - target| <= tolerance. For measured orders and slopes: doctest::Approx's epsilon is
/// relative to 1 + max(|value|, |target|), so Approx(2).epsilon(0.15) would allow +-0.45.
inline bool within(double value, double target, double tolerance) {
  return std::abs(value - target) <= tolerance;
}

/// Least-squares slope of log y against log x: a measured convergence order.
inline double log_log_slope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += std::log(x[i]) / double(x.size());
    my += std::log(y[i]) / double(y.size());
  }
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (std::log(x[i]) - mx) * (std::log(y[i]) - my);
    sxx += (std::log(x[i]) - mx) * (std::log(x[i]) - mx);
  }
  return sxy / sxx;
}

}  // namespace sde::testing
