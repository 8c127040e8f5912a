// `scoresde demo`: the library in one run on an embedded 2-D toy. Train a small MLP, sample it
// with every solver family at a sensible budget, and compare each with exact samples of the
// data: a gallery PNG (one panel per solver), a markdown table and a JSON summary.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "validators.hpp"
#include "version.hpp"
#include "sde/core/atomic_file.hpp"
#include "sde/core/errors.hpp"
#include "sde/core/metrics.hpp"
#include "sde/io/npy.hpp"
#include "sde/io/plots.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/solve/registry.hpp"
#include "sde/core/toy_data.hpp"
#include "sde/nn/trained_model.hpp"
#include "sde/nn/training.hpp"

namespace sde::cli {
namespace {

struct DemoArgs {
  std::string out = "out/demo", data = "ring", sde = "vp";
  int64_t train_steps = 5000, count = 4000;
  uint64_t seed = 0;
  bool quick = false;
};

/// One solver of the gallery, at a budget where it does its job on the toy.
struct DemoSolver {
  std::string label, name;
  int64_t steps;
  TimeGridKind grid;
  std::map<std::string, std::string> params;
};

std::vector<DemoSolver> demo_solvers(bool quick, bool zero_signal_start) {
  const int64_t s = quick ? 10 : 1;  // --quick: a tenth of the steps (tests that everything runs)
  if (zero_signal_start)  // flow matching at T = 1: alpha = 0 there, so only solvers in alpha/sigma form start
    return {
        {"Euler (flow matching)", "euler", 50 / s, TimeGridKind::kTime, {}},
        {"DDIM", "ddim", 50 / s, TimeGridKind::kTime, {}},
        {"prob.-flow ODE, dopri5", "ode-dopri5", 0, TimeGridKind::kTime, {{"rtol", "1e-4"}, {"atol", "1e-4"}}},
        {"DPM-Solver++(2M)", "dpmpp-2m", 20, TimeGridKind::kTime, {}},
        {"DPM-Solver++(3M)", "dpmpp-3m", 20, TimeGridKind::kTime, {}},
        {"DPM-Solver++(2M) SDE", "dpmpp-2m-sde", 20, TimeGridKind::kTime, {}},
        {"UniPC", "unipc", 20, TimeGridKind::kTime, {}},
    };
  return {
      {"Euler-Maruyama", "em", 500 / s, TimeGridKind::kTime, {}},
      // pc's defaults: reverse diffusion with an annealed Langevin corrector (batch-invariant and safe
      // on 2-D data, where the SNR rule with per-sample norms throws ~2% of the points far out).
      {"predictor-corrector", "pc", 250 / s, TimeGridKind::kTime, {}},
      {"ancestral", "ancestral", 500 / s, TimeGridKind::kTime, {}},
      {"prob.-flow ODE, dopri5", "ode-dopri5", 0, TimeGridKind::kTime, {{"rtol", "1e-4"}, {"atol", "1e-4"}}},
      {"DDIM", "ddim", 50 / s, TimeGridKind::kTime, {}},
      {"Heun (EDM)", "heun", 18, TimeGridKind::kKarras, {}},
      {"DPM-Solver++(2M)", "dpmpp-2m", 20, TimeGridKind::kLogSnr, {}},
      {"DPM-Solver++(3M)", "dpmpp-3m", 20, TimeGridKind::kLogSnr, {}},
      {"adaptive DPM-Solver", "dpm-adaptive", 0, TimeGridKind::kTime, {}},
      {"adaptive SDE", "sde-adaptive", 0, TimeGridKind::kTime, {}},
  };
}

std::string fixed(double v, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// 1. An MLP (width 128, depth 3, Fourier time features) trained by denoising score matching on
// the toy, written to OUT/model and read back as `scoresde sample --model` would.
LoadedModel train_demo_model(const DemoArgs& args, const SdeConfig& sde_config) {
  const auto sde = make_sde(sde_config);
  const double scale = 1.0 / toy_data(args.data, NoiseStream(args.seed), {0, 10000}).std().item<double>();
  const auto conditioning = args.sde == "ve" ? TimeConditioning::kSigma : TimeConditioning::kTime;
  // Flow matching's network predicts the velocity: a noise prediction cannot give x0 where alpha = 0.
  const auto parameterization = args.sde == "flow" ? Parameterization::kVelocity : Parameterization::kNoise;
  NetworkSpec network;
  network.sample_shape = {2};
  network.fourier_scale = default_fourier_scale(conditioning, *sde);
  TrainOptions train;
  train.steps = args.train_steps;
  train.seed = args.seed;
  train.checkpoint_path = args.out + "/model/checkpoint.pt";
  train.log_every = 25;  // the progress bar's refresh
  Trainer trainer(sde, ScoreNetwork(network, args.seed), parameterization, conditioning, train);
  std::printf("1. training an MLP (%lld parameters) on toy:%s under %s for %lld steps\n",
              (long long)trainer.network().parameter_count(), args.data.c_str(), sde->name().c_str(),
              (long long)train.steps);
  std::fflush(stdout);
  const TrainingData data = toy_training_data(args.data, args.seed);
  std::filesystem::create_directories(args.out + "/model");
  {
    ProgressBar bar("   training", double(train.steps));
    trainer.run(scaled_training_data(data, scale),
                [&](const TrainProgress& p) { bar.update(double(p.step), "loss " + fixed(p.loss, 4)); });
  }
  ModelMetadata meta;
  meta.sde = sde_config;
  meta.parameterization = parameterization;
  meta.conditioning = conditioning;
  meta.network = network;
  meta.data = "toy:" + args.data;
  meta.data_scale = scale;
  meta.steps_trained = trainer.steps_done();
  save_trained_model(args.out + "/model", meta, trainer.ema());
  return load_trained_model(args.out + "/model");
}

// One solver's row of the comparison.
struct DemoRow {
  nlohmann::json json;
  std::string markdown;  // empty when it failed
  std::optional<Panel> panel;
};

// 2. One solver on the trained model, compared with exact samples of the data. NFE is the batched
// score-model calls, as everywhere; the per-sample mean is shown where adaptive steps differ.
DemoRow sample_with(const DemoSolver& s, const DemoArgs& args, const LoadedModel& model, const torch::Tensor& reference,
                    const std::optional<GaussianMixture>& exact, const ScatterOptions& plot) {
  SampleRequest request;
  request.count = args.count;
  request.grid = TimeGrid::formula(s.grid, std::max<int64_t>(s.steps, 1));
  request.seed = args.seed;
  const auto sampler = make_sampler(s.name, SolverParams(s.params));
  const auto start = std::chrono::steady_clock::now();
  // A bar while it runs; the row printed below replaces it.
  SamplingBar bar;
  bar.label = "   " + s.name;
  bar.count = args.count;
  bar.steps = sampler->uses_time_grid() ? request.grid.steps : 0;
  bar.t_start = model.sde->t_max();
  bar.eps = request.grid.eps;
  bar.leave = false;
  const SampleResult result = sample_with_progress(bar, request, [&](const SampleRequest& observed) {
    return sampler->sample(*model.sde, *model.score, observed);
  });
  const double seconds = seconds_since(start);
  if (!result.ok()) {
    std::printf("   %-24s failed: %s\n", s.label.c_str(), result.message.c_str());
    return {{{"solver", s.name}, {"label", s.label}, {"failed", result.message}}, "", std::nullopt};
  }
  const torch::Tensor points = model.metadata.to_data(result.samples).to(torch::kFloat32);
  const double w2 = sliced_w2(points, reference);
  const double logp = exact ? mean_log_likelihood(points, *exact) : NAN;
  save_npy(args.out + "/samples/" + s.name + ".npy", points);
  const std::string nfe = std::to_string(result.nfe) +
                          (result.nfe_mean != double(result.nfe) ? " (" + fixed(result.nfe_mean, 1) + " per sample)" : "");
  std::printf("   %-24s %22s %8.2f %10.4f%s\n", s.label.c_str(), nfe.c_str(), seconds, w2,
              exact ? ("  " + fixed(logp, 3)).c_str() : "");
  std::fflush(stdout);
  DemoRow row;
  row.markdown = "| " + s.label + " | `" + s.name + "` | " + nfe + " | " + fixed(seconds, 2) + " | " + fixed(w2, 4) +
                 " |" + (exact ? " " + fixed(logp, 3) + " |" : "") + "\n";
  row.json = {{"solver", s.name}, {"label", s.label},   {"nfe", result.nfe},   {"nfe_mean", result.nfe_mean},
              {"seconds", seconds}, {"sliced_w2", w2}};
  if (sampler->uses_time_grid()) row.json["steps"] = request.grid.steps;
  if (exact) row.json["mean_log_p"] = logp;
  row.panel = Panel{scatter_plot(points, plot), s.label + ": NFE " + std::to_string(result.nfe) + ", W2 " + fixed(w2, 3)};
  return row;
}

// The solvers' results: summary.json's rows, demo.md's table and the gallery's panels.
struct DemoTable {
  nlohmann::json rows = nlohmann::json::array();
  std::string markdown;
  std::vector<Panel> panels;
};

// ---- 2. Every demo solver on the trained model, against exact samples (and the exact density).
DemoTable sample_with_each_solver(const DemoArgs& args, const LoadedModel& model, const torch::Tensor& reference,
                                  const std::optional<GaussianMixture>& exact, const W2Floor& floor) {
  ScatterOptions plot;
  plot.size = 240;
  const torch::Tensor shown = reference.slice(0, 0, args.count);  // as many points as each solver's panel
  plot.range = range_of(shown);
  if (exact) plot.log_density = log_density_of(*exact);
  DemoTable table;
  table.panels = {{scatter_plot(shown, plot), "exact samples (W2 " + fixed(floor.mean, 3) + " +- " + fixed(floor.std, 3) + ")"}};
  table.markdown = "| solver | name | NFE | wall s | sliced W2 |" + std::string(exact ? " mean log p |" : "") +
                   "\n|---|---|---:|---:|---:|" + (exact ? "---:|" : "") + "\n";
  std::printf("   %-24s %22s %8s %10s%s\n", "solver", "NFE", "wall s", "sliced W2", exact ? "  mean log p" : "");
  for (const DemoSolver& s : demo_solvers(args.quick, model.sde->alpha(model.sde->t_max()) == 0)) {
    DemoRow row = sample_with(s, args, model, reference, exact, plot);
    table.rows.push_back(row.json);
    table.markdown += row.markdown;
    if (row.panel) table.panels.push_back(std::move(*row.panel));
  }
  return table;
}

// gallery.png, demo.md and summary.json.
void write_demo_files(const DemoArgs& args, const LoadedModel& model, const DemoTable& table, bool exact, const W2Floor& floor,
                      const std::string& floor_note, double train_seconds, double total_seconds) {
  const std::string sde = model.sde->name();
  const std::string title = "scoresde demo: toy:" + args.data + ", " + sde + " SDE, MLP trained " +
                            std::to_string(model.metadata.steps_trained) + " steps; red: exact density contours";
  save_png(args.out + "/gallery.png", gallery(table.panels, 4, exact ? title : title.substr(0, title.find(';'))));
  write_file_atomic(args.out + "/demo.md", "# scoresde demo\n\ntoy:" + args.data + " under " + sde + ", " +
                                                std::to_string(model.metadata.steps_trained) + " training steps (" +
                                                fixed(train_seconds, 1) + " s), " + std::to_string(args.count) +
                                                " samples per solver.\n\n" + table.markdown + "\n" + floor_note +
                                                "\n\n![gallery](gallery.png)\n");
  nlohmann::json summary = {{"data", "toy:" + args.data}, {"sde", sde},
                            {"train_steps", model.metadata.steps_trained}, {"train_seconds", train_seconds},
                            {"samples", args.count},     {"w2_floor", floor.mean}, {"w2_floor_std", floor.std},
                            {"solvers", table.rows},     {"total_seconds", total_seconds}};
  summary.update(build_info());
  write_file_atomic(args.out + "/summary.json", summary.dump(2) + "\n");
}

}  // namespace

Action add_demo_command(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand("demo", "train a small model on a 2-D toy and compare every solver family "
                                             "(gallery PNG, markdown table, JSON)");
  cmd->add_option("--out", args->out, "output directory")->capture_default_str();
  cmd->add_option("--data", args->data, "toy distribution: ring (exact density known: contours, log p) | "
                                        "swissroll | checkerboard | moons")
      ->check(CLI::IsMember(toy_data_names()))->capture_default_str();
  cmd->add_option("--sde", args->sde, "forward SDE")->check(CLI::IsMember(sde_names()))->capture_default_str();
  cmd->add_option("--train-steps", args->train_steps, "optimizer steps")->check(positive_count())->capture_default_str();
  cmd->add_option("--n", args->count, "samples per solver")->check(positive_count())->capture_default_str();
  cmd->add_option("--seed", args->seed, "seed of training and sampling")->capture_default_str();
  cmd->add_flag("--quick", args->quick, "300 training steps, 500 samples, a tenth of the solver steps: checks the "
                                        "pipeline in seconds (the pictures are rough)");

  return [args](const Invocation&) {
    const auto start = std::chrono::steady_clock::now();
    if (args->quick) {
      args->train_steps = std::min<int64_t>(args->train_steps, 300);
      args->count = std::min<int64_t>(args->count, 500);
    }
    const OutputDirectory out(args->out);  // refused if a file; removed again if the demo fails at once
    const std::optional<GaussianMixture> exact = toy_mixture(args->data);
    SdeConfig sde_config;
    sde_config.name = args->sde;
    const LoadedModel model = train_demo_model(*args, sde_config);
    const double train_seconds = seconds_since(start);
    std::printf("   %.1f s; model in %s/model (scoresde sample --model %s/model ...)\n\n", train_seconds,
                args->out.c_str(), args->out.c_str());

    std::printf("2. sampling %lld points with each solver\n", (long long)args->count);
    std::filesystem::create_directories(args->out + "/samples");
    // Every set is measured against a reference four times its size; the floor is what sets of as
    // many exact samples reach (mean and spread over 8 of them).
    const torch::Tensor reference = toy_data(args->data, NoiseStream(args->seed + 1), {0, 4 * args->count});
    const W2Floor floor = sliced_w2_floor(
        [&](int64_t k) { return toy_data(args->data, NoiseStream(args->seed + 2), {k * args->count, args->count}); },
        reference);
    const DemoTable table = sample_with_each_solver(*args, model, reference, exact, floor);
    // ---- 3. The files.
    const double total = seconds_since(start);
    const std::string floor_note = "Sliced W2 against " + std::to_string(4 * args->count) + " exact samples; sets of " +
                                   std::to_string(args->count) + " exact samples reach " + fixed(floor.mean, 4) + " +- " +
                                   fixed(floor.std, 4) + " (mean and spread over 8: the floor)." +
                                   (exact ? " Mean log p: the exact log-density of the samples (exact samples: " +
                                                fixed(mean_log_likelihood(reference.slice(0, 0, args->count), *exact), 3) + ")."
                                          : "");
    write_demo_files(*args, model, table, exact.has_value(), floor, floor_note, train_seconds, total);
    std::printf("\n   %s\n3. wrote, in %.0f s:\n   %s/gallery.png   one panel per solver\n"
                "   %s/demo.md       the table\n   %s/summary.json  the same as JSON\n"
                "   %s/samples/      the samples (.npy)\n   %s/model/        the trained model\n",
                floor_note.c_str(), total, args->out.c_str(), args->out.c_str(), args->out.c_str(), args->out.c_str(),
                args->out.c_str());
    if (!Image::font_available())
      std::printf("   (captions left out: %s is missing; apt install fonts-dejavu-core)\n", kDefaultFontPath);
    return 0;
  };
}

}  // namespace sde::cli
