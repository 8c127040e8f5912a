// Faults from outside: the process killed with SIGKILL (during training and during checkpoint
// writes) and a full disk. Training resumed after any number of kills ends with the weights of an
// uninterrupted run; a failed write keeps the old file and leaves no temporary behind.
#include "testing.hpp"

#include <sys/mount.h>

#include <filesystem>

#include "sde/io/npy.hpp"
#include "sde/nn/trained_model.hpp"

namespace {

const sde::testing::ScratchDirectory scratch;

using Run = sde::testing::CommandResult;

Run scoresde(const std::string& args) { return sde::testing::run_command(std::string(SCORESDE_CLI) + " " + args); }

bool same_weights(const std::string& a, const std::string& b) {
  const auto x = sde::load_trained_model(a).network.state(), y = sde::load_trained_model(b).network.state();
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i)
    if (!torch::equal(x[i].second, y[i].second)) return false;
  return true;
}

std::vector<std::string> temporaries_in(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) found.push_back(e.path().string());
  return found;
}

}  // namespace

TEST_CASE("training killed with SIGKILL again and again, then resumed, ends with the uninterrupted weights") {
  const std::string common =
      "train --data toy:ring --width 16 --depth 2 --batch 32 --steps 3000 --log-every 0 --seed 4 --data-seed 2";
  REQUIRE(scoresde(common + " --out straight").code == 0);
  // Checkpoints every step: most of the run is spent writing them, so most kills land in a write.
  int interrupted = 0;
  for (int kill = 0; kill < 6; ++kill) {
    const std::string every = kill % 2 == 0 ? " --checkpoint-every 1" : " --checkpoint-every 40";
    const std::string resume = std::filesystem::exists("killed/checkpoint.pt") ? " --resume" : "";
    const double seconds = 0.6 + 0.17 * kill;  // LibTorch's start takes ~0.3 s of it
    const Run run = sde::testing::run_command("timeout -s KILL " + std::to_string(seconds) + " " +
                                              std::string(SCORESDE_CLI) + " " + common + every + resume + " --out killed");
    CAPTURE(run.output);
    if (run.code != 0) {
      CHECK(run.code == 137);  // killed, not failed
      ++interrupted;
    }
  }
  MESSAGE(interrupted, " of 6 runs killed");
  CHECK(interrupted >= 3);
  const Run finish = scoresde(common + " --resume --out killed");
  CAPTURE(finish.output);
  REQUIRE(finish.code == 0);
  CHECK(same_weights("killed", "straight"));
  // What the kills left half-written (NAME.tmp.PID) went with the next write of each file.
  const std::vector<std::string> left = temporaries_in("killed");
  CAPTURE(left.size());
  CAPTURE(left.empty() ? std::string() : left.front());
  CHECK(left.empty());
}

TEST_CASE("a full disk: the write fails with the system's reason, the old file stays, no temporary remains") {
  // A 256 KB tmpfs, where the test may mount one (root, outside a restricted container).
  std::filesystem::create_directory("small");
  if (::mount("tmpfs", "small", "tmpfs", 0, "size=256k") != 0) {
    MESSAGE("skipped: cannot mount a tmpfs here (", std::strerror(errno), ")");
    return;
  }
  const std::string ring = sde::testing::data_path("ring8.json");
  REQUIRE(scoresde("sample --target " + ring + " --n 10 --steps 5 --out small/s.npy").code == 0);
  const torch::Tensor before = sde::load_npy("small/s.npy");
  const Run full = scoresde("sample --target " + ring + " --n 100000 --steps 5 --out small/s.npy");
  CAPTURE(full.output);
  CHECK(full.code == 1);
  CHECK(full.output.find("No space left on device") != std::string::npos);
  CHECK(torch::equal(sde::load_npy("small/s.npy"), before));
  CHECK(temporaries_in("small").empty());
  ::umount("small");
}

TEST_CASE("SIGTERM or SIGINT during training leaves no empty output directory, and keeps one with a checkpoint") {
  // A signal ends the program without unwinding: the directory train created was left behind empty.
  for (const char* signal : {"TERM", "INT"}) {
    CAPTURE(signal);
    const std::string out = std::string("signalled_") + signal;
    const Run run = sde::testing::run_command("timeout -s " + std::string(signal) + " 2 " + std::string(SCORESDE_CLI) +
                                              " train --data toy:ring --steps 10000000 --batch 8 --width 8 --depth 1"
                                              " --log-every 0 --out " + out);
    CHECK(run.code == 124);  // timeout's code: the signal ended it
    CHECK_FALSE(std::filesystem::exists(out));
  }
  // With a checkpoint written the directory holds the work: it stays, and --resume continues it.
  const Run run = sde::testing::run_command("timeout -s TERM 6 " + std::string(SCORESDE_CLI) +
                                            " train --data toy:ring --steps 10000000 --batch 8 --width 8 --depth 1"
                                            " --log-every 0 --checkpoint-every 50 --out signalled_kept");
  CHECK(run.code == 124);
  CHECK(std::filesystem::exists("signalled_kept/checkpoint.pt"));
}
