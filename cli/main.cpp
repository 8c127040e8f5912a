// scoresde: the command-line front end. It parses options and calls the library, nothing more.
#include <iostream>
#include <string>

#include "commands.hpp"
#include "sde/errors.hpp"

int main(int argc, char** argv) {
  CLI::App app{"scoresde: score-based generative modelling through SDEs"};
  app.require_subcommand(1);
  const sde::cli::Action sample = sde::cli::add_sample_command(app);
  const sde::cli::Action likelihood = sde::cli::add_likelihood_command(app);
  const sde::cli::Action train = sde::cli::add_train_command(app);
  const sde::cli::Action solvers = sde::cli::add_solvers_command(app);
  const sde::cli::Action demo = sde::cli::add_demo_command(app);
  std::string known;
  bool listed = false;
  for (const CLI::App* cmd : app.get_subcommands({})) {
    known += (known.empty() ? "" : ", ") + cmd->get_name();
    listed = listed || (argc > 1 && cmd->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !listed) {
    std::cerr << "scoresde: unknown command '" << argv[1] << "'; commands: " << known << "\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);  // prints the message naming the argument; non-zero unless --help
  }
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
