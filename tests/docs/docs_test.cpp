// The documentation, run as written. README.md and docs/*.md keep their commands in ```sh blocks
// (the only blocks run here; synopses with placeholders go in ```text blocks, set-up and developer
// commands in ```bash blocks); this test runs
// every such command in quick mode, in order, in a scratch directory where data/ and models/ are
// the repository's, with `scoresde` on the PATH, and requires exit code 0. A fenced block whose
// first line is "# NAME.ext" (a TOML configuration, say) is written to NAME.ext before the
// commands that follow it. Quick mode caps what costs time and not meaning: training steps, the
// number of samples, solver steps and test images; `scoresde demo` and the examples get --quick.
// Every `scoresde COMMAND --flag` quoted in prose or a synopsis must name flags the command has,
// and every `scoresde` line of a code block must be in an ```sh or ```text block, so no command
// escapes the test.
#include "testing.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace {

namespace fs = std::filesystem;

const sde::testing::ScratchDirectory scratch;

struct Block {
  std::string info;  // the fence's info string: sh, bash, toml, cpp, ...
  std::vector<std::string> lines;
  int first_line;    // 1-based, of the opening fence
};

struct Markdown {
  std::vector<Block> blocks;
  std::vector<std::pair<int, std::string>> prose;  // (line number, text) outside fenced blocks
};

Markdown read_markdown(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  Markdown md;
  std::string line;
  int number = 0;
  Block* open = nullptr;
  while (std::getline(in, line)) {
    ++number;
    if (line.rfind("```", 0) == 0) {
      if (open) {
        open = nullptr;
      } else {
        md.blocks.push_back({line.substr(3), {}, number});
        open = &md.blocks.back();
      }
      continue;
    }
    if (open) open->lines.push_back(line);
    else md.prose.emplace_back(number, line);
  }
  return md;
}

