#include "sde/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sde/errors.hpp"

namespace sde {

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr)
    throw FileError(detail::concat("cannot write '", path, "': ", std::strerror(errno),
                                   "; check that the directory exists and is writable"));
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() &&
                       std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int saved = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = written && closed ? errno : saved;
    std::remove(tmp.c_str());
    throw FileError(detail::concat("cannot write '", path, "': ", std::strerror(err)));
  }
}

}  // namespace sde
