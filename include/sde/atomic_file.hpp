// Atomic file writes: a reader sees the old file or the complete new one, never a part.
#pragma once

#include <string>

namespace sde {

/// Writes `bytes` to a temporary file beside `path`, flushes it, then renames it over `path`.
/// Throws sde::FileError naming the path on failure; the temporary is removed.
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace sde
