// scoresde: the command-line front end. It parses options and calls the library, nothing more.
#include <ATen/Parallel.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "config_file.hpp"
#include "sde/errors.hpp"

int main(int argc, char** argv) {
  CLI::App app{"scoresde: score-based generative modelling through SDEs"};
  app.require_subcommand(1);

  const sde::cli::Action sample = sde::cli::add_sample_command(app);
  const sde::cli::Action likelihood = sde::cli::add_likelihood_command(app);
  const sde::cli::Action train = sde::cli::add_train_command(app);
  const sde::cli::Action solvers = sde::cli::add_solvers_command(app);
  const sde::cli::Action demo = sde::cli::add_demo_command(app);
  std::vector<std::string> commands;
  std::string config_help_sink;  // --config is taken out by expand_config; declared for --help
  int threads = 0;
  for (CLI::App* cmd : app.get_subcommands({})) {
    commands.push_back(cmd->get_name());
    cmd->add_option("--config", config_help_sink,
                    "TOML file of options, a table per command ([" + cmd->get_name() +
                        "] steps = 100); command-line flags override it");
    // LibTorch starts with one thread on these machines; OMP_NUM_THREADS also sets it.
    cmd->add_option("--threads", threads, "LibTorch threads (default: OMP_NUM_THREADS, else LibTorch's choice)")
        ->check(CLI::PositiveNumber);
  }
  if (argc > 1 && argv[1][0] != '-' && std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
    std::cerr << "scoresde: unknown command '" << argv[1] << "'; commands: " << CLI::detail::join(commands, ", ")
              << "\n";
    return 2;
  }
  std::vector<std::string> args;
  try {
    args = sde::cli::expand_config(std::vector<std::string>(argv, argv + argc), commands,
                                   [&](const std::string& command, const std::string& flag) {
                                     return app.get_subcommand(command)->get_option_no_throw(flag) != nullptr;
                                   });
  } catch (const sde::Error& e) {
    std::cerr << "scoresde: error: " << e.what() << "\n";
    return 2;
  }
  std::vector<char*> pointers;
  for (std::string& a : args) pointers.push_back(a.data());
  try {
    app.parse(int(pointers.size()), pointers.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);  // prints the message naming the argument; non-zero unless --help
  }
  if (threads > 0) at::set_num_threads(threads);
  try {
    if (app.got_subcommand("sample")) return sample();
    if (app.got_subcommand("likelihood")) return likelihood();
    if (app.got_subcommand("train")) return train();
    if (app.got_subcommand("solvers")) return solvers();
    if (app.got_subcommand("demo")) return demo();
  } catch (const sde::Error& e) {
    std::cerr << "scoresde: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
