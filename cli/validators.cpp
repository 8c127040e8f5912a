#include "validators.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "sde/core/errors.hpp"

namespace sde::cli {

CLI::Validator positive_count(int64_t most) {
  return CLI::Validator(
      [most](std::string& value) -> std::string {
        char* end = nullptr;
        errno = 0;
        const long long n = std::strtoll(value.c_str(), &end, 10);
        if (end == value.c_str() || *end != '\0' || errno == ERANGE || n < 1)
          return "'" + value + "' is not a whole number >= 1";
        if (n > most) return "'" + value + "' is more than " + std::to_string(most);
        return {};
      },
      most == INT64_MAX ? "INT >= 1" : "INT in [1, " + std::to_string(most) + "]");
}

namespace {

// The whole text as a finite double; NaN when it is not one (not a number, trailing characters,
// out of range, infinite or NaN itself).
double finite_or_nan(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(x)) return NAN;
  return x;
}

}  // namespace

CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        return finite_or_nan(value) > 0 ? "" : "'" + value + "' is not a finite number > 0";
      },
      "NUMBER > 0");
}

CLI::Validator finite_number() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        return std::isnan(finite_or_nan(value)) ? "'" + value + "' is not a finite number" : "";
      },
      "");
}

CLI::Validator seed_value() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        char* end = nullptr;
        errno = 0;
        const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
        std::strtoull(value.c_str(), &end, 10);
        if (!digits || errno == ERANGE) return "'" + value + "' is not a seed: a whole number in [0, 2^64 - 1]";
        return {};
      },
      "");
}

void check_numbers_and_seeds(CLI::App& cmd) {
  for (CLI::Option* option : cmd.get_options()) {
    const std::string name = option->get_name(/*positional=*/false, /*all_options=*/false);
    if (option->get_type_name().rfind("FLOAT", 0) == 0) option->check(finite_number());
    if (name.size() >= 6 && name.compare(name.size() - 4, 4, "seed") == 0 && option->get_expected_min() > 0)
      option->check(seed_value());
  }
}

double parse_finite(const std::string& flag, const std::string& text) {
  const double x = finite_or_nan(text);
  SDE_CHECK(!std::isnan(x), flag, " ", text, " is not a finite number");
  return x;
}

}  // namespace sde::cli
