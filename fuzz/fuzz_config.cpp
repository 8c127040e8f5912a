// TOML configuration files (`--config FILE`), through the CLI's expansion into arguments with a
// fixed set of options: either arguments come back or an sde::Error names the key and the fix.
#include <cstdint>

#include "config_file.hpp"
#include "fuzz_input.hpp"
#include "sde/core/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sde::fuzz::MemoryFile file("config");
  using sde::cli::OptionKind;
  const auto kind = [](const std::string&, const std::string& flag) {
    if (flag == "--no-denoise" || flag == "--resume") return OptionKind::kSwitch;
    if (flag == "--steps" || flag == "--n" || flag == "--solver" || flag == "--shape") return OptionKind::kValue;
    return OptionKind::kNone;
  };
  try {
    sde::cli::expand_config({"scoresde", "sample", "--config", file.write(data, size)}, {"sample", "train"}, kind);
  } catch (const sde::Error&) {
  }
  return 0;
}
