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

CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double x = std::strtod(value.c_str(), &end);
        if (end == value.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(x) || x <= 0)
          return "'" + value + "' is not a finite number > 0";
        return {};
      },
      "NUMBER > 0");
}

double parse_finite(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(text.c_str(), &end);
  SDE_CHECK(end != text.c_str() && *end == '\0' && errno != ERANGE && std::isfinite(x), flag, " ", text,
            " is not a finite number");
  return x;
}

}  // namespace sde::cli
