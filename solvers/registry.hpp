// Solvers by name, so a config file or the command line can pick one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sde/sampler.hpp"

namespace sde {

/// A registered solver: its name and a one-line description.
struct SolverInfo {
  std::string name;
  std::string summary;
};

/// Every registered solver, in a stable order.
const std::vector<SolverInfo>& registered_solvers();

/// The solver called `name`, with the common options (validated). Throws sde::InvalidArgument
/// listing the known names when `name` is unknown.
std::unique_ptr<Sampler> make_sampler(const std::string& name, const SamplerOptions& options);

}  // namespace sde
