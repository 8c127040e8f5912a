#include "sde/core/atomic_file.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "sde/core/errors.hpp"

namespace sde {

namespace fs = std::filesystem;

namespace {

// The file a write replaces: `path` itself, or the file its symbolic links lead to.
fs::path target_of(const std::string& path) {
  std::error_code ec;
  if (path.empty()) throw FileError("cannot write a file with an empty name; give an output path");
  fs::path p(path);
  for (int hops = 0; fs::is_symlink(fs::symlink_status(p, ec)); ++hops) {
    if (hops == 40) throw FileError(detail::concat("cannot write '", path, "': too many levels of symbolic links"));
    const fs::path link = fs::read_symlink(p, ec);
    p = link.is_absolute() ? link : p.parent_path() / link;
  }
  return p;
}

const char* kind_of(fs::file_type type) {
  switch (type) {
    case fs::file_type::directory: return "a directory";
    case fs::file_type::character: return "a character device";
    case fs::file_type::block: return "a block device";
    case fs::file_type::fifo: return "a FIFO";
    case fs::file_type::socket: return "a socket";
    default: return "not a regular file";
  }
}

void check_target(const std::string& path, const fs::path& target) {
  std::error_code ec;
  const fs::file_status status = fs::status(target, ec);
  if (fs::exists(status) && !fs::is_regular_file(status))
    throw FileError(detail::concat("cannot write '", path, "': it is ", kind_of(status.type()),
                                   ", which a write would replace; give the name of a regular file or a new one"));
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw FileError(detail::concat("cannot write '", path, "': directory '", dir.string(),
                                   "' does not exist; create it first"));
}

// Whether process `pid` still runs. A killed process that its parent has not reaped yet (a zombie:
// a writer killed with its parent, waiting for init) still answers kill(pid, 0), so /proc says.
bool running(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // no /proc: trust kill()
  const size_t paren = line.rfind(')');       // "pid (name) state ...": the name may hold spaces
  return !(paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z');
}

// Temporaries NAME.tmp.PID whose writer is gone (killed during a write). A live process's are kept.
void remove_stale_temporaries(const fs::path& target) {
  std::error_code ec;
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = target.filename().string() + ".tmp.";
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9) continue;
    const pid_t owner = pid_t(std::stol(pid));
    if (owner != ::getpid() && !running(owner)) fs::remove(it->path(), ec);
  }
}

struct Temporary {
  std::string path;   // as the caller named it, for messages
  fs::path target;    // what the rename replaces
  std::string temp;
};

// Writes and flushes one temporary; throws (after removing it) on failure.
Temporary write_temporary(const std::string& path, const std::string& bytes) {
  Temporary t{path, target_of(path), {}};
  check_target(path, t.target);
  remove_stale_temporaries(t.target);
  t.temp = t.target.string() + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(t.temp.c_str(), "wb");
  if (f == nullptr)
    throw FileError(detail::concat("cannot write '", path, "': ", std::strerror(errno),
                                   "; check that the directory exists and is writable"));
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0 &&
                       ::fsync(::fileno(f)) == 0;
  const int saved = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    const int err = written ? errno : saved;
    std::remove(t.temp.c_str());
    throw FileError(detail::concat("cannot write '", path, "': ", std::strerror(err)));
  }
  return t;
}

void commit(const Temporary& t) {
  // Checked again: the target may have changed kind while the temporary was written.
  try {
    check_target(t.path, t.target);
  } catch (...) {
    std::remove(t.temp.c_str());
    throw;
  }
  if (std::rename(t.temp.c_str(), t.target.c_str()) != 0) {
    const int err = errno;
    std::remove(t.temp.c_str());
    throw FileError(detail::concat("cannot write '", t.path, "': ", std::strerror(err)));
  }
}

}  // namespace

void check_writable_target(const std::string& path) { check_target(path, target_of(path)); }

void write_file_atomic(const std::string& path, const std::string& bytes) { commit(write_temporary(path, bytes)); }

void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files) {
  for (size_t i = 0; i < files.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (fs::weakly_canonical(fs::absolute(target_of(files[i].first))) ==
          fs::weakly_canonical(fs::absolute(target_of(files[j].first))))
        throw FileError(detail::concat("two outputs would be written to '", files[i].first,
                                       "'; give them different names"));
  std::vector<Temporary> written;
  try {
    for (const auto& [path, bytes] : files) written.push_back(write_temporary(path, bytes));
  } catch (...) {
    for (const Temporary& t : written) std::remove(t.temp.c_str());
    throw;
  }
  for (size_t i = 0; i < written.size(); ++i) {
    try {
      commit(written[i]);
    } catch (...) {
      for (size_t j = i + 1; j < written.size(); ++j) std::remove(written[j].temp.c_str());
      throw;
    }
  }
}

}  // namespace sde
