// The forward-SDE options that several subcommands share (--sde, its parameters, --T), and --target.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/nn/trained_model.hpp"

namespace sde::cli {

struct SdeArgs {
  std::string target;  ///< Gaussian-mixture JSON: the exact score
  SdeConfig sde;
};

/// Adds --sde, --beta-min/--beta-max, --sigma-min/--sigma-max and --T to `cmd`.
void add_sde_options(CLI::App* cmd, SdeConfig& sde);

/// Adds --target (the exact score's Gaussian-mixture JSON) to `cmd`.
CLI::Option* add_target_option(CLI::App* cmd, std::string& target, bool required);

/// Whether any option add_sde_options adds was given.
bool sde_options_given(const CLI::App* cmd);

/// The model directory `dir` (written by `scoresde train`), which carries its own SDE: giving any
/// SDE option with it is an sde::InvalidArgument.
std::unique_ptr<LoadedModel> load_model_dir(const CLI::App* cmd, const std::string& dir);

/// The SDE the options describe; throws sde::InvalidArgument when a VP parameter is given for VE
/// or the other way round.
std::shared_ptr<const Sde> make_sde_from(const CLI::App* cmd, const SdeConfig& sde);

}  // namespace sde::cli
