#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "sde/sampler.hpp"
#include "sde/solvers/registry.hpp"

namespace sde::cli {

Action add_solvers_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("solvers", "list the registered solvers and the common options' defaults");
  auto markdown = std::make_shared<bool>(false);
  cmd->add_flag("--markdown", *markdown, "the solver guide's table (docs/solvers.md) instead");
  return [markdown] {
    if (*markdown) {
      std::cout << solver_table_markdown();
      return 0;
    }
    for (const SolverInfo& info : registered_solvers()) {
      std::cout << info.name << "\t" << info.summary << "\n";
      for (const SolverOption& o : info.options) {
        std::cout << "    " << option_flag(o.key) << " (default " << o.default_value << "): " << o.help << "\n";
      }
    }
    const SamplerOptions defaults;
    std::cout << "\ncommon options: --steps " << defaults.steps << "  --schedule "
              << TimeGrid::name(defaults.grid.kind) << " (time|logsnr|karras)  --rho "
              << defaults.grid.rho << "  --eps " << defaults.eps
              << "  --seed " << defaults.seed << "  --batch " << defaults.batch_size
              << " (0: all)  denoise on (--no-denoise)\n";
    return 0;
  };
}

}  // namespace sde::cli
