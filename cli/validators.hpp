// Checks of option values with messages that name the value and the fix (CLI11's own range
// checks print the whole range of double, "0.000000 to 1797693...").
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace sde::cli {

/// A whole number >= 1 and at most `most` (a count: samples, steps, threads).
CLI::Validator positive_count(int64_t most = INT64_MAX);

/// A finite number > 0.
CLI::Validator positive_number();

/// `text` as a finite double, or sde::InvalidArgument naming `flag` and the value.
double parse_finite(const std::string& flag, const std::string& text);

}  // namespace sde::cli
