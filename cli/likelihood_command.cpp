#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <filesystem>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "replay.hpp"
#include "sde/core/atomic_file.hpp"
#include "sde/core/errors.hpp"
#include "sde/io/idx.hpp"
#include "sde/io/npy.hpp"
#include "sde/distributed/process_group.hpp"
#include "sde/solve/distributed_likelihood.hpp"
#include "sde/solve/likelihood.hpp"
#include "sde/nn/trained_model.hpp"
#include "model_options.hpp"
#include "version.hpp"

namespace sde::cli {
namespace {

struct LikelihoodArgs {
  ModelArgs source;
  std::string data, out, trace = "exact", norm = "rms", method = "dopri5";
  int64_t skip = 0, limit = 0;  ///< the points [skip, skip + limit) of the data (limit 0: to the end)
  LikelihoodOptions options;
};

// The test split's 8-bit images, [N, 1, 28, 28] uint8.
torch::Tensor fashion_mnist_test_pixels() {
  load_fashion_mnist("test", PixelScaling::kUnit);  // names the missing package, if it is
  return load_idx(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz").unsqueeze(1);
}

// Rows [skip, skip + limit) of the data (limit 0: to the end), refused where none are left.
torch::Tensor select_rows(const torch::Tensor& data, int64_t skip, int64_t limit, const std::string& name) {
  SDE_CHECK(skip < data.size(0), "--skip ", skip, " leaves none of the ", data.size(0), " points of ", name,
            "; give a smaller --skip");
  return data.slice(0, skip, limit > 0 ? std::min(skip + limit, data.size(0)) : data.size(0));
}

// The points in the model's space: x_m = scale x + shift, so log p(x) = log p_m(x_m) + D log|scale|.
// Fashion-MNIST's 8-bit pixels k (data units: x = (k + u) / 256 in [0, 1]) are dequantized
// straight into it: x_m = scale (k + u) / 256 + shift.
struct Points {
  torch::Tensor x;
  std::optional<Dequantization> dequantization;
};

Points load_points(const LikelihoodArgs& args, const ModelSource& source, const ScoreModel& model) {
  Points points;
  torch::Tensor& x = points.x;
  if (args.data == "fashion-mnist:test") {
    SDE_CHECK(!source.exact, "--data fashion-mnist:test needs --model (a network of images)");
    const torch::Tensor k = select_rows(fashion_mnist_test_pixels(), args.skip, args.limit, args.data);
    points.dequantization = Dequantization{256, source.scale, source.shift};
    x = points.dequantization->apply(k, NoiseStream(args.options.seed), {args.skip, k.size(0)});
  } else {
    SDE_CHECK(std::filesystem::is_regular_file(args.data), "--data ", args.data,
              " is not a file; give an .npy or fashion-mnist:test");
    x = load_npy(args.data).to(torch::kFloat64);
    SDE_CHECK(x.dim() >= 1 && x.size(0) >= 1, "--data ", args.data, " has shape ", x.sizes(),
              "; give at least one point, as an array of shape (n, ...)");
    x = select_rows(x, args.skip, args.limit, args.data);
    const torch::Tensor finite = torch::isfinite(x).reshape({x.size(0), -1}).all(1);
    SDE_CHECK(finite.all().item<bool>(), "--data ", args.data, " row ", (~finite).nonzero()[0][0].item<int64_t>(),
              " holds NaN or infinity; drop or fix it");
    x = x * source.scale + source.shift;
  }
  std::vector<int64_t> expected = {x.size(0)};
  for (const int64_t n : model.sample_shape()) expected.push_back(n);
  SDE_CHECK(x.sizes() == c10::IntArrayRef(expected), "--data ", args.data, " has shape ", x.sizes(),
            "; the model takes ", c10::IntArrayRef(expected));
  return points;
}

// log p of this process's points (its shard under a launcher), with a bar on a terminal: each
// batch's flow runs from eps up to T, so progress is by time within the batch (not proportional
// to the work: no ETA) over the batches; the bar is an observer of the solve loop.
LikelihoodResult integrate_with_progress(const Sde& sde, const ScoreModel& model, const torch::Tensor& x,
                                         const LikelihoodOptions& o, const ProcessGroup* group) {
  const int64_t mine = group ? shard_range(x.size(0), group->rank(), group->world_size(),
                                           o.batch_size > 0 ? o.batch_size : 1).count
                             : x.size(0);
  const int64_t batches = o.batch_size > 0 ? (mine + o.batch_size - 1) / o.batch_size : 1;
  ProgressBarOptions bar_options;
  bar_options.counted = false;
  bar_options.enabled = (!group || group->is_root()) && stderr_is_terminal();  // never into pipes and logs
  ProgressBar bar("likelihood", 1.0, bar_options);
  int64_t calls = 0, earlier_calls = 0, batch = -1;
  const auto postfix = [&] {
    return (batches > 1 ? "batch " + std::to_string(std::max<int64_t>(batch, 0) + 1) + "/" + std::to_string(batches) + ", "
                        : std::string()) + "NFE " + std::to_string(earlier_calls + calls);
  };
  LikelihoodOptions observed = o;
  if (bar.active()) {  // batches from begin, time and calls from each step
    observed.ode.observer.begin = [&](SampleRange) {
      batch = std::min(batch + 1, batches - 1);
      earlier_calls += calls;
      calls = 0;
    };
    observed.ode.observer.step = [&](const torch::Tensor&, const StepPosition& where) {
      calls = where.calls;
      const double within = std::clamp((where.time - o.eps) / (sde.t_max() - o.eps), 0.0, 1.0);
      bar.update((double(std::max<int64_t>(batch, 0)) + within) / double(batches), postfix(), false);
    };
  }
  const LikelihoodResult result = group ? log_likelihood_distributed(sde, model, x, observed, *group)
                                        : log_likelihood(sde, model, x, observed);
  calls = 0;
  earlier_calls = result.nfe;  // the final line: every batch's calls
  if (result.ok()) bar.update(1.0, postfix(), false);
  return result;
}

// The summary and the report: mean log p and bits/dim over the points that did not fail (a failed
// point's log p is NaN, with a reason), their spreads, the run's settings.
nlohmann::json report(const LikelihoodArgs& args, const Points& points, const torch::Tensor& log_p,
                      const LikelihoodResult& result, double seconds, int processes) {
  const LikelihoodOptions& o = args.options;
  const torch::Tensor good = log_p.index({torch::isfinite(log_p)});
  const int64_t n = good.size(0), count = points.x.size(0);
  const double dims = double(points.x[0].numel()), mean = good.mean().item<double>();
  const double bpd = points.dequantization ? discrete_bits_per_dim(result, *points.dequantization)
                                           : -mean / (dims * std::log(2.0));
  nlohmann::json summary = {{"points", count},        {"mean_log_p", mean},
                            {"bits_per_dim", bpd},    {"nfe", result.nfe}, {"seconds", seconds},
                            {"trace", args.trace},    {"rtol", o.ode.rtol}, {"atol", o.ode.atol},
                            {"data", args.data},      {"output", args.out},
                            {"skip", args.skip},      {"batch", o.batch_size},
                            {"processes", processes}};
  summary.update(build_info());
  // Indices into the data (--skip counted). Rank 0 knows its own failures' reasons; the other
  // ranks' failed points are the remaining NaN rows, their reasons on those ranks' stderr.
  for (const PointFailure& f : result.failures) {
    summary["failed_points"].push_back({{"index", args.skip + f.index}, {"reason", f.message}});
    std::cerr << "scoresde: warning: point " << args.skip + f.index << " failed (log p written as NaN): " << f.message
              << "\n";
  }
  const int64_t failed = count - n;
  if (failed > int64_t(result.failures.size()))
    summary["failed_points_elsewhere"] = failed - int64_t(result.failures.size());
  std::cout << "points " << count;
  if (failed > 0) std::cout << " (" << failed << " failed, left out below)";
  std::cout << "  mean log p " << mean << " nats  bits/dim " << bpd;
  if (points.dequantization)
    std::cout << " (8-bit, dequantized: log p of the model's continuous density, offset included)";
  if (result.std_error.defined()) {
    const torch::Tensor se2 = result.std_error.square();
    const double se = se2.index({torch::isfinite(se2)}).sum().sqrt().item<double>() / double(n);
    summary["hutchinson_std_error"] = se;
    std::cout << "  (Hutchinson, standard error of the mean " << se << " nats)";
  }
  // The spread over points, as a standard error of the mean bits/dim: what a subset says about
  // the whole test set.
  if (n > 1) {
    const double bpd_se = good.std().item<double>() / std::sqrt(double(n)) / (dims * std::log(2.0));
    summary["bits_per_dim_std_error"] = bpd_se;
    std::cout << "  (+- " << bpd_se << " bits/dim over the points)";
  }
  return summary;
}

}  // namespace

Action add_likelihood_command(CLI::App& app) {
  auto args = std::make_shared<LikelihoodArgs>();
  CLI::App* cmd = app.add_subcommand("likelihood", "log-likelihoods of points through the probability-flow ODE");
  add_model_options(cmd, args->source);
  cmd->add_option("--data", args->data,
                  "points as .npy of shape (n, ...), or fashion-mnist:test (8-bit images, dequantized; needs --model)")
      ->required();
  cmd->add_option("--skip", args->skip, "start at point SKIP of the data (a shard of a long run; probes and "
                  "dequantization noise stay those of the whole)")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--limit", args->limit, "only LIMIT points (from --skip; 0: all)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--batch", args->options.batch_size,
                  "points integrated together, sharing steps (0: all; default: all for points, 2^18 entries a batch "
                  "for images, e.g. 334 of 28 x 28: memory)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--trace", args->trace, "divergence: exact (autograd, D passes) or hutchinson")
      ->check(CLI::IsMember({"exact", "hutchinson"}))->capture_default_str();
  cmd->add_option("--probes", args->options.probes, "Hutchinson probes per point")->capture_default_str();
  cmd->add_flag("--gaussian-probes", args->options.gaussian_probes, "N(0, I) probes instead of Rademacher");
  cmd->add_option("--seed", args->options.seed, "key of the probes")->capture_default_str();
  cmd->add_option("--method", args->method, "ODE method")
      ->check(CLI::IsMember({"dopri5", "cash-karp"}))->capture_default_str();
  cmd->add_option("--rtol", args->options.ode.rtol, "relative tolerance")->capture_default_str();
  cmd->add_option("--atol", args->options.ode.atol, "absolute tolerance")->capture_default_str();
  cmd->add_option("--norm", args->norm, "error norm (see docs/likelihood.md)")
      ->check(CLI::IsMember({"rms", "max", "batch-rms"}))->capture_default_str();
  cmd->add_option("--max-steps", args->options.ode.max_steps, "ODE steps before giving up")->capture_default_str();
  cmd->add_option("--eps", args->options.eps, "the data are taken as samples at this time")->capture_default_str();
  cmd->add_option("--out", args->out, "output .npy: log p in nats per point (float64, shape (n,))")->required();

