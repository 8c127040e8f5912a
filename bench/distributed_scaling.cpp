// Scaling over processes: the scoresde program sampling and training with 1 and 2 processes on
// this machine (c10d Gloo over loopback, launched in torchrun's convention), each process with
// one LibTorch thread. Prints throughput, speed-up and parallel efficiency (speed-up / processes)
// and writes a CSV.
//
// Sampling: a trained MLP (the ring, 3000 steps, made first) sampled by Euler–Maruyama (200
// steps) and by the probability-flow ODE (dopri5), 20000 samples; the wall time is rank 0's, from
// the first step to the gathered result. Training: the MLP at a global batch of 1024 (512 per
// process with 2), steps per second over the run's last report.
//
// Usage: bench_distributed_scaling [--csv PATH] [--port P]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "sde/core/atomic_file.hpp"
#include "sde/core/errors.hpp"

namespace {

std::string run(const std::string& command) {
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw sde::Error("cannot run: " + command);
  std::string output;
  char buffer[4096];
  while (size_t got = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, got);
  if (::pclose(pipe) != 0) throw sde::Error("failed: " + command + "\n" + output);
  return output;
}

// `args` of the scoresde program in `processes` processes of one group; rank 0's output.
std::string launch(const std::string& args, int processes, int port) {
  const std::string cli = SCORESDE_CLI;
  if (processes == 1) return run(cli + " " + args);
  std::string command = "(";
  const std::string env = "WORLD_SIZE=" + std::to_string(processes) + " MASTER_PORT=" + std::to_string(port) + " ";
  for (int r = 1; r < processes; ++r) command += env + "RANK=" + std::to_string(r) + " " + cli + " " + args + " > /dev/null 2>&1 & ";
  return run(command + "); " + env + "RANK=0 " + cli + " " + args);
}

// The number right after (sampling's "wall 1.23 s") or right before (training's "966.2 it/s") the
// last occurrence of `key` in `text`.
double number_at(const std::string& text, const std::string& key, bool before) {
  const size_t at = text.rfind(key);
  if (at == std::string::npos || at < 2) throw sde::Error("no '" + key + "' in:\n" + text);
  if (!before) return std::stod(text.substr(at + key.size()));
  const size_t start = text.rfind(' ', at - 2);
  return std::stod(text.substr(start + 1));
}

}  // namespace

int main(int argc, char** argv) {
  std::string csv_path = "distributed_scaling.csv";
  int port = 29700;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--csv")) csv_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--port")) port = std::atoi(argv[i + 1]);
  }
  const std::string dir = (std::filesystem::temp_directory_path() / "scoresde_bench_distributed").string();
  std::filesystem::remove_all(dir);
  std::printf("making the model: scoresde train --data toy:ring --steps 3000\n");
  run(std::string(SCORESDE_CLI) + " train --data toy:ring --steps 3000 --out " + dir + "/model");

  struct Job {
    std::string name, args, key, unit;
  };
  const Job jobs[] = {
      {"sample em, 200 steps, n 20000", "sample --model " + dir + "/model --solver em --steps 200 --n 20000 --out " + dir + "/s.npy",
       "wall ", "s"},
      {"sample ode-dopri5, n 20000", "sample --model " + dir + "/model --solver ode-dopri5 --n 20000 --out " + dir + "/s.npy",
       "wall ", "s"},
      {"train MLP, batch 1024, 600 steps",
       "train --data toy:ring --batch 1024 --steps 600 --log-every 300 --out " + dir + "/train", " it/s", "steps/s"},
  };
  std::printf("\n%-34s | %12s | %12s | %8s | %10s\n", "job", "1 process", "2 processes", "speed-up", "efficiency");
  std::string csv = "job,processes_1,processes_2,unit,speedup,efficiency\n";
  for (const Job& job : jobs) {
    double value[2];
    for (int p = 1; p <= 2; ++p) {
      std::filesystem::remove_all(dir + "/train");
      const std::string out = launch(job.args, p, port++);
      value[p - 1] = number_at(out, job.key, job.key == " it/s");
    }
    const bool rate = job.key == " it/s";
    const double speedup = rate ? value[1] / value[0] : value[0] / value[1];
    std::printf("%-34s | %10.3f %s | %10.3f %s | %8.2f | %9.0f%%\n", job.name.c_str(), value[0], job.unit.c_str(),
                value[1], job.unit.c_str(), speedup, 50 * speedup);
    csv += sde::detail::concat(job.name, ",", value[0], ",", value[1], ",", job.unit, ",", speedup, ",", speedup / 2, "\n");
  }
  sde::write_file_atomic(csv_path, csv);
  std::printf("\nwrote %s\n", csv_path.c_str());
  return 0;
}
