// Solvers by name, with their typed options, so a config file or the command line can pick one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sde/core/sampler.hpp"
#include "sde/solve/solver_params.hpp"

namespace sde {

/// One solver-specific option: its key, default (as text), meaning and type.
struct SolverOption {
  std::string key;
  std::string default_value;
  std::string help;
  std::string type;  ///< FLOAT, INT, or the names of a choice, "a|b|c"
};

/// A registered solver: its name, a one-line description and its own options.
struct SolverInfo {
  std::string name;
  std::string summary;
  std::vector<SolverOption> options;
  bool uses_time_grid = true;  ///< steps on the request's grid (false: adaptive, chooses its own steps)
};

/// The solver guide's table of every registered solver (markdown), as docs/solvers.md carries it.
std::string solver_table_markdown();

/// Another library's name for one of our solvers with some options set, e.g. k-diffusion's
/// "euler", which is DDIM with eta = 0 (not our `euler`: Euler on the probability-flow ODE in t).
/// Every name, solver and agreement is listed in docs/solvers.md (the table is generated).
struct SolverAlias {
  std::string name;    ///< "k-diffusion:euler", "diffusers:DDIMScheduler", "score_sde:euler_maruyama"
  std::string solver;  ///< the registered solver it runs
  std::vector<std::pair<std::string, std::string>> params;  ///< options it sets (options given with it win)
  std::string note;    ///< what agrees exactly, and what differs
};
const std::vector<SolverAlias>& solver_aliases();
/// The alias table (markdown), as docs/solvers.md carries it.
std::string solver_alias_table_markdown();

/// Every registered solver: the library's in a stable order, then those registered at run time
/// (sde::register_solver, sde/solve/registration.hpp) in the order they were.
std::vector<SolverInfo> registered_solvers();
/// The registered solver called `name` (or that the alias `name` runs); throws sde::InvalidArgument
/// listing the known names.
SolverInfo solver_info(const std::string& name);

/// The solver called `name` (a registered solver or an alias) with its own options `params`
/// (validated): settings only; every run's choices travel in the SampleRequest given to sample().
/// Throws sde::InvalidArgument listing the known names for an unknown name, and naming any
/// parameter the solver does not have or cannot read.
std::unique_ptr<Sampler> make_sampler(const std::string& name, const SolverParams& params = {});

}  // namespace sde
