// scoresde: the command-line front end. It parses options and calls the library, nothing more.
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "config_file.hpp"
#include "replay.hpp"
#include "validators.hpp"
#include "version.hpp"
#include "sde/core/errors.hpp"

int main(int argc, char** argv) {
  CLI::App app{"scoresde: score-based generative modelling through SDEs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "scoresde " + sde::cli::version() + " (commit " + sde::cli::commit() + ")");

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
    sde::cli::check_numbers_and_seeds(*cmd);
    // The help's TOML example names an option the command has.
    std::string example;
    for (const std::string option : {"steps", "rtol", "train_steps"})
      if (example.empty() && cmd->get_option_no_throw(sde::cli::option_flag(option)) != nullptr)
        example = "[" + cmd->get_name() + "] " + option + " = " + (option == "rtol" ? "1e-5" : "100");
    if (!example.empty())  // not for a command without options to configure (solvers)
      cmd->add_option("--config", config_help_sink,
                      "TOML file of options, a table per command (" + example + "); command-line flags override it");
    if (cmd->get_name() == "sample" || cmd->get_name() == "likelihood")  // taken out by expand_replay
      cmd->add_option("--replay", config_help_sink,
                      "SUMMARY.json: run the recorded command again (the same samples, bit for bit), checking that "
                      "its input files are unchanged; give only --out (and --images, --threads)");
    // LibTorch starts with one thread on these machines; OMP_NUM_THREADS also sets it.
    cmd->add_option("--threads", threads, "LibTorch threads (default: OMP_NUM_THREADS, else LibTorch's choice)")
        ->check(sde::cli::positive_count(1024));
  }
  if (argc > 1 && argv[1][0] != '-' && std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
    std::cerr << "scoresde: unknown command '" << argv[1] << "'; commands: " << CLI::detail::join(commands, ", ")
              << "\n";
    return 2;
  }
  std::vector<std::string> args;
  sde::cli::Invocation invocation;
  try {
    args = sde::cli::expand_config(sde::cli::expand_replay(std::vector<std::string>(argv, argv + argc)), commands,
                                   [&](const std::string& command, const std::string& flag) {
                                     const CLI::Option* o = app.get_subcommand(command)->get_option_no_throw(flag);
                                     if (o == nullptr) return sde::cli::OptionKind::kNone;
                                     return o->get_expected_min() == 0 ? sde::cli::OptionKind::kSwitch
                                                                       : sde::cli::OptionKind::kValue;
                                   },
                                   &invocation.config_flags);
  } catch (const std::exception& e) {
    std::cerr << "scoresde: error: " << e.what() << "\n";
    return 2;
  }
  invocation.arguments = args;
  std::vector<char*> pointers;
  for (std::string& a : args) pointers.push_back(a.data());
  try {
    app.parse(int(pointers.size()), pointers.data());
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message naming the argument; its own exit codes (104-127) all mean a
    // usage error here, which is exit code 2 (0 for --help).
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    // An option's callback that reads a file threw past CLI11: still a usage error, never a signal.
    std::cerr << "scoresde: error: " << e.what() << "\n";
    return 2;
  }
  if (threads > 0) at::set_num_threads(threads);
  try {
    if (app.got_subcommand("sample")) return sample(invocation);
    if (app.got_subcommand("likelihood")) return likelihood(invocation);
    if (app.got_subcommand("train")) return train(invocation);
    if (app.got_subcommand("solvers")) return solvers(invocation);
    if (app.got_subcommand("demo")) return demo(invocation);
  } catch (const sde::Error& e) {
    std::cerr << "scoresde: error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "scoresde: error: out of memory; use fewer samples (--n), a smaller --batch or a smaller model\n";
    return 1;
  } catch (const c10::Error& e) {
    // LibTorch's own checks: a message without its C++ backtrace, which says nothing to a user.
    std::cerr << "scoresde: error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    // The library names its failures as sde::Error; anything else is a check we have not written
    // yet. It still ends with a message and exit code 1, never with a signal.
    std::cerr << "scoresde: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
