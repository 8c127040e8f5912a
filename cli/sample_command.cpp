#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "commands.hpp"
#include "control_options.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "sde_options.hpp"
#include "validators.hpp"
#include "sde/atomic_file.hpp"
#include "sde/errors.hpp"
#include "sde/gaussian_mixture.hpp"
#include "sde/metrics.hpp"
#include "sde/npy.hpp"
#include "sde/sde_factory.hpp"
#include "sde/distributed.hpp"
#include "sde/solvers/distributed_sampling.hpp"
#include "sde/solvers/registry.hpp"
#include "sde/toy_data.hpp"
#include "sde/torchscript_model.hpp"
#include "sde/trained_model.hpp"

namespace sde::cli {
namespace {

struct SampleArgs {
  SdeArgs problem;
  std::string model;  ///< a model directory written by `scoresde train`, or a TorchScript file
  std::string parameterization, conditioning;  ///< a TorchScript file's, named by the user
  std::vector<int64_t> shape;                  ///< one sample's shape, for a TorchScript file
  int64_t classes = 0;                         ///< a TorchScript file's classes (forward(x, label, y))
  std::string out, solver = "em", dtype = "float32", schedule = "time";
  SamplerOptions sampler;
  std::map<std::string, std::string> params;  // solver-specific, only those given
  int64_t count = 0;
  bool no_denoise = false;
  ControlArgs control;
};

}  // namespace

Action add_sample_command(CLI::App& app) {
  auto args = std::make_shared<SampleArgs>();
  CLI::App* cmd = app.add_subcommand("sample", "draw samples with a reverse-time solver");
  auto* target = add_target_option(cmd, args->problem.target, false);
  auto* model = cmd->add_option("--model", args->model,
                                "model directory written by `scoresde train`, or a TorchScript file (instead of --target)")
                    ->check(CLI::ExistingPath);
  cmd->add_option("--parameterization", args->parameterization, "a TorchScript model's output: score|noise|data|v")
      ->check(CLI::IsMember(parameterization_names()));
  cmd->add_option("--conditioning", args->conditioning, "a TorchScript model's time label: time|999t|sigma|smld")
      ->check(CLI::IsMember(time_conditioning_names()));
  cmd->add_option("--shape", args->shape, "a TorchScript model's sample shape, e.g. 2 or 1,28,28")->delimiter(',');
  cmd->add_option("--classes", args->classes,
                  "a class-conditional TorchScript model's K: its forward(x, label, y) takes classes y, K = no class")
      ->check(CLI::Range(int64_t(1), int64_t(100000)));
  target->excludes(model);
  add_sde_options(cmd, args->problem.sde);
  cmd->add_option("--solver", args->solver, "solver name (see `scoresde solvers`)")->capture_default_str();
  cmd->add_option("--steps", args->sampler.steps, "number of solver steps N")->capture_default_str();
  cmd->add_option("--schedule", args->schedule, "time grid: uniform in t, in log-SNR, or Karras'")
      ->check(CLI::IsMember(TimeGrid::names()))->capture_default_str();
  cmd->add_option("--rho", args->sampler.grid.rho, "Karras grid exponent")->capture_default_str();
  cmd->add_option("--shift", args->sampler.grid.shift, "time shift of the grid (SD3): lambda -> lambda - log(shift)")
      ->capture_default_str();
  cmd->add_option("--n", args->count, "number of samples")->required()->check(positive_count());
  cmd->add_option("--seed", args->sampler.seed, "random seed")->capture_default_str();
  cmd->add_option("--eps", args->sampler.eps, "final time eps")->capture_default_str();
  cmd->add_option("--batch", args->sampler.batch_size, "samples per batch (0: all)")->capture_default_str();
  cmd->add_option("--dtype", args->dtype, "compute dtype")
      ->check(CLI::IsMember({"float32", "float64"}))->capture_default_str();
  cmd->add_flag("--no-denoise", args->no_denoise, "skip the final Tweedie denoising step");
  add_control_options(cmd, args->control);
  // Every registered solver's own options, spelt with '-': passed on only when given, and
  // checked by the chosen solver itself (an option it does not have is an error naming its own).
  std::set<std::string> keys;
  for (const SolverInfo& info : registered_solvers())
    for (const SolverOption& o : info.options) keys.insert(o.key);
  for (const std::string& key : keys) {
    cmd->add_option_function<std::string>(
        option_flag(key), [args, key](const std::string& v) { args->params[key] = v; },
        "solver option " + key + " (see `scoresde solvers`)");
  }
  cmd->add_option("--out", args->out, "output .npy (float32, shape (n, D))")->required();

  return [args, cmd]() {
    SDE_CHECK(!args->problem.target.empty() || !args->model.empty(),
              "sample needs --target MIXTURE.json (exact score) or --model DIR (a trained network)");
    check_npy_output(args->out, /*picture=*/true);
    std::shared_ptr<const Sde> sde;
    std::unique_ptr<GaussianMixtureScore> exact;
    std::unique_ptr<LoadedModel> trained;
    std::unique_ptr<TorchScriptScoreModel> scripted;
    const bool directory = !args->model.empty() && std::filesystem::is_directory(args->model);
    const bool script_file = !args->model.empty() && !directory;
    SDE_CHECK(script_file || (args->parameterization.empty() && args->conditioning.empty() && args->shape.empty() &&
                              args->classes == 0),
              "--parameterization, --conditioning, --shape and --classes describe a TorchScript file given as --model");
    if (directory) {
      trained = load_model_dir(cmd, args->model);
      sde = trained->sde;
    } else {
      sde = make_sde_from(cmd, args->problem.sde);
      if (script_file) {
        SDE_CHECK(!args->parameterization.empty() && !args->conditioning.empty() && !args->shape.empty(),
                  "a TorchScript model does not say what it computes: give --parameterization, --conditioning and "
                  "--shape (see docs/training.md)");
        scripted = std::make_unique<TorchScriptScoreModel>(args->model, sde, parse_parameterization(args->parameterization),
                                                           parse_time_conditioning(args->conditioning), args->shape,
                                                           ConditionInputs{args->classes, false});
      } else {
        exact = std::make_unique<GaussianMixtureScore>(GaussianMixture::from_json_file(args->problem.target), sde);
      }
    }
    const ScoreModel& unguided = trained ? *trained->score : scripted ? *scripted : static_cast<const ScoreModel&>(*exact);
    const Control control =
        make_control(args->control, unguided, *sde, exact.get(),
                     trained ? std::make_pair(trained->metadata.data_scale, trained->metadata.data_shift) : std::make_pair(1.0, 0.0),
                     args->sampler.seed, args->count);
    const ScoreModel& model = *control.model;
    args->sampler.condition = control.condition;
    args->sampler.hooks = control.hooks;
    args->sampler.denoise = !args->no_denoise;
    args->sampler.grid.kind = TimeGrid::parse(args->schedule);
    args->sampler.dtype = args->dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
    const SolverParams params(args->params);

    // Several processes (torchrun's RANK/WORLD_SIZE or mpirun): each samples its shard, rank 0
    // gathers and writes; the output is the one-process output bit for bit (docs/distributed.md).
    const ProcessGroupOptions distributed = ProcessGroupOptions::from_environment();
    std::unique_ptr<ProcessGroup> group;
    if (distributed.world_size > 1) group = std::make_unique<ProcessGroup>(distributed);
    SDE_CHECK(!group || !control.repaint, "RePaint (--resamplings) runs in one process; drop the launcher");
    const auto sampler = group ? nullptr : make_sampler(args->solver, args->sampler, params);
    const auto start = std::chrono::steady_clock::now();
    const bool root = !group || group->is_root();
    SampleResult result;
    {
      ProgressBar bar("sampling", root && ProgressBar::stderr_is_terminal());
      const ProgressScore progress(model, bar, sde->t_max(), args->sampler.eps);
      if (control.repaint)
        result = repaint(args->solver, args->sampler, params, *sde, progress, *control.measurement, *control.repaint, args->count);
      else
        result = group ? sample_distributed(args->solver, args->sampler, params, *sde, progress, args->count, *group)
                       : sampler->sample(*sde, progress, args->count);
    }
    if (!root) return result.ok() ? 0 : 3;  // rank 0 reports and writes
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!result.ok()) {
      std::cerr << "scoresde: sampling failed: " << result.message << " (nothing written)\n";
      return 3;
    }
    const torch::Tensor samples = (trained ? trained->metadata.to_data(result.samples) : result.samples).to(torch::kFloat32);
    std::cout << "solver " << args->solver << "  sde " << sde->name() << "  samples " << args->count << "  NFE "
              << result.nfe;
    if (result.nfe_mean != double(result.nfe)) std::cout << " (mean per sample " << result.nfe_mean << ")";
    std::cout << "  wall " << seconds << " s\n";

    // The summary, with the distance to exact samples when the density is known, and a picture.
    // nfe: batched score-model calls; nfe_mean: calls per sample; steps: the grid's (fixed-grid
    // solvers only), accepted_steps and rejected_steps: per sample, as the solve took them.
    nlohmann::json summary = {{"solver", args->solver},      {"sde", sde->name()},
                              {"samples", args->count},      {"nfe", result.nfe},
                              {"nfe_mean", result.nfe_mean}, {"accepted_steps", result.accepted_steps},
                              {"rejected_steps", result.rejected_steps}, {"seconds", seconds},
                              {"seed", args->sampler.seed},  {"output", args->out},
                              {"processes", distributed.world_size}};
    if (solver_info(args->solver).uses_time_grid) summary["steps"] = args->sampler.steps;
    if (!control.description.empty()) summary["control"] = control.description;
    // The exact density the samples should follow, where known: the target's (its class's
    // sub-mixture for one class), none where guidance or an inverse problem changes the target.
    std::optional<GaussianMixture> density =
        exact ? std::optional<GaussianMixture>(exact->mixture()) : trained ? trained->metadata.data_density() : std::nullopt;
    if (control.changes_target || (density && args->control.label == "all")) density.reset();
    if (density && !args->control.label.empty()) {
      if (density->num_classes() > 0) density = density->given_label(std::stoll(args->control.label));
      else density.reset();
    }
    if (density) {
      // The exact model is reused: at D = 3000 each one costs minutes of eigendecompositions.
      std::optional<GaussianMixtureScore> toy;
      const GaussianMixtureScore& truth = exact && args->control.label.empty() ? *exact : toy.emplace(*density, sde);
      const torch::Tensor reference = truth.sample(NoiseStream(args->sampler.seed + 1), {0, args->count}, 0.0);
      const double w2 = sliced_w2(samples, reference), logp = mean_log_likelihood(samples, *density);
      summary["sliced_w2"] = w2;
      summary["w2_floor"] = sliced_w2(truth.sample(NoiseStream(args->sampler.seed + 2), {0, args->count}, 0.0), reference);
      summary["mean_log_p"] = logp;
      std::cout << "sliced W2 to exact samples " << w2 << " (floor " << summary["w2_floor"].get<double>()
                << ")  mean log p " << logp << "\n";
    }
    const bool symmetric = trained ? trained->metadata.signed_values(samples) : true;
    // The samples, the summary and the picture land together or not at all.
    std::vector<std::pair<std::string, std::string>> files = {{args->out, npy_bytes(samples)},
                                                              {sibling(args->out, ".json"), summary.dump(2) + "\n"}};
    const std::string picture =
        picture_png(samples, args->solver + ", NFE " + std::to_string(result.nfe), density, symmetric);
    if (!picture.empty()) files.emplace_back(sibling(args->out, ".png"), picture);
    write_files_atomic(files);
    std::cout << "wrote " << args->out << ", " << sibling(args->out, ".json")
              << (picture.empty() ? "" : ", " + sibling(args->out, ".png")) << "\n";
    return 0;
  };
}

}  // namespace sde::cli
