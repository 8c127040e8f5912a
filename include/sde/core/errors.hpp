// Exceptions of the library. Every message names the offending value and says how to fix it.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace sde {

/// Base of every exception the library throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A bad argument, option, shape or configuration: the caller can fix it.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A file that is missing, unreadable, malformed or cannot be written.
class FileError : public Error {
 public:
  using Error::Error;
};

/// A failure of the process group: a rank that does not join or dies, a timeout.
class DistributedError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  out.precision(17);
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}
}  // namespace detail

}  // namespace sde

/// Throws sde::InvalidArgument with the concatenated message when `cond` is false.
/// The message is built only on failure, so checks in hot paths cost a branch.
#define SDE_CHECK(cond, ...)                                           \
  do {                                                                 \
    if (!(cond)) throw ::sde::InvalidArgument(::sde::detail::concat(__VA_ARGS__)); \
  } while (0)
