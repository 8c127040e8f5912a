// The forward-SDE options that several subcommands share (--sde, its parameters, --T, --target).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "sde/gaussian_mixture.hpp"
#include "sde/sde_factory.hpp"

namespace sde::cli {

struct SdeArgs {
  std::string target;  ///< Gaussian-mixture JSON: the exact score
  SdeConfig sde;
};

/// Adds --target, --sde, --beta-min/--beta-max, --sigma-min/--sigma-max and --T to `cmd`.
void add_sde_options(CLI::App* cmd, SdeArgs& args);

/// The SDE the options describe; throws sde::InvalidArgument when a VP parameter is given for VE
/// or the other way round.
std::shared_ptr<const Sde> make_sde_from(const CLI::App* cmd, const SdeArgs& args);

}  // namespace sde::cli
