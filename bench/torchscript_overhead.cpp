// What a TorchScript network costs per score call through scoresde, against calling the module's
// forward directly, and against our own network of the same layout.
//
// Rows, each timed over CALLS calls at each batch size, best of REPEATS rounds taken in turn:
//   module.forward (loaded as is)     torch::jit::load + forward, grad mode as a user would call it
//   module.forward (frozen, inference)  what TorchScriptScoreModel runs: torch::jit::freeze, InferenceMode
//   TorchScriptScoreModel::score       the whole score call (labels, parameterization, blocks of
//                                      2048 rows for small samples), InferenceMode
//   ScoreNetwork MLP                   our own MLP of the same widths (for a {2} sample shape only)
// The score row minus the frozen row is what scoresde adds per call (negative: the row blocks win).
//
// Usage: bench_torchscript_overhead MODEL.pt --shape 2 [--batches 2000,20000] [--calls 50] [--repeats 3]
//        (a model of forward(x, label) predicting the noise from the label 999 t, as example 07's)
#include <torch/script.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "sde/nn/networks.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/core/torchscript_model.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    out.push_back(std::stoll(text.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

struct Row {
  std::string name;
  std::function<void(const torch::Tensor&, const torch::Tensor&)> call;  // (x, t)
  bool inference;
  double best = 1e300;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_torchscript_overhead MODEL.pt --shape 2 [--batches B1,B2] [--calls N] [--repeats R]\n");
    return 2;
  }
  const std::string path = argv[1];
  std::vector<int64_t> shape = {2}, batches = {2000, 20000};
  int64_t calls = 50, repeats = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--shape")) shape = parse_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batches")) batches = parse_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--calls")) calls = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoll(argv[i + 1]);
  }
  const auto vp = sde::make_sde({"vp"});
  torch::jit::Module plain = torch::jit::load(path);
  plain.eval();
  torch::jit::Module frozen = torch::jit::freeze(plain);
  const sde::TorchScriptScoreModel scripted(path, vp, sde::Parameterization::kNoise,
                                            sde::TimeConditioning::kDiscrete999, shape);
  std::unique_ptr<sde::ScoreModel> own;
  if (shape.size() == 1) {
    sde::NetworkSpec spec;
    spec.sample_shape = shape;
    spec.fourier_scale = 16.0 / 999;  // labels 0..999, as the CLI sets it
    own = sde::score_model_of(vp, sde::ScoreNetwork(spec, 0), sde::Parameterization::kNoise,
                              sde::TimeConditioning::kDiscrete999);
  }
  std::vector<Row> rows = {
      {"module.forward (as loaded, grad mode)", [&](const auto& x, const auto& t) { plain.forward({x, t * 999.0}); }, false},
      {"module.forward (frozen, inference)", [&](const auto& x, const auto& t) { frozen.forward({x, t * 999.0}); }, true},
      {"TorchScriptScoreModel::score", [&](const auto& x, const auto& t) { scripted.score(x, t); }, true},
  };
  if (own) rows.push_back({"ScoreNetwork MLP (ours, same widths)", [&](const auto& x, const auto& t) { own->score(x, t); }, true});

  std::printf("%s, one thread; ms per call, best of %lld rounds of %lld calls\n\n", path.c_str(), (long long)repeats,
              (long long)calls);
  std::printf("%-40s", "row");
  for (const int64_t b : batches) std::printf(" | batch %6lld", (long long)b);
  std::printf("\n");
  std::vector<std::vector<double>> table(rows.size(), std::vector<double>(batches.size(), 1e300));
  for (size_t bi = 0; bi < batches.size(); ++bi) {
    std::vector<int64_t> x_shape = {batches[bi]};
    x_shape.insert(x_shape.end(), shape.begin(), shape.end());
    const torch::Tensor x = torch::randn(x_shape), t = torch::full({batches[bi]}, 0.5);
    for (Row& row : rows) {  // warm-up: the profiling executor's first runs
      c10::InferenceMode guard(row.inference);
      for (int i = 0; i < 3; ++i) row.call(x, t);
    }
    for (int64_t r = 0; r < repeats; ++r) {
      for (size_t ri = 0; ri < rows.size(); ++ri) {
        c10::InferenceMode guard(rows[ri].inference);
        const auto start = Clock::now();
        for (int64_t c = 0; c < calls; ++c) rows[ri].call(x, t);
        const double ms = std::chrono::duration<double>(Clock::now() - start).count() * 1e3 / double(calls);
        table[ri][bi] = std::min(table[ri][bi], ms);
      }
    }
  }
  for (size_t ri = 0; ri < rows.size(); ++ri) {
    std::printf("%-40s", rows[ri].name.c_str());
    for (size_t bi = 0; bi < batches.size(); ++bi) std::printf(" | %12.3f", table[ri][bi]);
    std::printf("\n");
  }
  std::printf("%-40s", "overhead: score - frozen forward");
  for (size_t bi = 0; bi < batches.size(); ++bi) std::printf(" | %12.3f", table[2][bi] - table[1][bi]);
  std::printf("\n");
  return 0;
}
