#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "control_options.hpp"
#include "model_options.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "replay.hpp"
#include "validators.hpp"
#include "version.hpp"
#include "sde/core/atomic_file.hpp"
#include "sde/core/bounded_prediction.hpp"
#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/metrics.hpp"
#include "sde/io/npy.hpp"
#include "sde/io/schedule_file.hpp"
#include "sde/distributed/process_group.hpp"
#include "sde/solve/distributed_sampling.hpp"
#include "sde/solve/registry.hpp"

namespace sde::cli {
namespace {

struct SampleArgs {
  ModelArgs source;
  std::string out, solver = "em", dtype = "float32", schedule = "time";
  std::string times, sigmas;  ///< an explicit grid: LIST, FILE.npy or FILE.json
  std::string latents;  ///< x_T to start from (.npy), instead of prior draws
  std::string images;   ///< a directory for one PNG per image sample
  bool clamp = false;
  bool clip_x0 = false;          ///< clip the data prediction to the data's range
  double threshold = 0;          ///< > 0: dynamic thresholding at this percentile
  std::vector<double> x0_range;  ///< the data's range in the model's space, when the model does not say
  SampleRequest request;
  std::map<std::string, std::string> params;  // solver-specific, only those given
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
// where the command's own default (em, 1000 steps) takes minutes. An explicit grid (--times,
// --sigmas) keeps its own steps.
void use_recommended_sampler(const CLI::App* cmd, const RecommendedSampler& recommended, SampleArgs& args) {
  if (!recommended.solver.empty()) {
    try {  // the registry's message names the known solvers
      solver_info(recommended.solver);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("'" + args.source.model + "/model.json': sampler: " + e.what());
    }
  }
  const bool explicit_grid = !args.times.empty() || !args.sigmas.empty();
  std::string taken;
  const auto take = [&](const std::string& flag) { taken += (taken.empty() ? "" : " ") + flag; };
  if (!recommended.solver.empty() && cmd->count("--solver") == 0) {
    args.solver = recommended.solver;
    take("--solver " + recommended.solver);
  }
  if (recommended.steps > 0 && cmd->count("--steps") == 0 && !explicit_grid) {
    args.request.grid.steps = recommended.steps;
    take("--steps " + std::to_string(recommended.steps));
  }
  if (!recommended.schedule.empty() && cmd->count("--schedule") == 0 && !explicit_grid) {
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

// The time grid the options name: a formula (--schedule, --steps, --eps, --rho, --shift) or explicit
// times or sigmas, whose first and last entries define where sampling starts and ends. SDEdit's
// --start-time is the formula's start, or must be the explicit grid's first time.
TimeGrid make_grid(const SampleArgs& args, double start_time) {
  TimeGrid grid = args.request.grid;
  if (args.times.empty() && args.sigmas.empty()) {
    grid.kind = TimeGrid::parse(args.schedule);
    grid.start = start_time;
    return grid;
  }
  const bool times = !args.times.empty();
  grid = times ? TimeGrid::times(load_grid_values(args.times, "times"))
               : TimeGrid::sigmas(load_grid_values(args.sigmas, "sigmas"));
  grid.validate();
  SDE_CHECK(start_time == 0 || (times && grid.values.front() == start_time), "--start-time ", start_time,
            " with an explicit grid: its first ", times ? "time" : "sigma", " is where sampling starts; give --times "
            "starting at ", start_time, " (and drop --start-time)");
  return grid;
}

// Solver options the chosen solver does not have: from --config they are dropped with a note (one
// file serves several solvers); typed on the command line they are refused, named as the flags
// the user typed (the registry's own message names option keys).
void check_solver_options(SampleArgs& args, const SolverInfo& info, const Invocation& invocation) {
  std::string flags;  // the solver's options as the command line spells them
  for (const SolverOption& o : info.options) flags += (flags.empty() ? "" : ", ") + option_flag(o.key);
  for (auto it = args.params.begin(); it != args.params.end();) {
    const bool known = std::any_of(info.options.begin(), info.options.end(),
                                   [&](const SolverOption& o) { return o.key == it->first; });
    if (known) {
      ++it;
    } else if (invocation.config_flags.count(option_flag(it->first))) {
      std::cerr << "scoresde: note: " << args.solver << " has no option " << it->first
                << "; the --config value is not used\n";
      it = args.params.erase(it);
    } else {
      throw InvalidArgument(detail::concat("solver '", args.solver, "' has no option ", option_flag(it->first), "; ",
                                           flags.empty() ? "it has none" : "its options: " + flags,
                                           " (scoresde solvers lists every solver's)"));
    }
  }
}

// What the run produced and how, for the summary and the report.
struct SampleRun {
  SampleResult result;
  double seconds = 0;
  bool root = true;       ///< this process reports and writes
  int processes = 1;
};

// Runs the request: RePaint, sharded over the launcher's processes, or one process; with a bar.
SampleRun run_sampling(const Sampler& sampler, const Sde& sde, const ScoreModel& model, const SampleRequest& request,
                       const Control& control) {
  // Several processes (torchrun's RANK/WORLD_SIZE or mpirun): each samples its shard, rank 0
  // gathers and writes; the output is the one-process output bit for bit (docs/distributed.md).
  const ProcessGroupOptions distributed = ProcessGroupOptions::from_environment();
  std::unique_ptr<ProcessGroup> group;
  if (distributed.world_size > 1) group = std::make_unique<ProcessGroup>(distributed);
  SDE_CHECK(!group || !control.repaint, "RePaint (--resamplings) runs in one process; drop the launcher");
  SampleRun run;
  run.processes = distributed.world_size;
  run.root = !group || group->is_root();
  const int64_t count = request.sample_count();
  SamplingBar bar;
  bar.count = group ? shard_range(count, group->rank(), group->world_size(),
                                  request.batch_size > 0 ? request.batch_size : 1).count
                    : count;
  bar.batch = request.batch_size;
  // RePaint's segments go back in time: progress by time there, as for adaptive solvers.
  bar.steps = sampler.uses_time_grid() && !control.repaint ? request.grid.step_count() : 0;
  const std::vector<double> ends = sampler.uses_time_grid() ? make_time_grid(sde, request.grid) : std::vector<double>{};
  bar.t_start = !ends.empty() ? ends.front() : request.grid.start > 0 ? request.grid.start : sde.t_max();
  bar.eps = !ends.empty() ? ends.back() : request.grid.eps;
  bar.enabled = run.root && stderr_is_terminal();
  const auto start = std::chrono::steady_clock::now();
  run.result = sample_with_progress(bar, request, [&](const SampleRequest& observed) {
    if (control.repaint) return repaint(sampler, sde, model, observed, *control.measurement, *control.repaint);
    if (group) return sample_distributed(sampler, sde, model, observed, *group);
    return sampler.sample(sde, model, observed);
  });
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

// The summary: everything needed to run it again, and what it cost. nfe: batched score-model
// calls; nfe_mean: calls per sample; steps and times: the grid's (fixed-grid solvers only),
// accepted_steps and rejected_steps: per sample, as the solve took them.
// Bounds on the (guided) model's data prediction, where --clip-x0 or --threshold asks for them.
std::optional<DataPredictionBounds> prediction_bounds(const SampleArgs& args, const ModelSource& source) {
  if (!args.clip_x0 && args.threshold <= 0) return std::nullopt;
  DataPredictionBounds bounds;
  bounds.kind = args.clip_x0 ? DataPredictionBounds::Kind::kClip : DataPredictionBounds::Kind::kDynamic;
  bounds.percentile = args.threshold > 0 ? args.threshold : bounds.percentile;
  const std::optional<std::pair<double, double>> range = source.data_range();
  SDE_CHECK(!args.x0_range.empty() || range, "--clip-x0 and --threshold need the data's range: give --x0-range "
            "LO,HI in the model's space (a model directory of images records it)");
  bounds.low = args.x0_range.empty() ? range->first : args.x0_range[0];
  bounds.high = args.x0_range.empty() ? range->second : args.x0_range[1];
  return bounds;
}

// "NFE 20", or "NFE 31 (mean per sample 27.5)" where the samples took their own steps.
std::string nfe_text(const SampleResult& result) {
  std::ostringstream text;
  text << result.nfe;
  if (result.nfe_mean != double(result.nfe)) text << " (mean per sample " << result.nfe_mean << ")";
  return text.str();
}

nlohmann::json run_summary(const SampleArgs& args, const SolverInfo& info, const Sde& sde, const SampleRequest& request,
                           const SampleRun& run) {
  const SampleResult& result = run.result;
  nlohmann::json summary = {{"solver", args.solver},      {"sde", sde.name()},
                            {"samples", request.sample_count()}, {"first", request.first},
                            {"nfe", result.nfe},
                            {"nfe_mean", result.nfe_mean}, {"accepted_steps", result.accepted_steps},
                            {"rejected_steps", result.rejected_steps}, {"seconds", run.seconds},
                            {"seed", request.seed},        {"output", args.out},
                            {"dtype", args.dtype},         {"batch", request.batch_size},
                            {"processes", run.processes},  {"denoise", request.denoise}};
  summary.update(build_info());
  if (info.name != args.solver) summary["runs"] = info.name;  // an alias
  // Every option of the solver as it ran: its default, an alias's setting, the one given.
  std::map<std::string, std::string> options;
  for (const SolverOption& o : info.options) options[o.key] = o.default_value;
  for (const SolverAlias& alias : solver_aliases())
    if (alias.name == args.solver)
      for (const auto& [key, value] : alias.params) options[key] = value;
  for (const auto& [key, value] : args.params) options[key] = value;
  summary["solver_options"] = options;
  summary["grid"] = request.grid.describe();
  if (info.uses_time_grid) {
    summary["steps"] = request.grid.step_count();
    // As used: --times FILE.json replays them, --sigmas FILE.json too (the Karras formula's own
    // sigmas: the same times to the last bit).
    summary["times"] = make_time_grid(sde, request.grid);
    summary["sigmas"] = make_sigma_grid(sde, request.grid);
  } else {
    summary["eps"] = request.grid.eps;
  }
  if (!args.latents.empty()) summary["latents"] = args.latents;
  return summary;
}

// The exact density the samples should follow, where known: the target's (its class's
// sub-mixture for one class), none where guidance or an inverse problem changes the target.
std::optional<GaussianMixture> known_density(const SampleArgs& args, const ModelSource& source, const Control& control) {
  std::optional<GaussianMixture> density = source.data_density();
  if (control.changes_target || !args.latents.empty() || (density && args.control.label == "all")) density.reset();
  if (density && !args.control.label.empty()) {
    if (density->num_classes() > 0) density = density->given_label(std::stoll(args.control.label));
    else density.reset();
  }
  return density;
}

// The distance to exact samples and the mean log-density, into the summary and on stdout.
// The metrics use at most this many samples (the first; samples are independent): sorting
// projections of 20 M points took more memory than the samples themselves.
constexpr int64_t kMetricSamples = 50000;

void add_metrics(nlohmann::json& summary, const torch::Tensor& samples, const GaussianMixture& density,
                 const ModelSource& source, const SampleArgs& args, bool show_status) {
  const StatusLine status("computing metrics: sliced W2 to exact samples, mean log p ...", show_status);
  // The exact model is reused: at D = 3000 each one costs minutes of eigendecompositions.
  std::optional<GaussianMixtureScore> toy;
  const GaussianMixtureScore& truth =
      source.exact && args.control.label.empty() ? *source.exact : toy.emplace(density, source.sde);
  const int64_t n = std::min<int64_t>(samples.size(0), kMetricSamples);
  const torch::Tensor used = samples.slice(0, 0, n);
  // Against a reference four times larger, next to the floor: the distance of n exact samples
  // (mean and spread over 8 sets).
  const uint64_t seed = args.request.seed;
  const torch::Tensor reference = truth.sample(NoiseStream(seed + 1), {0, 4 * n}, 0.0);
  const W2Floor floor = sliced_w2_floor(
      [&](int64_t k) { return truth.sample(NoiseStream(seed + 2), {k * n, n}, 0.0); }, reference);
  summary["sliced_w2"] = sliced_w2(used, reference);
  summary["w2_floor"] = floor.mean;
  summary["w2_floor_std"] = floor.std;
  summary["w2_floor_sets"] = floor.draws;
  summary["metric_samples"] = n;
  summary["mean_log_p"] = mean_log_likelihood(used, density);
}

// The samples, the summary and the pictures, landing together or not at all.
void write_outputs(const SampleArgs& args, const torch::Tensor& samples, const nlohmann::json& summary,
                   const std::optional<GaussianMixture>& density, std::pair<double, double> range, int64_t classes,
                   int64_t nfe) {
  std::vector<std::pair<std::string, std::string>> files = {{args.out, npy_bytes(samples)},
                                                            {sibling(args.out, ".json"), summary.dump(2) + "\n"}};
  // Under --class all (sample i of class i mod K) an image grid of K columns, one class each.
  const bool image_samples = samples.dim() == 4;
  const std::pair<int, std::string> class_columns =
      args.control.label == "all" && image_samples && classes > 1 && classes <= 20
          ? std::make_pair(int(classes), ", column k: class k")
          : std::make_pair(0, std::string());
  const std::string picture = picture_png(samples, args.solver + ", NFE " + std::to_string(nfe) + class_columns.second,
                                          density, range, class_columns.first);
  if (!picture.empty()) files.emplace_back(sibling(args.out, ".png"), picture);
  if (!args.images.empty()) {
    for (auto& file : image_pngs(samples, args.images, range)) files.push_back(std::move(file));
  }
  write_files_atomic(files);
  std::cout << "wrote " << args.out << ", " << sibling(args.out, ".json")
            << (picture.empty() ? "" : ", " + sibling(args.out, ".png"))
            << (args.images.empty() ? "" : ", " + std::to_string(samples.size(0)) + " images in " + args.images + "/")
            << "\n";
}

void add_grid_options(CLI::App* cmd, SampleArgs& args) {
  auto* steps = cmd->add_option("--steps", args.request.grid.steps, "number of solver steps N")->capture_default_str();
  auto* schedule = cmd->add_option("--schedule", args.schedule, "time grid: uniform in t, in log-SNR, or Karras'")
                       ->check(CLI::IsMember(TimeGrid::names()))->capture_default_str();
  auto* rho = cmd->add_option("--rho", args.request.grid.rho, "Karras grid exponent")->capture_default_str();
  auto* shift = cmd->add_option("--shift", args.request.grid.shift,
                                "time shift of the grid (SD3): lambda -> lambda - log(shift)")->capture_default_str();
  auto* eps = cmd->add_option("--eps", args.request.grid.eps, "final time eps")->capture_default_str();
  const std::string value_help = ", decreasing, as a comma-separated LIST, a FILE.npy or a FILE.json (a list, or an "
                                 "object with the list under this key: a sample summary's \"times\"); the first and "
                                 "last entries are where sampling starts and ends (the first at most T)";
  auto* times = cmd->add_option("--times", args.times, "explicit time grid t_0 > ... > t_N" + value_help)
                    ->excludes(steps)->excludes(schedule)->excludes(rho)->excludes(shift)->excludes(eps);
  cmd->add_option("--sigmas", args.sigmas, "explicit noise levels sigma/alpha (k-diffusion's sigmas; sigma on VE and "
                  "EDM), mapped to times by the process" + value_help)
      ->excludes(steps)->excludes(schedule)->excludes(rho)->excludes(shift)->excludes(eps)->excludes(times);
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
  add_grid_options(cmd, *args);
  cmd->add_option("--n", args->request.count, "number of samples (default with --latents: one per latent)")
      ->check(positive_count());
  cmd->add_option("--first", args->request.first,
                  "global index of the first sample (sample i depends on (seed, i) only: --first 37 --n 1 re-renders "
                  "sample 37 of a larger run)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--latents", args->latents,
                  "start from these x_T (.npy of shape (n, sample shape), in the model's space) instead of prior draws")
      ->check(CLI::ExistingFile);
  cmd->add_option("--seed", args->request.seed, "random seed")->capture_default_str();
  cmd->add_option("--batch", args->request.batch_size,
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
    SampleRequest& request = args->request;
    SDE_CHECK(request.count > 0 || !args->latents.empty(), "sample needs --n COUNT (or --latents FILE.npy: a sample per latent)");
    check_npy_output(args->out, /*picture=*/true, input_files(*cmd));
    std::optional<OutputDirectory> images;  // created now, removed again if nothing lands in it
    if (!args->images.empty()) images.emplace(args->images);
    const ModelSource source = open_model(cmd, args->source);
    if (source.trained) use_recommended_sampler(cmd, source.trained->metadata.sampler, *args);
    const Sde& sde = *source.sde;
    const ScoreModel& unguided = source.score();
    const bool image_samples = unguided.sample_shape().size() == 3;
    SDE_CHECK(image_samples || (args->images.empty() && !args->clamp), "--images and --clamp are for image samples "
              "(C, H, W); this model's samples have shape ", c10::IntArrayRef(unguided.sample_shape()));
    if (cmd->count("--batch") == 0) request.batch_size = default_batch(unguided.sample_shape());
    if (!args->latents.empty()) {
      request.latents = load_latents(args->latents, unguided.sample_shape(), request.count);
      request.count = request.latents.size(0);
    }
    // Conditions and observations hold a row per global sample index, up to first + count.
    const Control control = make_control(args->control, unguided, sde, source.exact.get(), {source.scale, source.shift},
                                         request.seed, request.first + request.count);
    const std::optional<DataPredictionBounds> bounds = prediction_bounds(*args, source);
    std::optional<BoundedDataPrediction> bounded;
    if (bounds) bounded.emplace(*control.model, sde, *bounds);
    const ScoreModel& model = bounded ? static_cast<const ScoreModel&>(*bounded) : *control.model;
    request.condition = control.condition;
    request.hooks = control.hooks;
    SDE_CHECK(!request.latents.defined() || !request.hooks.start_state,
              "--latents and --start both set where sampling starts; give one");
    request.denoise = !args->no_denoise;
    request.grid = make_grid(*args, control.start_time);
    request.dtype = args->dtype == "float64" ? torch::kFloat64 : torch::kFloat32;
    request.device = source.device;
    const SolverInfo info = solver_info(args->solver);
    check_solver_options(*args, info, invocation);
    // The solver, its options and the grid checked before any work.
    const auto sampler = make_sampler(args->solver, SolverParams(args->params));
    if (sampler->uses_time_grid()) make_time_grid(sde, request.grid);

    const SampleRun run = run_sampling(*sampler, sde, model, request, control);
    const SampleResult& result = run.result;
    if (!run.root) return result.ok() ? 0 : 3;  // rank 0 reports and writes
    if (!result.ok()) {
      std::cerr << "scoresde: sampling failed: " << result.message << " (nothing written)\n";
      return 3;
    }
    torch::Tensor samples = source.to_data(result.samples).to(torch::kCPU, request.dtype);
    const std::pair<double, double> range = source.pixel_range(samples);
    // Clipped predictions end in the range up to the rounding of the last step: clamped exactly.
    if (args->clamp || (bounds && bounds->kind == DataPredictionBounds::Kind::kClip && args->x0_range.empty()))
      samples = samples.clamp(range.first, range.second);
    std::cout << "solver " << args->solver << "  sde " << sde.name() << "  samples " << samples.size(0) << "  NFE "
              << nfe_text(result) << "  wall " << run.seconds << " s\n";

    nlohmann::json summary = run_summary(*args, info, sde, request, run);
    summary.update(run_record(*cmd, invocation.arguments));
    if (!control.description.empty()) summary["control"] = control.description;
    if (bounds) summary["x0_bounds"] = bounds->describe();
    const std::optional<GaussianMixture> density = known_density(*args, source, control);
    if (density) {
      add_metrics(summary, samples, *density, source, *args, stderr_is_terminal());
      std::cout << "sliced W2 to exact samples " << summary["sliced_w2"].get<double>() << " (exact sets: "
                << summary["w2_floor"].get<double>() << " +- " << summary["w2_floor_std"].get<double>()
                << ")  mean log p " << summary["mean_log_p"].get<double>() << "\n";
    }
    write_outputs(*args, samples, summary, density, range, unguided.num_classes(), result.nfe);
    return 0;
  };
}

}  // namespace sde::cli
