// Solver-specific options given as text (a config file, the command line), read with types.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace sde {

/// Key/value options for one solver. Each solver reads the keys it knows with a type and a
/// default; check_all_read() then rejects any key that no solver read (a typo must not pass).
class SolverParams {
 public:
  SolverParams() = default;
  explicit SolverParams(std::map<std::string, std::string> values) : values_(std::move(values)) {}


  std::string read_string(const std::string& key, const std::string& fallback,
                          const std::vector<std::string>& allowed) const;
  double read_double(const std::string& key, double fallback) const;
  int64_t read_int(const std::string& key, int64_t fallback) const;

  /// Throws sde::InvalidArgument naming every key that was not read and the keys `solver` knows.
  void check_all_read(const std::string& solver, const std::vector<std::string>& known) const;

 private:
  std::map<std::string, std::string> values_;
  mutable std::set<std::string> read_;
};

}  // namespace sde
