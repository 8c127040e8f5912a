// The examples' command line: `--name value` pairs with defaults, and `--quick`, which every
// example honours by shrinking its work to seconds (ctest runs each one that way).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

class ExampleArgs {
 public:
  /// `defaults` lists every option the example takes; an unknown one ends the program with a
  /// message listing them.
  ExampleArgs(int argc, char** argv, std::map<std::string, std::string> defaults) : values_(std::move(defaults)) {
    for (int i = 1; i < argc; ++i) {
      const std::string key = argv[i];
      if (key == "--quick") {
        quick_ = true;
      } else if (key.rfind("--", 0) == 0 && values_.count(key.substr(2)) && i + 1 < argc) {
        values_[key.substr(2)] = argv[++i];
      } else {
        std::string known = "--quick";
        for (const auto& [name, value] : values_) known += " --" + name + " (" + value + ")";
        std::fprintf(stderr, "unknown or incomplete argument '%s'; options: %s\n", key.c_str(), known.c_str());
        std::exit(2);
      }
    }
  }
  bool quick() const { return quick_; }
  const std::string& text(const std::string& name) const { return values_.at(name); }
  long long integer(const std::string& name) const { return std::stoll(values_.at(name)); }
  double number(const std::string& name) const { return std::stod(values_.at(name)); }

 private:
  std::map<std::string, std::string> values_;
  bool quick_ = false;
};