std::vector<fs::path> documents() {
  const fs::path root = SCORESDE_SOURCE_DIR;
  std::vector<fs::path> files = {root / "README.md"};
  for (const auto& entry : fs::directory_iterator(root / "docs"))
    if (entry.path().extension() == ".md") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// The commands of an ```sh block: continuation lines joined, comments dropped.
std::vector<std::string> commands_of(const Block& block) {
  std::vector<std::string> commands;
  std::string current;
  for (std::string line : block.lines) {
    const size_t comment = line.find(" #");
    if (line.rfind("#", 0) == 0) continue;
    if (comment != std::string::npos) line.resize(comment);
    const bool continues = !line.empty() && line.back() == '\\';
    if (continues) line.pop_back();
    current += line;
    if (!continues) {
      if (current.find_first_not_of(' ') != std::string::npos) commands.push_back(current);
      current.clear();
    }
  }
  return commands;
}

std::vector<std::string> split(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Quick mode: the same command with its costs capped.
std::string quick(const std::string& command) {
  std::vector<std::string> words = split(command);
  const bool example = std::any_of(words.begin(), words.end(), [](const std::string& w) {
    return w.rfind("build/examples/", 0) == 0;
  });
  if (example) return command.find("--quick") == std::string::npos ? command + " --quick" : command;
  const auto at = std::find(words.begin(), words.end(), "scoresde");
  if (at == words.end() || at + 1 == words.end()) return command;
  const std::string sub = *(at + 1);
  const std::map<std::string, std::map<std::string, long>> caps = {
      {"train", {{"--steps", 20}}},
      {"sample", {{"--n", 32}, {"--steps", 10}}},
      {"likelihood", {{"--limit", 4}}},
  };
  const auto cap = caps.find(sub);
  for (auto w = at + 2; cap != caps.end() && w != words.end() && w + 1 != words.end(); ++w) {
    const auto c = cap->second.find(*w);
    if (c != cap->second.end()) {
      const long value = std::strtol((w + 1)->c_str(), nullptr, 10);
      if (value > c->second) *(w + 1) = std::to_string(c->second);
    }
  }
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  // A --config file's values are capped by flags, which win over it.
  const bool config = command.find("--config") != std::string::npos;
  if (sub == "train" && command.find("--steps") == std::string::npos) out += " --steps 20";
  if (sub == "sample" && config && command.find("--n ") == std::string::npos) out += " --n 32";
  if (sub == "demo" && command.find("--quick") == std::string::npos) out += " --quick";
  if (sub == "likelihood" && command.find("fashion-mnist:test") != std::string::npos &&
      command.find("--limit") == std::string::npos)
    out += " --limit 4";
  return out;
}

// The flags `scoresde COMMAND --help` lists, read once per command.
const std::set<std::string>& flags_of(const std::string& command) {
  static std::map<std::string, std::set<std::string>> known;
  auto it = known.find(command);
  if (it != known.end()) return it->second;
  const auto help = sde::testing::run_command(std::string(SCORESDE_CLI) + " " + command + " --help");
  std::set<std::string> flags;
  const std::regex flag("--[a-z][a-z0-9-]*");
  for (auto m = std::sregex_iterator(help.output.begin(), help.output.end(), flag); m != std::sregex_iterator(); ++m)
    flags.insert(m->str());
  return known[command] = flags;
}

}  // namespace

TEST_CASE("every scoresde command quoted in the docs names options its command has") {
  const std::set<std::string> commands = {"sample", "likelihood", "train", "solvers", "demo"};
  const std::regex quoted("`scoresde ([a-z]+)([^`]*)`");
  for (const fs::path& doc : documents()) {
    const Markdown md = read_markdown(doc);
    std::vector<std::pair<int, std::string>> lines = md.prose;
    // A code block's commands, their continuation lines (indented, or after a '\\') joined.
    for (const Block& b : md.blocks)
      for (size_t i = 0; i < b.lines.size(); ++i) {
        std::string line = b.lines[i];
        const bool continued = !lines.empty() && lines.back().first == b.first_line + int(i) &&
                               (line.rfind(" ", 0) == 0 || (lines.back().second.size() > 1 &&
                                                            lines.back().second[lines.back().second.size() - 2] == '\\'));
        if (continued) {
          std::string& previous = lines.back().second;
          previous.pop_back();  // the closing backquote
          if (!previous.empty() && previous.back() == '\\') previous.pop_back();
          previous += " " + line + "`";
          lines.back().first = b.first_line + 1 + int(i);
        } else {
          lines.emplace_back(b.first_line + 1 + int(i), "`" + line + "`");
        }
      }
    for (const auto& [number, text] : lines)
      for (auto m = std::sregex_iterator(text.begin(), text.end(), quoted); m != std::sregex_iterator(); ++m) {
        const std::string command = (*m)[1];
        if (!commands.count(command)) continue;  // "scoresde demo" in a sentence about the program, say
        const std::string rest = (*m)[2];
        for (std::string word : split(rest)) {
          word.erase(0, word.find_first_not_of("[("));
          if (word.rfind("--", 0) != 0 || word == "--help") continue;
          const std::string flag = word.substr(0, word.find_first_of("=[]|),"));
          INFO(doc.filename().string() << ":" << number << ": scoresde " << command << " ... " << flag);
          CHECK(flags_of(command).count(flag) == 1);
        }
      }
  }
}

TEST_CASE("every scoresde line of a code block is in an ```sh or ```text block") {
  for (const fs::path& doc : documents()) {
    const Markdown md = read_markdown(doc);
    for (const Block& b : md.blocks) {
      if (b.info == "sh" || b.info == "text") continue;
      for (const std::string& line : b.lines) {
        const auto words = split(line);
        INFO(doc.filename().string() << ":" << b.first_line << " (```" << b.info << "): " << line);
        CHECK_FALSE((!words.empty() && words[0] == "scoresde"));
      }
    }
    // Indented code: a line of four spaces and then scoresde.
    for (const auto& [number, text] : md.prose) {
      INFO(doc.filename().string() << ":" << number << ": " << text);
      CHECK(text.rfind("    scoresde ", 0) != 0);
    }
  }
}

TEST_CASE("the commands of README.md and docs/ run as written (quick mode)") {
  const fs::path root = SCORESDE_SOURCE_DIR;
  const std::string cli_dir = fs::path(SCORESDE_CLI).parent_path().string();
  const std::string path = cli_dir + ":" + std::getenv("PATH");
  ::setenv("PATH", path.c_str(), 1);
  // mpirun as root (the CI machine) needs these; elsewhere they change nothing.
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const bool have_mpirun = sde::testing::run_command("command -v mpirun").code == 0;
  int run = 0;
  for (const fs::path& doc : documents()) {
    const Markdown md = read_markdown(doc);
    // Each document in a directory of its own, as a reader starting on that page.
    const fs::path dir = fs::current_path() / doc.stem();
    fs::create_directories(dir);
    for (const char* shared : {"data", "models"})
      if (fs::exists(root / shared)) fs::create_directory_symlink(root / shared, dir / shared);
    // build/cli/scoresde and build/examples/NN as the docs call them: this build's.
    fs::create_directory_symlink(fs::path(SCORESDE_CLI).parent_path().parent_path(), dir / "build");
    for (const Block& b : md.blocks) {
      if (!b.lines.empty() && std::regex_match(b.lines[0], std::regex("# [A-Za-z0-9_.-]+\\.[a-z]+"))) {
        std::ofstream file(dir / b.lines[0].substr(2));
        for (size_t i = 1; i < b.lines.size(); ++i) file << b.lines[i] << "\n";
      }
      if (b.info != "sh") continue;
      for (const std::string& command : commands_of(b)) {
        const std::string line = quick(command);
        INFO(doc.filename().string() << ":" << b.first_line << ": " << line);
        CHECK(line.find("...") == std::string::npos);  // a placeholder is not a command
        if (line.find("mpirun ") != std::string::npos && !have_mpirun) {
          MESSAGE("mpirun is not installed: skipped " << line);
          continue;
        }
        const auto result = sde::testing::run_command("cd '" + dir.string() + "' && " + line);
        CAPTURE(result.output);
        CHECK(result.code == 0);
        ++run;
      }
    }
  }
  MESSAGE(run << " commands from the docs ran");
  CHECK(run >= 10);
}
