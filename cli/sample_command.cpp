#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "commands.hpp"
#include "control_options.hpp"
#include "model_options.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "validators.hpp"
#include "version.hpp"
#include "sde/atomic_file.hpp"
#include "sde/bounded_prediction.hpp"
#include "sde/errors.hpp"
#include "sde/gaussian_mixture.hpp"
#include "sde/metrics.hpp"
#include "sde/npy.hpp"
#include "sde/distributed.hpp"
#include "sde/solvers/distributed_sampling.hpp"
#include "sde/solvers/registry.hpp"

namespace sde::cli {
namespace {

struct SampleArgs {
  ModelArgs source;
  std::string out, solver = "em", dtype = "float32", schedule = "time";
  std::string latents;  ///< x_T to start from (.npy), instead of prior draws
  std::string images;   ///< a directory for one PNG per image sample
  bool clamp = false;
  bool clip_x0 = false;          ///< clip the data prediction to the data's range
  double threshold = 0;          ///< > 0: dynamic thresholding at this percentile
  std::vector<double> x0_range;  ///< the data's range in the model's space, when the model does not say
  SamplerOptions sampler;
  std::map<std::string, std::string> params;  // solver-specific, only those given
  int64_t count = 0;
  bool no_denoise = false;
  ControlArgs control;
};

// Every registered solver's own options, spelt with '-', each with its type and every solver's
// default: passed on only when given, and checked by the chosen solver itself.
void add_solver_options(CLI::App* cmd, const std::shared_ptr<SampleArgs>& args) {
  struct Uses {
    std::string type, help, defaults;
  };
  std::map<std::string, Uses> keys;
  for (const SolverInfo& info : registered_solvers())
    for (const SolverOption& o : info.options) {
      Uses& uses = keys[o.key];
      if (uses.type.empty()) {
        uses.type = o.type;
        uses.help = o.help;
      }
      uses.defaults += (uses.defaults.empty() ? "" : ", ") + info.name + " " + o.default_value;
    }
  for (const auto& [key, uses] : keys) {
    // A choice's names are in its type; the help of the first solver that has it, then every default.
    cmd->add_option_function<std::string>(
           option_flag(key), [args, key = key](const std::string& v) { args->params[key] = v; },
           "solver option: " + uses.help + " (default: " + uses.defaults + ")")
        ->type_name(uses.type)
        ->group("Solver options (scoresde solvers)");
  }
}

// --latents: x_T for the samples, rows [0, count) of an .npy of shape (n, sample shape...); all
// of them when count is 0.
torch::Tensor load_latents(const std::string& path, const std::vector<int64_t>& shape, int64_t count) {
  const torch::Tensor z = load_npy(path);
  std::vector<int64_t> expected = {z.dim() > 0 ? z.size(0) : 0};
  expected.insert(expected.end(), shape.begin(), shape.end());
  SDE_CHECK(z.is_floating_point() && z.sizes() == c10::IntArrayRef(expected), "--latents ", path, " has shape ", z.sizes(),
            " (", z.scalar_type(), "); give floats of shape (n, ", c10::IntArrayRef(shape), ") in the model's space");
  SDE_CHECK(z.size(0) >= count, "--latents ", path, " holds ", z.size(0), " latents for --n ", count,
            "; give at least one per sample");
  const torch::Tensor finite = torch::isfinite(z.reshape({z.size(0), -1})).all(1);
  SDE_CHECK(finite.all().item<bool>(), "--latents ", path, " row ", (~finite).nonzero()[0][0].item<int64_t>(),
            " holds NaN or infinity");
  return count > 0 ? z.slice(0, 0, count) : z;
}

// A model directory's recommended sampler fills in what neither the command line nor --config
// gave (CLI11 counts both), and says so: a shipped image model samples in seconds by default
// where the command's own default (em, 1000 steps) takes minutes.
void use_recommended_sampler(const CLI::App* cmd, const RecommendedSampler& recommended, SampleArgs& args) {
  if (!recommended.solver.empty()) {
    try {  // the registry's message names the known solvers
      solver_info(recommended.solver);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("'" + args.source.model + "/model.json': sampler: " + e.what());
    }
  }
  std::string taken;
  const auto take = [&](const std::string& flag) { taken += (taken.empty() ? "" : " ") + flag; };
  if (!recommended.solver.empty() && cmd->count("--solver") == 0) {
    args.solver = recommended.solver;
    take("--solver " + recommended.solver);
  }
  if (recommended.steps > 0 && cmd->count("--steps") == 0) {
    args.sampler.steps = recommended.steps;
    take("--steps " + std::to_string(recommended.steps));
  }
  if (!recommended.schedule.empty() && cmd->count("--schedule") == 0) {
    args.schedule = recommended.schedule;
    take("--schedule " + recommended.schedule);
  }
  if (recommended.clip_x0 && cmd->count("--clip-x0") == 0 && cmd->count("--threshold") == 0) {
    args.clip_x0 = true;
    take("--clip-x0");
  }
  if (!taken.empty())
    std::cout << "the model's recommended sampler: " << taken << " (give them to change"
              << (recommended.clip_x0 ? "; --no-clip-x0 to not clip" : "") << ")\n";
}

}  // namespace

Action add_sample_command(CLI::App& app) {
  auto args = std::make_shared<SampleArgs>();
  CLI::App* cmd = app.add_subcommand("sample", "draw samples with a reverse-time solver");
  add_model_options(cmd, args->source);
  std::string solver_names;
  for (const SolverInfo& info : registered_solvers()) solver_names += (solver_names.empty() ? "" : ", ") + info.name;
  cmd->add_option("--solver", args->solver,
                  "solver: " + solver_names + "; or another library's name (scoresde solvers --aliases)")
      ->capture_default_str();
  cmd->add_option("--steps", args->sampler.steps, "number of solver steps N")->capture_default_str();
  cmd->add_option("--schedule", args->schedule, "time grid: uniform in t, in log-SNR, or Karras'")
      ->check(CLI::IsMember(TimeGrid::names()))->capture_default_str();
  cmd->add_option("--rho", args->sampler.grid.rho, "Karras grid exponent")->capture_default_str();
  cmd->add_option("--shift", args->sampler.grid.shift, "time shift of the grid (SD3): lambda -> lambda - log(shift)")
      ->capture_default_str();
  cmd->add_option("--n", args->count, "number of samples (default with --latents: one per latent)")
      ->check(positive_count());
  cmd->add_option("--latents", args->latents,
                  "start from these x_T (.npy of shape (n, sample shape), in the model's space) instead of prior draws")
      ->check(CLI::ExistingFile);
  cmd->add_option("--seed", args->sampler.seed, "random seed")->capture_default_str();
  cmd->add_option("--eps", args->sampler.eps, "final time eps")->capture_default_str();
  cmd->add_option("--batch", args->sampler.batch_size,
                  "samples per batch (0: all; default: all for points, 2^18 entries a batch for images, e.g. 334 "
                  "of 28 x 28: memory)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--dtype", args->dtype, "compute dtype, also the output's")
      ->check(CLI::IsMember({"float32", "float64"}))->capture_default_str();
  cmd->add_flag("--no-denoise", args->no_denoise, "skip the final Tweedie denoising step");
  cmd->add_flag("--clamp", args->clamp, "clip the samples to the data's range (images: their pixel range)");
  cmd->add_option("--images", args->images, "also write each image sample as DIR/000000.png, ...");
  add_control_options(cmd, args->control);
  auto* clip = cmd->add_flag("--clip-x0,!--no-clip-x0", args->clip_x0,
                             "clip the model's data prediction x0_hat to the data's range (bounded data, e.g. images); "
                             "--no-clip-x0: not, where the model recommends it");
  cmd->add_option("--threshold", args->threshold,
                  "dynamic thresholding of x0_hat at this percentile (Imagen: 0.995), within the data's range")
      ->check(CLI::Range(0.0, 1.0))
      ->excludes(clip);
  cmd->add_option("--x0-range", args->x0_range,
                  "the data's range in the model's space for --clip-x0/--threshold (default: the model directory's)")
      ->delimiter(',')
      ->expected(2);
  add_solver_options(cmd, args);
  cmd->add_option("--out", args->out, "output .npy: (n, D) points or (n, C, H, W) images, in --dtype")->required();

  return [args, cmd](const Invocation& invocation) {
    SDE_CHECK(args->count > 0 || !args->latents.empty(), "sample needs --n COUNT (or --latents FILE.npy: a sample per latent)");
    check_npy_output(args->out, /*picture=*/true);
    std::optional<OutputDirectory> images;  // created now, removed again if nothing lands in it
    if (!args->images.empty()) images.emplace(args->images);
    const ModelSource source = open_model(cmd, args->source);
    if (source.trained) use_recommended_sampler(cmd, source.trained->metadata.sampler, *args);
    const Sde& sde = *source.sde;
    const ScoreModel& unguided = source.score();
    const bool image_samples = unguided.sample_shape().size() == 3;
    SDE_CHECK(image_samples || (args->images.empty() && !args->clamp), "--images and --clamp are for image samples "
              "(C, H, W); this model's samples have shape ", c10::IntArrayRef(unguided.sample_shape()));
    if (cmd->count("--batch") == 0) args->sampler.batch_size = default_batch(unguided.sample_shape());
    torch::Tensor latents;
    if (!args->latents.empty()) {
      latents = load_latents(args->latents, unguided.sample_shape(), args->count);
      args->count = latents.size(0);
    }
    const Control control = make_control(args->control, unguided, sde, source.exact.get(), {source.scale, source.shift},
                                         args->sampler.seed, args->count);
    // Bounds on the (guided) model's data prediction, where asked.
    std::optional<BoundedDataPrediction> bounded;
    DataPredictionBounds bounds;
    if (args->clip_x0 || args->threshold > 0) {
      bounds.kind = args->clip_x0 ? DataPredictionBounds::Kind::kClip : DataPredictionBounds::Kind::kDynamic;
      bounds.percentile = args->threshold > 0 ? args->threshold : bounds.percentile;
      const std::optional<std::pair<double, double>> range = source.data_range();
      SDE_CHECK(!args->x0_range.empty() || range, "--clip-x0 and --threshold need the data's range: give --x0-range "
                "LO,HI in the model's space (a model directory of images records it)");
      bounds.low = args->x0_range.empty() ? range->first : args->x0_range[0];
      bounds.high = args->x0_range.empty() ? range->second : args->x0_range[1];
      bounded.emplace(*control.model, sde, bounds);
    }
    const ScoreModel& model = bounded ? static_cast<const ScoreModel&>(*bounded) : *control.model;
    args->sampler.condition = control.condition;
    args->sampler.hooks = control.hooks;
    if (latents.defined()) {
      SDE_CHECK(!args->sampler.hooks.start_state, "--latents and --start both set where sampling starts; give one");
      args->sampler.hooks.start_state = [latents](SampleRange range) { return latents.narrow(0, range.first, range.count); };
    }
    args->sampler.denoise = !args->no_denoise;
    args->sampler.grid.kind = TimeGrid::parse(args->schedule);
    args->sampler.dtype = args->dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
    args->sampler.device = source.device;
    // A solver option from --config that the chosen solver does not have is left out with a note
    // (one file serves several solvers); typed on the command line, it is an error.
    const SolverInfo& info = solver_info(args->solver);
    for (auto it = args->params.begin(); it != args->params.end();) {
      const bool known = std::any_of(info.options.begin(), info.options.end(),
                                     [&](const SolverOption& o) { return o.key == it->first; });
      if (!known && invocation.config_flags.count(option_flag(it->first))) {
        std::cerr << "scoresde: note: " << args->solver << " has no option " << it->first
                  << "; the --config value is not used\n";
        it = args->params.erase(it);
      } else {
        ++it;
      }
    }
    const SolverParams params(args->params);
    make_sampler(args->solver, args->sampler, params);  // the solver and its options checked before any work

    // Several processes (torchrun's RANK/WORLD_SIZE or mpirun): each samples its shard, rank 0
    // gathers and writes; the output is the one-process output bit for bit (docs/distributed.md).
    const ProcessGroupOptions distributed = ProcessGroupOptions::from_environment();
    std::unique_ptr<ProcessGroup> group;
    if (distributed.world_size > 1) group = std::make_unique<ProcessGroup>(distributed);
    SDE_CHECK(!group || !control.repaint, "RePaint (--resamplings) runs in one process; drop the launcher");
    const auto start = std::chrono::steady_clock::now();
    const bool root = !group || group->is_root();
    SamplingBar bar;
    bar.count = group ? shard_range(args->count, group->rank(), group->world_size(),
                                    args->sampler.batch_size > 0 ? args->sampler.batch_size : 1).count
                      : args->count;
    // RePaint's segments go back in time: progress by time there, as for adaptive solvers.
    bar.steps = info.uses_time_grid && !control.repaint ? args->sampler.steps : 0;
    bar.t_start = args->sampler.hooks.start_time > 0 ? args->sampler.hooks.start_time : sde.t_max();
    bar.eps = args->sampler.eps;
    bar.enabled = root && stderr_is_terminal();
    const SampleResult result = sample_with_progress(
        bar, args->sampler, model, [&](const SamplerOptions& options, const ScoreModel& counted) {
          if (control.repaint)
            return repaint(args->solver, options, params, sde, counted, *control.measurement, *control.repaint, args->count);
          if (group) return sample_distributed(args->solver, options, params, sde, counted, args->count, *group);
          return make_sampler(args->solver, options, params)->sample(sde, counted, args->count);
        });
    if (!root) return result.ok() ? 0 : 3;  // rank 0 reports and writes
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!result.ok()) {
      std::cerr << "scoresde: sampling failed: " << result.message << " (nothing written)\n";
      return 3;
    }
    torch::Tensor samples = source.to_data(result.samples).to(torch::kCPU, args->sampler.dtype);
    const std::pair<double, double> range = source.pixel_range(samples);
    // Clipped predictions end in the range up to the rounding of the last step: clamped exactly.
    if (args->clamp || (bounded && bounds.kind == DataPredictionBounds::Kind::kClip && args->x0_range.empty()))
      samples = samples.clamp(range.first, range.second);
    std::cout << "solver " << args->solver << "  sde " << sde.name() << "  samples " << args->count << "  NFE "
              << result.nfe;
    if (result.nfe_mean != double(result.nfe)) std::cout << " (mean per sample " << result.nfe_mean << ")";
    std::cout << "  wall " << seconds << " s\n";

    // The summary, with the distance to exact samples when the density is known, and a picture.
    // nfe: batched score-model calls; nfe_mean: calls per sample; steps: the grid's (fixed-grid
    // solvers only), accepted_steps and rejected_steps: per sample, as the solve took them.
    nlohmann::json summary = {{"solver", args->solver},      {"sde", sde.name()},
                              {"samples", args->count},      {"nfe", result.nfe},
                              {"nfe_mean", result.nfe_mean}, {"accepted_steps", result.accepted_steps},
                              {"rejected_steps", result.rejected_steps}, {"seconds", seconds},
                              {"seed", args->sampler.seed},  {"output", args->out},
                              {"dtype", args->dtype},        {"batch", args->sampler.batch_size},
                              {"processes", distributed.world_size}};
    summary.update(build_info());
    if (info.name != args->solver) summary["runs"] = info.name;  // an alias
    if (info.uses_time_grid) summary["steps"] = args->sampler.steps;
    if (!args->latents.empty()) summary["latents"] = args->latents;
    if (!control.description.empty()) summary["control"] = control.description;
    if (bounded) summary["x0_bounds"] = bounds.describe();
    // The exact density the samples should follow, where known: the target's (its class's
    // sub-mixture for one class), none where guidance or an inverse problem changes the target.
    std::optional<GaussianMixture> density = source.data_density();
    if (control.changes_target || !args->latents.empty() || (density && args->control.label == "all")) density.reset();
    if (density && !args->control.label.empty()) {
      if (density->num_classes() > 0) density = density->given_label(std::stoll(args->control.label));
      else density.reset();
    }
    if (density) {
      const StatusLine status("computing metrics: sliced W2 to exact samples, mean log p ...", root && stderr_is_terminal());
      // The exact model is reused: at D = 3000 each one costs minutes of eigendecompositions.
      std::optional<GaussianMixtureScore> toy;
      const GaussianMixtureScore& truth =
          source.exact && args->control.label.empty() ? *source.exact : toy.emplace(*density, source.sde);
      const torch::Tensor reference = truth.sample(NoiseStream(args->sampler.seed + 1), {0, args->count}, 0.0);
      summary["sliced_w2"] = sliced_w2(samples, reference);
      summary["w2_floor"] = sliced_w2(truth.sample(NoiseStream(args->sampler.seed + 2), {0, args->count}, 0.0), reference);
      summary["mean_log_p"] = mean_log_likelihood(samples, *density);
    }
    if (summary.contains("sliced_w2"))
      std::cout << "sliced W2 to exact samples " << summary["sliced_w2"].get<double>() << " (floor "
                << summary["w2_floor"].get<double>() << ")  mean log p " << summary["mean_log_p"].get<double>() << "\n";
    // The samples, the summary and the pictures land together or not at all.
    std::vector<std::pair<std::string, std::string>> files = {{args->out, npy_bytes(samples)},
                                                              {sibling(args->out, ".json"), summary.dump(2) + "\n"}};
    // Under --class all (sample i of class i mod K) an image grid of K columns, one class each.
    const int64_t classes = unguided.num_classes();
    const std::pair<int, std::string> class_columns =
        args->control.label == "all" && image_samples && classes > 1 && classes <= 20
            ? std::make_pair(int(classes), ", column k: class k")
            : std::make_pair(0, std::string());
    const std::string picture =
        picture_png(samples, args->solver + ", NFE " + std::to_string(result.nfe) + class_columns.second, density, range,
                    class_columns.first);
    if (!picture.empty()) files.emplace_back(sibling(args->out, ".png"), picture);
    if (!args->images.empty()) {
      for (auto& file : image_pngs(samples, args->images, range)) files.push_back(std::move(file));
    }
    write_files_atomic(files);
    std::cout << "wrote " << args->out << ", " << sibling(args->out, ".json")
              << (picture.empty() ? "" : ", " + sibling(args->out, ".png"))
              << (args->images.empty() ? "" : ", " + std::to_string(args->count) + " images in " + args->images + "/")
              << "\n";
    return 0;
  };
}

}  // namespace sde::cli
