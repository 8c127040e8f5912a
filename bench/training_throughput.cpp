// Training throughput: optimizer steps per second of scoresde's Trainer (the MLP on the 2-D ring
// at batch 512: DSM loss, backward, clipping, Adam, EMA, and the step's data and noise draws)
// against the same model, loss and step in Python PyTorch (bench/training_throughput.py), on the
// same machine in the same run, with the same number of LibTorch threads, for hidden widths 128
// (the default MLP) and 32, and for the U-Net at batch 64 on 28x28 images. The Python rows need Debian's python3-torch (under /usr/bin/python3);
// without it they say so.
//
// Both sides run the same matrix products; what C++ saves is the interpreter's cost per
// operation. So the ratio is largest where the products are small: at width 128 they are ~85% of
// a step (forward 1.05 ms + backward 1.65 ms of 3.1 ms, measured), at width 32 a small part.
//
// Usage: bench_training_throughput [--steps N] [--threads T] [--csv PATH]
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sde/sde.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double cpp_steps_per_second(int64_t steps, int64_t batch, int64_t width) {
  sde::NetworkSpec spec;
  spec.sample_shape = {2};
  spec.width = width;
  sde::TrainOptions options;
  options.batch = batch;
  options.steps = steps + 20;
  const auto ring = sde::toy_training_data("ring", 0);
  sde::Trainer trainer(sde::make_sde({"vp"}), sde::ScoreNetwork(spec, 0), sde::Parameterization::kNoise,
                       sde::TimeConditioning::kTime, options);
  for (int64_t k = 0; k < 20; ++k) trainer.step(ring(k, batch).x0 * 0.35);  // warm-up, as the Python side
  const auto start = Clock::now();
  for (int64_t k = 20; k < 20 + steps; ++k) trainer.step(ring(k, batch).x0 * 0.35);
  return double(steps) / std::chrono::duration<double>(Clock::now() - start).count();
}

// The default U-Net (channels 32, levels 1-2-2, one block per level, attention at 7x7) on random
// 28x28 images at batch 64; the Python script builds the same network (same parameter count).
double unet_steps_per_second(int64_t steps) {
  sde::NetworkSpec spec;
  spec.kind = "unet";
  spec.sample_shape = {1, 28, 28};
  sde::TrainOptions options;
  options.batch = 64;
  options.steps = steps + 3;
  const auto images = sde::NoiseStream(0).uniform({0, 256}, {1, 28, 28}, 0) * 2 - 1;
  const auto data = sde::dataset_training_data(images, 0);
  sde::Trainer trainer(sde::make_sde({"vp"}), sde::ScoreNetwork(spec, 0), sde::Parameterization::kNoise,
                       sde::TimeConditioning::kTime, options);
  for (int64_t k = 0; k < 3; ++k) trainer.step(data(k, 64));
  const auto start = Clock::now();
  for (int64_t k = 3; k < 3 + steps; ++k) trainer.step(data(k, 64));
  return double(steps) / std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs the Python script for `model` (mlp|unet); 0 when python3-torch is missing or the script fails.
double python_steps_per_second(const std::string& model, int64_t steps, int64_t batch, int threads, int64_t width) {
  if (std::system("/usr/bin/python3 -c 'import torch' > /dev/null 2>&1") != 0) return 0;
  const std::string command = "/usr/bin/python3 " + std::string(SCORESDE_SOURCE_DIR) + "/bench/training_throughput.py " +
                              std::to_string(steps) + " " + std::to_string(batch) + " " + std::to_string(threads) + " " +
                              model + " " + std::to_string(width);
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return 0;
  long long parameters = 0;
  double rate = 0;
  if (std::fscanf(pipe, "parameters %lld steps_per_second %lf", &parameters, &rate) != 2) rate = 0;
  ::pclose(pipe);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t steps = 1000;
  int threads = 1;
  std::string csv_path = "training_throughput.csv";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--steps")) steps = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--csv")) csv_path = argv[i + 1];
  }
  at::set_num_threads(threads);
  const int64_t batch = 512;
  std::printf("Training throughput, MLP (depth 3, Fourier time features) on the 2-D ring, VP, batch %lld, "
              "%lld timed steps after 20, %d thread(s)\n\n", (long long)batch, (long long)steps, threads);
  std::printf("%6s | %14s | %14s | %8s\n", "width", "C++ steps/s", "Python steps/s", "ratio");
  std::string csv = "model,width,batch,steps,threads,cpp_steps_per_second,python_steps_per_second,ratio\n";
  for (const int64_t width : {128, 32}) {
    const double cpp = cpp_steps_per_second(steps, batch, width);
    const double python = python_steps_per_second("mlp", steps, batch, threads, width);
    if (python > 0)
      std::printf("%6lld | %14.1f | %14.1f | %8.2f\n", (long long)width, cpp, python, cpp / python);
    else
      std::printf("%6lld | %14.1f | %14s | %8s\n", (long long)width, cpp, "n/a", "n/a");
    csv += sde::detail::concat("mlp,", width, ",", batch, ",", steps, ",", threads, ",", cpp, ",", python, ",",
                               python > 0 ? cpp / python : 0.0, "\n");
  }
  std::printf("(target: C++ >= 1.5x Python for the default MLP, width 128)\n");
  const int64_t unet_steps = std::max<int64_t>(5, steps / 50);
  const double unet = unet_steps_per_second(unet_steps);
  const double unet_python = python_steps_per_second("unet", unet_steps, 64, threads, 0);
  std::printf("\nU-Net (channels 32, levels 1-2-2, attention at 7x7), 28x28, batch 64, %lld timed steps after 3:\n"
              "C++ %.3f steps/s", (long long)unet_steps, unet);
  if (unet_python > 0)
    std::printf(", Python %.3f steps/s, ratio %.2f\n", unet_python, unet / unet_python);
  else
    std::printf(", Python n/a (python3-torch missing)\n");
  csv += sde::detail::concat("unet,32,64,", unet_steps, ",", threads, ",", unet, ",", unet_python, ",",
                             unet_python > 0 ? unet / unet_python : 0.0, "\n");
  sde::write_file_atomic(csv_path, csv);
  std::printf("\nwrote %s\n", csv_path.c_str());
  return 0;
}
