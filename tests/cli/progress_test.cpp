// The progress bars as a terminal shows them: each command runs on a pseudo-terminal of 80
// columns, and its output is replayed on a small terminal emulator (carriage return, newline,
// erase-to-end-of-line, wrapping at the last column). A bar that wrapped would leave stale rows
// that "\r\033[K" cannot clear; what the screen holds at the end is what the user sees.
#include "testing.hpp"

#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <sstream>

#include "sde/io/npy.hpp"

namespace {

const sde::testing::ScratchDirectory scratch;

struct Terminal {
  int columns;
  std::vector<std::string> rows{""};
  size_t row = 0, column = 0;
  std::vector<std::string> redraws;  // every line as it stood before a \r (the bar's frames)

  void feed(const std::string& bytes) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      const char c = bytes[i];
      if (c == '\033' && bytes.compare(i, 3, "\033[K") == 0) {
        rows[row].resize(std::min(rows[row].size(), column));
        i += 2;
      } else if (c == '\r') {
        if (!rows[row].empty()) redraws.push_back(rows[row]);
        column = 0;
      } else if (c == '\n') {
        ++row;
        column = 0;
        if (row == rows.size()) rows.emplace_back();
      } else {
        if (int(column) == columns) {  // no room left on this row: the terminal wraps
          ++row;
          column = 0;
          if (row == rows.size()) rows.emplace_back();
        }
        if (rows[row].size() <= column) rows[row].resize(column + 1, ' ');
        rows[row][column++] = c;
      }
    }
  }
  std::string screen() const {
    std::string text;
    for (const std::string& r : rows)
      if (!r.empty()) text += r + "\n";
    return text;
  }
};

