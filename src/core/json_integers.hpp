// Whole numbers read from JSON files. nlohmann's get<int64_t>() converts a floating-point value
// with a plain cast, which is undefined for 4e100 (found by fuzz_model_dir under UBSan) and
// silently truncates 2.5: a whole number must be written as one.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "sde/core/errors.hpp"

namespace sde::detail {

inline int64_t json_integer(const nlohmann::json& value, const std::string& name) {
  if (value.is_number_integer() &&
      (!value.is_number_unsigned() || value.get<uint64_t>() <= uint64_t(INT64_MAX)))
    return value.get<int64_t>();
  throw InvalidArgument(concat(name, " = ", value.dump(), " must be a whole number (as 12, not 12.0 or 1e9)"));
}

inline std::vector<int64_t> json_integers(const nlohmann::json& value, const std::string& name) {
  if (!value.is_array()) throw InvalidArgument(concat(name, " = ", value.dump(), " must be a list of whole numbers"));
  std::vector<int64_t> out;
  for (size_t i = 0; i < value.size(); ++i) out.push_back(json_integer(value[i], concat(name, "[", i, "]")));
  return out;
}

}  // namespace sde::detail
