#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "sde/core/sampler.hpp"
#include "sde/solve/registry.hpp"

namespace sde::cli {

namespace {
struct SolversArgs {
  bool markdown = false, aliases = false;
};
}  // namespace

Action add_solvers_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("solvers", "list the registered solvers and the common options' defaults");
  auto args = std::make_shared<SolversArgs>();
  cmd->add_flag("--markdown", args->markdown, "as the solver guide's tables (docs/solvers.md)");
  cmd->add_flag("--aliases", args->aliases, "other libraries' names (k-diffusion, diffusers, score_sde) and what each runs");
  return [args](const Invocation&) {
    if (args->markdown) {
      std::cout << (args->aliases ? solver_alias_table_markdown() : solver_table_markdown());
      return 0;
    }
    if (args->aliases) {
      for (const SolverAlias& a : solver_aliases()) {
        std::cout << a.name << "\t" << a.solver;
        for (const auto& [key, value] : a.params) std::cout << " " << option_flag(key) << " " << value;
        std::cout << "\n    " << a.note << "\n";
      }
      return 0;
    }
    for (const SolverInfo& info : registered_solvers()) {
      std::cout << info.name << "\t" << info.summary << "\n";
      for (const SolverOption& o : info.options) {
        std::cout << "    " << option_flag(o.key) << " " << o.type << " (default " << o.default_value << "): " << o.help
                  << "\n";
      }
    }
    const SampleRequest defaults;
    std::cout << "\ncommon options: --steps " << defaults.grid.steps << "  --schedule "
              << TimeGrid::name(defaults.grid.kind) << " (time|logsnr|karras)  --rho "
              << defaults.grid.rho << "  --eps " << defaults.grid.eps << "  (or --times / --sigmas LIST|FILE)"
              << "  --seed " << defaults.seed << "  --first " << defaults.first << "  --batch " << defaults.batch_size
              << " (0: all)  denoise on (--no-denoise)\nother libraries' names for these: scoresde solvers --aliases\n";
    return 0;
  };
}

}  // namespace sde::cli
