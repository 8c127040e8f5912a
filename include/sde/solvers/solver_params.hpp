// Solver-specific options given as text (a config file, the command line), before the solver's
// option table reads them with types.
#pragma once

#include <map>
#include <string>

namespace sde {

/// Key/value options for one solver, as text. make_sampler() parses each with the solver's option
/// table and rejects any key the solver does not have (a typo must not pass).
class SolverParams {
 public:
  SolverParams() = default;
  explicit SolverParams(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace sde
