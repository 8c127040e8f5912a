#include "sde_options.hpp"

#include "sde/errors.hpp"

namespace sde::cli {

void add_sde_options(CLI::App* cmd, SdeArgs& args) {
  cmd->add_option("--target", args.target, "Gaussian-mixture JSON file: the exact score")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--sde", args.sde.name, "forward SDE")
      ->check(CLI::IsMember({"vp", "subvp", "ve"}))->capture_default_str();
  auto* beta_min = cmd->add_option("--beta-min", args.sde.beta.beta_min, "VP/sub-VP beta_min")->capture_default_str();
  auto* beta_max = cmd->add_option("--beta-max", args.sde.beta.beta_max, "VP/sub-VP beta_max")->capture_default_str();
  auto* sigma_min = cmd->add_option("--sigma-min", args.sde.ve.sigma_min, "VE sigma_min")->capture_default_str();
  auto* sigma_max = cmd->add_option("--sigma-max", args.sde.ve.sigma_max, "VE sigma_max")->capture_default_str();
  beta_min->excludes(sigma_min)->excludes(sigma_max);
  beta_max->excludes(sigma_min)->excludes(sigma_max);
  cmd->add_option("--T", args.sde.t_max, "end time T of the forward SDE")->capture_default_str();
}

std::shared_ptr<const Sde> make_sde_from(const CLI::App* cmd, const SdeArgs& args) {
  const bool ve = args.sde.name == "ve";
  if (ve && (cmd->count("--beta-min") || cmd->count("--beta-max")))
    throw InvalidArgument("--beta-min/--beta-max apply to --sde vp|subvp, not ve; use --sigma-min/--sigma-max");
  if (!ve && (cmd->count("--sigma-min") || cmd->count("--sigma-max")))
    throw InvalidArgument("--sigma-min/--sigma-max apply to --sde ve; use --beta-min/--beta-max");
  return make_sde(args.sde);
}

}  // namespace sde::cli
