#include "sde/solvers/solver_params.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sde/errors.hpp"

namespace sde {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "(none)" : out;
}

}  // namespace

std::string SolverParams::read_string(const std::string& key, const std::string& fallback,
                                      const std::vector<std::string>& allowed) const {
  read_.insert(key);
  const auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  SDE_CHECK(std::find(allowed.begin(), allowed.end(), it->second) != allowed.end(), "solver option ",
            key, " = '", it->second, "' is not one of: ", join(allowed));
  return it->second;
}

double SolverParams::read_double(const std::string& key, double fallback) const {
  read_.insert(key);
  const auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  size_t used = 0;
  double value = NAN;
  try {
    value = std::stod(it->second, &used);
  } catch (const std::exception&) {
  }
  SDE_CHECK(used == it->second.size() && std::isfinite(value), "solver option ", key, " = '",
            it->second, "' is not a finite number");
  return value;
}

int64_t SolverParams::read_int(const std::string& key, int64_t fallback) const {
  read_.insert(key);
  const auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(it->second, &used);
  } catch (const std::exception&) {
  }
  SDE_CHECK(used == it->second.size() && used > 0, "solver option ", key, " = '", it->second,
            "' is not an integer");
  return value;
}

void SolverParams::check_all_read(const std::string& solver, const std::vector<std::string>& known) const {
  std::vector<std::string> unknown;
  for (const auto& [key, value] : values_)
    if (!read_.count(key)) unknown.push_back(key);
  SDE_CHECK(unknown.empty(), "solver '", solver, "' has no option ", join(unknown),
            "; its options: ", join(known));
}

}  // namespace sde
