// Example 07 — sampling a network exported from Python with TorchScript.
//
// Researchers often train in Python. A module saved with torch.jit.trace or torch.jit.script
// loads in C++ without Python, and sde::TorchScriptScoreModel turns it into a score model once
// we say what it computes: its output (here the noise eps, as score_sde's DDPM models) and its
// time input (here the label 999 t). Said wrongly, the same file is a different score — the
// names are part of the model. Every solver then samples it.
//
// By default the program runs 07_export_model.py (beside this file) with Debian's python3-torch
// to train and export the network (~10 s). Without python3-torch it falls back to a module
// defined from C++ with the same signature: the exact noise predictor of N(0, I) data, so the
// whole path still runs. --model FILE.pt samples a file you exported yourself (noise, 999t, 2-D).
//
// Usage: 07_torchscript_model [--out DIR] [--model FILE.pt] [--n COUNT] [--quick]
#include <torch/script.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "example_args.hpp"
#include "sde/sde.hpp"
#include "sde/solve/registry.hpp"

namespace {

// The exact eps-prediction of N(0, I) data under VP: x_t ~ N(0, I), so E[eps | x_t] = sigma x_t,
// with sigma recovered from the label 999 t.
void save_exact_gaussian_module(const std::string& path) {
  torch::jit::Module m("exact_gaussian");
  m.define(R"(
def forward(self, x, label):
    t = label / 999.0
    log_alpha = -0.25 * t * t * (20.0 - 0.1) - 0.5 * t * 0.1
    sigma = torch.sqrt(1.0 - torch.exp(2.0 * log_alpha))
    return sigma.view(-1, 1) * x
)");
  m.save(path);
}

}  // namespace

int main(int argc, char** argv) {
  const ExampleArgs args(argc, argv, {{"out", "."}, {"model", ""}, {"n", "2000"}});
  const std::string out = args.text("out");
  const int64_t n = args.quick() ? 300 : args.integer("n");

  // ---- 1. The file, and what its data are.
  std::string path = args.text("model");
  bool from_python = !path.empty();
  if (path.empty()) {
    path = out + "/07_model.pt";
    const std::string export_script = std::string(SCORESDE_EXAMPLES_DIR) + "/07_export_model.py";
    from_python = std::system("/usr/bin/python3 -c 'import torch' > /dev/null 2>&1") == 0 &&
                  std::system(("/usr/bin/python3 " + export_script + " " + path + (args.quick() ? " 300" : " 3000")).c_str()) == 0;
    if (!from_python) {
      std::printf("python3-torch not found (apt install python3-torch): using a module defined in C++, the exact\n"
                  "noise predictor of N(0, I) data\n");
      save_exact_gaussian_module(path);
    }
  }
  // The Python model learned the ring divided by 4; the fallback is exactly N(0, I).
  const double data_scale = from_python ? 4.0 : 1.0;
  const auto target = from_python ? sde::toy_mixture("ring").value()
                                  : sde::GaussianMixture({1.0}, {Eigen::Vector2d::Zero()}, {Eigen::Matrix2d::Identity()});
  const auto vp = sde::make_sde({"vp"});
  const sde::TorchScriptScoreModel model(path, vp, sde::Parameterization::kNoise, sde::TimeConditioning::kDiscrete999, {2});
  std::printf("\nloaded %s as a score model (noise output, labels 999 t)\n\n", path.c_str());

  // ---- 2. Every kind of solver on it.
  const sde::GaussianMixtureScore exact(target, vp);
  const auto reference = exact.sample(sde::NoiseStream(2), {0, n}, 0.0);
  std::printf("%-12s %6s %10s %11s   (exact samples: W2 floor %.3f, mean log p %.3f)\n", "solver", "NFE", "sliced W2",
              "mean log p", sde::sliced_w2(exact.sample(sde::NoiseStream(3), {0, n}, 0.0), reference),
              sde::mean_log_likelihood(reference, target));
  sde::ScatterOptions plot;
  plot.size = 220;
  plot.range = sde::range_of(reference);
  plot.log_density = sde::log_density_of(target);
  std::vector<sde::Panel> panels;
  std::string csv = "solver,nfe,sliced_w2,mean_log_p\n";
  for (const auto& [name, steps] : std::vector<std::pair<std::string, int64_t>>{
           {"em", 300}, {"ancestral", 300}, {"ddim", 30}, {"dpmpp-2m", 15}, {"ode-dopri5", 0}}) {
    sde::SampleRequest options;
    options.grid.steps = std::max<int64_t>(1, args.quick() ? steps / 10 : steps);
    options.grid.kind = name == "dpmpp-2m" ? sde::TimeGridKind::kLogSnr : sde::TimeGridKind::kTime;
    options.seed = 1;
    options.count = n;
    const auto result = sde::make_sampler(name)->sample(*vp, model, options);
    const auto samples = result.samples * data_scale;
    const double w2 = sde::sliced_w2(samples, reference), logp = sde::mean_log_likelihood(samples, target);
    std::printf("%-12s %6lld %10.4f %11.3f\n", name.c_str(), (long long)result.nfe, w2, logp);
    csv += sde::detail::concat(name, ",", result.nfe, ",", w2, ",", logp, "\n");
    char caption[64];
    std::snprintf(caption, sizeof caption, "%s, NFE %lld, W2 %.3f", name.c_str(), (long long)result.nfe, w2);
    panels.push_back({sde::scatter_plot(samples, plot), caption});
  }
  sde::write_file_atomic(out + "/07_torchscript.csv", csv);
  sde::save_png(out + "/07_torchscript.png",
                sde::gallery(panels, 5, std::string("07: a TorchScript model ") +
                                            (from_python ? "trained and exported in Python" : "defined in C++")));
  std::printf("\nEvery solver samples the file; what is left is the network's own error (the Python run is short\n"
              "and plain: its samples sit on the modes but spread wider than the data, hence the low mean\n"
              "log p; compare example 04). wrote %s/07_torchscript.csv and 07_torchscript.png\n", out.c_str());
  return 0;
}
