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

/// A finite number: for every FLOAT option (CLI11 reads "nan" and "inf" into a double, and its
/// range checks let NaN through: every comparison with it is false).
CLI::Validator finite_number();

/// A seed: a whole number in [0, 2^64 - 1], in digits (CLI11 reads "-1" into a uint64_t as
/// 2^64 - 1, and 2^64 saturates to it: both once ran as the seed 18446744073709551615).
CLI::Validator seed_value();

/// Adds finite_number() to every FLOAT option of `cmd` and seed_value() to every option named
/// --seed or --...-seed: the checks every command wants, where no option can forget them.
void check_numbers_and_seeds(CLI::App& cmd);

/// `text` as a finite double, or sde::InvalidArgument naming `flag` and the value.
double parse_finite(const std::string& flag, const std::string& text);

}  // namespace sde::cli
