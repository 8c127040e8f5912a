// Solver-specific options by key, before the solver's option table reads them with types. In C++
// they are written with their types, `{{"eta", 0.5}, {"order", 3}}`; a config file or the command
// line gives them as text.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>

namespace sde {

/// Key/value options for one solver. make_sampler() parses each with the solver's option table
/// and rejects any key the solver does not have (a typo must not pass) and any value it cannot read.
class SolverParams {
 public:
  /// One option's value: a number, or text (a named choice such as "on", "midpoint", "bh2").
  /// Numbers are kept as text that reads back to the same value.
  class Value {
   public:
    Value(double number);
    Value(int number) : text_(std::to_string(number)) {}
    Value(long number) : text_(std::to_string(number)) {}
    Value(long long number) : text_(std::to_string(number)) {}
    Value(const char* text) : text_(text) {}
    Value(std::string text) : text_(std::move(text)) {}
    /// Booleans are named choices of their option ("on"/"off", ...): write the name.
    Value(bool) = delete;
    const std::string& text() const { return text_; }

   private:
    std::string text_;
  };

  SolverParams() = default;
  SolverParams(std::initializer_list<std::pair<const std::string, Value>> values);
  explicit SolverParams(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  /// Sets (or replaces) one option.
  SolverParams& set(const std::string& key, const Value& value);
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace sde
