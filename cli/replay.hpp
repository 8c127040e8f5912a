// Runs that replay from their summary. A sample or likelihood summary records the command's
// arguments as parsed (after --config, with the paths of the files it read made absolute), every
// option's resolved value, and a CRC-32 of each input file; `scoresde sample --replay S.json --out
// O.npy` runs those arguments again, after checking that the inputs are the same bytes.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sde::cli {

/// What a summary records to replay the run: "command" (the command and its arguments, input paths
/// absolute, outputs left out), "options" (every option's value as resolved, defaults included) and
/// "inputs" (each file read, with its CRC-32).
nlohmann::json run_record(const CLI::App& cmd, const std::vector<std::string>& arguments);

/// The arguments with `--replay SUMMARY.json` replaced by the arguments the summary recorded; the
/// outputs (--out, --images) and --threads come from the command line. Throws sde::InvalidArgument for
/// a summary of another command or without a recorded command, for other options given beside
/// --replay, and sde::FileError for an input file that changed since (its CRC-32 differs). Without
/// --replay the arguments come back unchanged.
std::vector<std::string> expand_replay(const std::vector<std::string>& args);

}  // namespace sde::cli
