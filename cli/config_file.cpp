#include "config_file.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "sde/core/errors.hpp"

namespace sde::cli {
namespace {

bool given(const std::vector<std::string>& args, const std::string& flag) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a == flag || a.rfind(flag + "=", 0) == 0; });
}

}  // namespace

std::vector<std::string> expand_config(
    const std::vector<std::string>& args, const std::vector<std::string>& commands,
    const std::function<OptionKind(const std::string& command, const std::string& flag)>& option_kind,
    std::set<std::string>* from_config) {
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
  if (std::filesystem::is_directory(file))
    throw FileError(detail::concat("--config: ", file, " is a directory; give a TOML file"));
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
    SDE_CHECK(flag != "--config", "--config ", file, ": [", *command, "] config = ... names another file; ",
              "a configuration does not include others: merge them into one");
    const OptionKind kind = option_kind(*command, flag);
    SDE_CHECK(kind != OptionKind::kNone, "--config ", file, ": [", *command, "] has no option '", item.name,
              "' (see scoresde ", *command, " --help)");
    if (given(rest, flag)) continue;  // the command line wins
    if (from_config) from_config->insert(flag);
    const bool boolean = item.inputs.size() == 1 && (item.inputs[0] == "true" || item.inputs[0] == "false");
    SDE_CHECK(boolean || kind == OptionKind::kValue, "--config ", file, ": [", *command, "] ", item.name,
              " is a switch: write ", item.name, " = true or false");
    if (boolean) {
      SDE_CHECK(kind == OptionKind::kSwitch, "--config ", file, ": [", *command, "] ", item.name, " = ",
                item.inputs[0], ": '", item.name, "' takes a value, not true/false");
      if (item.inputs[0] == "true") inserted.push_back(flag);
      continue;
    }
    inserted.push_back(flag);
    inserted.insert(inserted.end(), item.inputs.begin(), item.inputs.end());
  }
  rest.insert(command + 1, inserted.begin(), inserted.end());
  return rest;
}

}  // namespace sde::cli
