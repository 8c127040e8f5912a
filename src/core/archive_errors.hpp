// LibTorch's archive readers throw c10::Error (with a long backtrace in what()) or, for a missing
// key in a TorchScript-backed archive, other std::exception types. One way to turn either into
// the short text our FileError messages carry. Private to the library.
#pragma once

#include <c10/util/Exception.h>

#include <exception>
#include <string>

namespace sde::detail {

inline std::string archive_error_text(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

}  // namespace sde::detail
