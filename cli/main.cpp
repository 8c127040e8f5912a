// scoresde: the command-line front end. It parses options and calls the library, nothing more.
#include <iostream>

#include "commands.hpp"
#include "sde/errors.hpp"

int main(int argc, char** argv) {
  CLI::App app{"scoresde: score-based generative modelling through SDEs"};
  app.require_subcommand(1);
  const sde::cli::Action sample = sde::cli::add_sample_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);  // prints the message naming the argument; non-zero unless --help
  }
  try {
    if (app.got_subcommand("sample")) return sample();
  } catch (const sde::Error& e) {
    std::cerr << "scoresde: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