  return [args, cmd](const Invocation& invocation) {
    check_npy_output(args->out, /*picture=*/false, input_files(*cmd));
    const ModelSource source = open_model(cmd, args->source);
    const ScoreModel& model = source.score();
    LikelihoodOptions& o = args->options;
    if (cmd->count("--batch") == 0) o.batch_size = default_batch(model.sample_shape());
    o.trace = args->trace == "hutchinson" ? TraceEstimator::kHutchinson : TraceEstimator::kExact;
    SDE_CHECK(o.trace == TraceEstimator::kHutchinson || (!cmd->count("--probes") && !cmd->count("--gaussian-probes")),
              "--probes and --gaussian-probes set Hutchinson's estimator, and --trace is ", args->trace,
              " (no probes); give --trace hutchinson, or drop them");
    o.ode.norm = parse_error_norm(args->norm);
    o.ode.method = parse_ode_method(args->method);
    o.first_index = args->skip;
    const Points points = load_points(*args, source, model);

    // Several processes (torchrun's RANK/WORLD_SIZE or mpirun): each integrates its shard of the
    // points, rank 0 gathers, reports and writes.
    const ProcessGroupOptions distributed = ProcessGroupOptions::from_environment();
    std::unique_ptr<ProcessGroup> group;
    if (distributed.world_size > 1) group = std::make_unique<ProcessGroup>(distributed);
    const auto start = std::chrono::steady_clock::now();
    const LikelihoodResult result = integrate_with_progress(*source.sde, model, points.x.to(source.device), o, group.get());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!result.ok()) {
      std::cerr << "scoresde: likelihood failed: " << result.message << " (nothing written)\n";
      return 3;
    }
    if (group && !group->is_root()) {  // rank 0 reports and writes; a failed point here is named here
      for (const PointFailure& f : result.failures)
        std::cerr << "scoresde: warning: point " << args->skip + f.index << " failed (log p NaN): " << f.message << "\n";
      return 0;
    }
    const double log_scale_per_point = double(points.x[0].numel()) * std::log(std::abs(source.scale));
    const torch::Tensor log_p = points.dequantization ? result.log_p : result.log_p + log_scale_per_point;
    nlohmann::json summary = report(*args, points, log_p, result, seconds, distributed.world_size);
    summary.update(run_record(*cmd, invocation.arguments));
    write_files_atomic({{args->out, npy_bytes(log_p)}, {sibling(args->out, ".json"), summary.dump(2) + "\n"}});
    std::cout << "  NFE " << result.nfe << "  wall " << seconds << " s\nwrote " << args->out << ", "
              << sibling(args->out, ".json") << "\n";
    return 0;
  };
}

}  // namespace sde::cli
