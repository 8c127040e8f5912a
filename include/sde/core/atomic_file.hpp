// Atomic file writes: a reader sees the old file or the complete new one, never a part.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sde {

/// Throws sde::FileError unless `path` can be the target of an atomic write: a new name in an
/// existing directory, or an existing regular file (also through a symbolic link, which stays a
/// link). A directory, device, FIFO or socket is refused, never replaced. Call it before long work
/// so that bad output paths fail before anything is computed.
void check_writable_target(const std::string& path);

/// Writes `bytes` to a temporary file beside `path`, flushes it, then renames it over `path`
/// (over the file a symbolic link points to, if `path` is one). Throws sde::FileError naming the
/// path on failure; the temporary is removed. Temporaries a killed writer left beside `path`
/// (`NAME.tmp.PID` of a process that no longer exists) are removed first.
void write_file_atomic(const std::string& path, const std::string& bytes);

/// Writes several files as one: every temporary is written and flushed first, and only when all
/// succeeded are they renamed into place, so a failure (a full disk, a bad path) leaves none of
/// the files new and none of the old ones changed.
void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace sde
