// The subcommands of the scoresde program. Each adds itself to the CLI11 app and returns the
// action to run once the arguments are parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace sde::cli {

using Action = std::function<int()>;

/// `scoresde sample`: sample a target with a registered solver and write an .npy.
Action add_sample_command(CLI::App& app);

/// `scoresde solvers`: list the registered solvers.
Action add_solvers_command(CLI::App& app);

}  // namespace sde::cli
