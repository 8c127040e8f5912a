// Solvers by name, with their typed options, so a config file or the command line can pick one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sde/sampler.hpp"
#include "sde/solvers/solver_params.hpp"

namespace sde {

/// One solver-specific option: its key, default (as text) and meaning.
struct SolverOption {
  std::string key;
  std::string default_value;
  std::string help;
};

/// A registered solver: its name, a one-line description and its own options.
struct SolverInfo {
  std::string name;
  std::string summary;
  std::vector<SolverOption> options;
  bool uses_time_grid = true;  ///< steps on --steps and --schedule (false: adaptive, chooses its own)
};

/// The solver guide's table of every registered solver (markdown), as docs/solvers.md carries it.
std::string solver_table_markdown();

/// Every registered solver, in a stable order.
const std::vector<SolverInfo>& registered_solvers();
/// The registered solver called `name`; throws sde::InvalidArgument listing the known names.
const SolverInfo& solver_info(const std::string& name);

/// The solver called `name` with the common options and its own `params` (both validated).
/// Throws sde::InvalidArgument listing the known names for an unknown name, and naming any
/// parameter the solver does not have or cannot read.
std::unique_ptr<Sampler> make_sampler(const std::string& name, const SamplerOptions& options,
                                      const SolverParams& params = {});

}  // namespace sde
