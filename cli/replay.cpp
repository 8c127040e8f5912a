#include "replay.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "outputs.hpp"
#include "sde/core/checksum.hpp"
#include "sde/core/errors.hpp"

namespace sde::cli {
namespace {

// The options a replay takes from its own command line: where it writes, and how many threads.
const std::set<std::string> kOwnFlags = {"--out", "--images", "--threads"};

std::string file_crc32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(detail::concat("cannot read ", path));
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ostringstream hex;
  hex << std::hex << bytes_crc32(bytes.data(), bytes.size());
  return hex.str();
}

// "--flag=value" as ("--flag", "value"); other arguments as (argument, "").
std::pair<std::string, std::string> split_flag(const std::string& argument) {
  const size_t eq = argument.find('=');
  if (argument.rfind("--", 0) != 0 || eq == std::string::npos) return {argument, ""};
  return {argument.substr(0, eq), argument.substr(eq + 1)};
}

std::string absolute_if_path(const std::string& value) {
  std::error_code ec;
  if (value.empty() || value[0] == '-' || !std::filesystem::exists(value, ec)) return value;
  return std::filesystem::absolute(value, ec).lexically_normal().string();
}

}  // namespace

nlohmann::json run_record(const CLI::App& cmd, const std::vector<std::string>& arguments) {
  nlohmann::json command = nlohmann::json::array({cmd.get_name()});
  // arguments[0] is the program and [1] the command; an output's value is skipped with its flag.
  for (size_t i = 2; i < arguments.size(); ++i) {
    const auto [flag, inline_value] = split_flag(arguments[i]);
    if (kOwnFlags.count(flag)) {
      if (inline_value.empty()) ++i;
      continue;
    }
    command.push_back(inline_value.empty() ? absolute_if_path(arguments[i]) : flag + "=" + absolute_if_path(inline_value));
  }
  nlohmann::json options = nlohmann::json::object();
  for (const CLI::Option* option : cmd.get_options()) {
    const std::string name = option->get_name(/*positional=*/false, /*all_options=*/false);
    if (name.rfind("--", 0) != 0 || name == "--help" || name == "--config" || name == "--replay") continue;
    if (option->count() > 0) {
      const std::vector<std::string> values = option->results();
      options[name.substr(2)] = values.size() == 1 ? nlohmann::json(values[0]) : nlohmann::json(values);
    } else if (!option->get_default_str().empty()) {
      options[name.substr(2)] = option->get_default_str();
    }
  }
  nlohmann::json inputs = nlohmann::json::array();
  for (const std::string& file : input_files(cmd))
    inputs.push_back({{"path", absolute_if_path(file)}, {"crc32", file_crc32(file)}});
  return {{"command", command}, {"options", options}, {"inputs", inputs}};
}

std::vector<std::string> expand_replay(const std::vector<std::string>& args) {
  const auto at = std::find_if(args.begin(), args.end(), [](const std::string& a) {
    return a == "--replay" || a.rfind("--replay=", 0) == 0;
  });
  if (at == args.end()) return args;
  std::string file = at->size() > 8 ? at->substr(9) : "";
  if (file.empty()) {
    SDE_CHECK(at + 1 != args.end(), "--replay needs the summary (.json) of the run to replay");
    file = *(at + 1);
  }
  SDE_CHECK(args.size() >= 2, "--replay follows a command: scoresde sample --replay SUMMARY.json --out NEW.npy");
  std::ifstream in(file);
  if (!in) throw FileError(detail::concat("--replay: cannot read ", file, " (check the path)"));
  const nlohmann::json summary = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  SDE_CHECK(summary.is_object() && summary.contains("command") && summary["command"].is_array() &&
                !summary["command"].empty() && summary["command"][0].is_string(),
            "--replay ", file, " holds no recorded command: it is not a run's summary, or one written before "
            "summaries recorded their command (scoresde 0.1 of December 2026)");
  const std::string command = summary["command"][0].get<std::string>();
  SDE_CHECK(command == args[1], "--replay ", file, " is the summary of a `", command, "` run; replay it with scoresde ",
            command, " --replay ", file);
  for (const nlohmann::json& input : summary.value("inputs", nlohmann::json::array())) {
    const std::string path = input.at("path").get<std::string>();
    const std::string now = file_crc32(path);
    if (now != input.at("crc32").get<std::string>())
      throw FileError(detail::concat("--replay: ", path, " has changed since the run (CRC-32 ", now, ", then ",
                                     input.at("crc32").get<std::string>(), "): the replay would not reproduce it"));
  }
  std::vector<std::string> out = {args[0]};
  for (const nlohmann::json& a : summary["command"]) out.push_back(a.get<std::string>());
  for (size_t i = 2; i < args.size(); ++i) {
    if (args.begin() + long(i) == at) {
      if (at->size() <= 8) ++i;  // its value
      continue;
    }
    const std::string flag = split_flag(args[i]).first;
    SDE_CHECK(kOwnFlags.count(flag), "--replay runs the recorded command as it was; ", flag,
              " cannot change it (give only --out, --images or --threads; edit the summary's \"command\" to change it)");
    out.push_back(args[i]);
    if (split_flag(args[i]).second.empty() && i + 1 < args.size()) out.push_back(args[++i]);
  }
  return out;
}

}  // namespace sde::cli