// Runs `command` (through /bin/sh) on a pseudo-terminal `columns` wide; returns its exit code and
// everything it wrote, stdout and stderr together, as the terminal received it. Exit code -2: this
// machine has no pseudo-terminals (a container without /dev/pts), said in the test's output.
std::pair<int, std::string> run_on_terminal(const std::string& command, int columns) {
  winsize size{};
  size.ws_row = 40;
  size.ws_col = static_cast<unsigned short>(columns);
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) {
    MESSAGE("no pseudo-terminal here (forkpty failed): the progress bars are not checked");
    return {-2, ""};
  }
  if (pid == 0) {
    ::setenv("TERM", "xterm", 1);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string output;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n <= 0) break;  // EIO once the child has closed the terminal
    output.append(buffer, size_t(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// Every line a bar or status drew: the text after each "\r\033[K", up to the next "\r" or
// newline, where it starts with one of their labels (after the last clear, ordinary output follows).
std::vector<std::string> drawn_lines(const std::string& output) {
  std::vector<std::string> lines;
  for (size_t at = output.find("\r\033[K"); at != std::string::npos; at = output.find("\r\033[K", at + 1)) {
    const size_t begin = at + 4, end = output.find_first_of("\r\n", begin);
    const std::string line = output.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    for (const char* label : {"training", "sampling", "likelihood", "computing"})
      if (line.rfind(label, 0) == 0) lines.push_back(line);
  }
  return lines;
}

// The percentages of the bar's frames that start with `label`, in order.
std::vector<int> percentages(const std::vector<std::string>& frames, const std::string& label) {
  std::vector<int> out;
  const std::regex percent("^" + label + " +([0-9]+)%");
  std::smatch m;
  for (const std::string& f : frames)
    if (std::regex_search(f, m, percent)) out.push_back(std::stoi(m[1]));
  return out;
}

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

const std::string cli = SCORESDE_CLI;

}  // namespace

TEST_CASE("the training bar stays within 80 columns, moves forward and leaves one final line") {
  Terminal terminal{80};
  const auto [code, output] =
      run_on_terminal(cli + " train --data toy:ring --width 16 --depth 1 --batch 64 --steps 1500 --log-every 25 --out m", 80);
  if (code == -2) return;
  terminal.feed(output);
  const std::string screen = terminal.screen();
  CAPTURE(screen);
  REQUIRE(code == 0);
  for (const std::string& line : drawn_lines(output)) CHECK(line.size() < 80);
  const std::vector<int> shown = percentages(terminal.redraws, "training");
  REQUIRE(shown.size() >= 2);
  CHECK(std::is_sorted(shown.begin(), shown.end()));
  // The screen keeps exactly one bar, complete, with one rate and one ETA field, then the summary.
  CHECK(count_of(screen, "training ") == 2);  // "training mlp (... parameters)" and the bar
  CHECK(screen.find("training 100%|") != std::string::npos);
  CHECK(count_of(screen, "it/s") == 2);       // the bar's rate and the summary's
  CHECK(screen.find("1500/1500 [") != std::string::npos);
  CHECK(std::regex_search(screen, std::regex("trained steps 0 to 1500 in [0-9:]+ \\([0-9.]+ it/s\\), loss [0-9.]+")));
}

TEST_CASE("the sampling bar counts batches done, never runs backwards, and shows the batch's NFE") {
  const std::string ring = sde::testing::data_path("ring8.json");
  for (const std::string solver : {"em --steps 200", "sde-adaptive"}) {
    Terminal terminal{80};
    const auto [code, output] = run_on_terminal(cli + " sample --target " + ring + " --solver " + solver +
                                                    " --n 2000 --batch 500 --out s.npy", 80);
    if (code == -2) return;
    terminal.feed(output);
    const std::string screen = terminal.screen();
    CAPTURE(solver);
    CAPTURE(screen);
    REQUIRE(code == 0);
    for (const std::string& line : drawn_lines(output)) CHECK(line.size() < 80);
    const std::vector<int> shown = percentages(terminal.redraws, "sampling");
    REQUIRE(shown.size() >= 2);
    CHECK(std::is_sorted(shown.begin(), shown.end()));
    CHECK(screen.find("sampling 100%") != std::string::npos);  // the bar itself when there is room
    CHECK(screen.find("2000/2000 [") != std::string::npos);
    CHECK(screen.find("batch 4/4") != std::string::npos);
    // The bar's NFE is the batch's, as the result counts it (the largest over the batches).
    std::smatch nfe;
    REQUIRE(std::regex_search(screen, nfe, std::regex("samples [0-9]+  NFE ([0-9]+)")));
    int most = 0;
    for (const std::string& frame : terminal.redraws) {
      std::smatch m;
      if (std::regex_search(frame, m, std::regex("NFE ([0-9]+)\\]"))) most = std::max(most, std::stoi(m[1]));
    }
    CHECK(most <= std::stoi(nfe[1]));
    // "computing metrics" showed while it ran, and is gone from the screen.
    CHECK(output.find("computing metrics") != std::string::npos);
    CHECK(screen.find("computing metrics") == std::string::npos);
  }
}

TEST_CASE("the batch total counts a shorter last batch, for sampling and likelihoods") {
  // 1100 samples at 500 a batch are 3 batches (the last of 100); a total taken from the current
  // batch's size once read "batch 3/5", and a likelihood's "batch 2/7".
  const std::string ring = sde::testing::data_path("ring8.json");
  sde::save_npy("pts.npy", torch::randn({1100, 2}, torch::kFloat64));
  for (const std::string command :
       {" sample --target " + ring + " --solver em --steps 100 --n 1100 --batch 500 --out s.npy",
        " likelihood --target " + ring + " --data pts.npy --batch 500 --out l.npy"}) {
    const auto [code, output] = run_on_terminal(cli + command, 80);
    if (code == -2) return;
    CAPTURE(command);
    CAPTURE(output);
    REQUIRE(code == 0);
    const std::regex batch("batch ([0-9]+)/([0-9]+)");
    int last = 0;
    for (auto m = std::sregex_iterator(output.begin(), output.end(), batch); m != std::sregex_iterator(); ++m) {
      CHECK((*m)[2] == "3");
      last = std::max(last, std::stoi((*m)[1]));
    }
    CHECK(last == 3);
  }
}

TEST_CASE("with its output redirected, no command draws a bar") {
  // Pipes and log files get plain lines: likelihood once drew "\r\033[K" frames into 2> e.txt.
  const std::string ring = sde::testing::data_path("ring8.json");
  sde::save_npy("pts.npy", torch::randn({600, 2}, torch::kFloat64));
  for (const std::string command : {" likelihood --target " + ring + " --data pts.npy --batch 200 --out l.npy",
                                    " sample --target " + ring + " --n 600 --batch 200 --out s.npy",
                                    std::string(" train --data toy:ring --steps 50 --batch 8 --width 8 --depth 1 --out piped")}) {
    const sde::testing::CommandResult run = sde::testing::run_command(cli + command);
    CAPTURE(command);
    CAPTURE(run.output);
    REQUIRE(run.code == 0);
    CHECK(run.output.find('\r') == std::string::npos);
    CHECK(run.output.find("\033[") == std::string::npos);
  }
}

TEST_CASE("a narrow terminal drops the bar before it wraps a line") {
  Terminal terminal{40};
  const std::string ring = sde::testing::data_path("ring8.json");
  const auto [code, output] = run_on_terminal(cli + " sample --target " + ring + " --steps 300 --n 500 --out s.npy", 40);
  if (code == -2) return;
  terminal.feed(output);
  CAPTURE(terminal.screen());
  REQUIRE(code == 0);
  // Only the bar is held to the width; the summary lines below it are ordinary output.
  const std::vector<std::string> lines = drawn_lines(output);
  CHECK(lines.size() >= 2);
  for (const std::string& line : lines) CHECK(line.size() < 40);
}
