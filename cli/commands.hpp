// The subcommands of the scoresde program. Each adds itself to the CLI11 app and returns the
// action to run once the arguments are parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace sde::cli {

/// What a command learns of how it was called, besides its options.
struct Invocation {
  std::set<std::string> config_flags;  ///< the flags that --config FILE supplied
  std::vector<std::string> arguments;  ///< the arguments as parsed (after --config and --replay)
};

using Action = std::function<int(const Invocation&)>;

/// The command-line flag of a solver option: key `corrector_steps` is `--corrector-steps`.
inline std::string option_flag(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return "--" + key;
}

/// `scoresde sample`: sample a target with a registered solver and write an .npy.
Action add_sample_command(CLI::App& app);

/// `scoresde likelihood`: log p of points through the probability-flow ODE, written as an .npy.
Action add_likelihood_command(CLI::App& app);

/// `scoresde train`: train a score network and write a model directory.
Action add_train_command(CLI::App& app);

/// `scoresde demo`: train on a 2-D toy, sample with every solver family, write a gallery.
Action add_demo_command(CLI::App& app);

/// `scoresde solvers`: list the registered solvers.
Action add_solvers_command(CLI::App& app);

}  // namespace sde::cli
