#include "config_file.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <fstream>

#include "sde/errors.hpp"

namespace sde::cli {
namespace {

bool given(const std::vector<std::string>& args, const std::string& flag) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a == flag || a.rfind(flag + "=", 0) == 0; });
}

}  // namespace

std::vector<std::string> expand_config(
    const std::vector<std::string>& args, const std::vector<std::string>& commands,
    const std::function<bool(const std::string& command, const std::string& flag)>& has_option) {
  std::vector<std::string> rest;
  std::string file;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config") {
      SDE_CHECK(i + 1 < args.size(), "--config needs a file name (a TOML file of options)");
      file = args[++i];
    } else if (args[i].rfind("--config=", 0) == 0) {
      file = args[i].substr(9);
    } else {
      rest.push_back(args[i]);
    }
  }
  if (file.empty()) return rest;
  if (!std::ifstream(file)) throw FileError(detail::concat("--config: cannot read ", file, " (check the path)"));
  const auto command = std::find_if(rest.begin() + 1, rest.end(), [&](const std::string& a) {
    return std::find(commands.begin(), commands.end(), a) != commands.end();
  });
  SDE_CHECK(command != rest.end(), "--config ", file, " needs a command to apply to (", CLI::detail::join(commands, ", "),
            ")");
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(file);
  } catch (const CLI::Error& e) {
    throw FileError(detail::concat("--config: ", file, " is not a valid TOML file of options: ", e.what()));
  }
  std::vector<std::string> inserted;
  for (const CLI::ConfigItem& item : items) {
    // CLI11 reports the opening of a table as an item named "++" and its closing as "--".
    if (item.name == "++" || item.name == "--") continue;
    SDE_CHECK(item.parents.size() == 1 && std::find(commands.begin(), commands.end(), item.parents[0]) != commands.end(),
              "--config ", file, ": '", item.fullname(), "' is not in a table named after a command (",
              CLI::detail::join(commands, ", "), "), e.g. [", commands.front(), "] ", item.name, " = ...");
    if (item.parents[0] != *command) continue;
    std::string flag = "--" + item.name;
    std::replace(flag.begin(), flag.end(), '_', '-');
    SDE_CHECK(has_option(*command, flag), "--config ", file, ": [", *command, "] has no option '", item.name,
              "' (see scoresde ", *command, " --help)");
    if (given(rest, flag)) continue;  // the command line wins
    if (item.inputs.size() == 1 && (item.inputs[0] == "true" || item.inputs[0] == "false")) {
      if (item.inputs[0] == "true") inserted.push_back(flag);  // a switch
      continue;
    }
    inserted.push_back(flag);
    inserted.insert(inserted.end(), item.inputs.begin(), item.inputs.end());
  }
  rest.insert(command + 1, inserted.begin(), inserted.end());
  return rest;
}

}  // namespace sde::cli
