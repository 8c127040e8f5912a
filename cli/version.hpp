// The program's version and the git commit it was built from: `scoresde --version`, and a field of
// every JSON summary the commands write, so a result names the code that made it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace sde::cli {

/// The project's version, "0.1.0".
std::string version();
/// `git describe --always --dirty` of the source tree at build time ("unknown" outside git).
std::string commit();

/// {"version": ..., "commit": ...}
inline nlohmann::json build_info() { return {{"version", version()}, {"commit", commit()}}; }

}  // namespace sde::cli
