// `--config run.toml`: every option of every subcommand from a TOML file, one table per
// subcommand ([train] steps = 2000), flags on the command line overriding it.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace sde::cli {

/// The command line with `--config FILE` (anywhere, also `--config=FILE`) replaced by the file's
/// options for the chosen subcommand, inserted right after its name and skipping those the
/// command line gives itself (so flags win). Parsing of the TOML is CLI11's. Throws
/// sde::FileError for an unreadable file and sde::InvalidArgument for a table that names no
/// subcommand, keys outside a table, a key that `option_kind(command, "--flag")` does not know,
/// true/false for an option that takes a value, and a nested `config` key.
/// Without --config the arguments come back unchanged. `from_config`, when given, receives the
/// flags the file supplied (a command may treat them more leniently than typed ones).
/// What a command's option takes, as expand_config asks it.
enum class OptionKind { kNone, kSwitch, kValue };

std::vector<std::string> expand_config(
    const std::vector<std::string>& args, const std::vector<std::string>& commands,
    const std::function<OptionKind(const std::string& command, const std::string& flag)>& option_kind,
    std::set<std::string>* from_config = nullptr);

}  // namespace sde::cli
