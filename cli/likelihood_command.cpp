#include <chrono>
#include <cmath>
#include <iostream>
#include <filesystem>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "sde/atomic_file.hpp"
#include "sde/errors.hpp"
#include "sde/idx.hpp"
#include "sde/npy.hpp"
#include "sde/solvers/likelihood.hpp"
#include "sde/trained_model.hpp"
#include "model_options.hpp"
#include "version.hpp"

namespace sde::cli {
namespace {

struct LikelihoodArgs {
  ModelArgs source;
  std::string data, out, trace = "exact", norm = "rms", method = "dopri5";
  int64_t limit = 0;  ///< fashion-mnist:test: the first LIMIT images (0: all)
  LikelihoodOptions options;
};

// The test split's 8-bit images, [N, 1, 28, 28] uint8 (the first `limit` when limit > 0).
torch::Tensor fashion_mnist_test_pixels(int64_t limit) {
  load_fashion_mnist("test", PixelScaling::kUnit);  // names the missing package, if it is
  const torch::Tensor k = load_idx(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz").unsqueeze(1);
  return limit > 0 ? k.slice(0, 0, std::min(limit, k.size(0))) : k;
}

}  // namespace

Action add_likelihood_command(CLI::App& app) {
  auto args = std::make_shared<LikelihoodArgs>();
  CLI::App* cmd = app.add_subcommand("likelihood", "log-likelihoods of points through the probability-flow ODE");
  add_model_options(cmd, args->source);
  cmd->add_option("--data", args->data,
                  "points as .npy of shape (n, ...), or fashion-mnist:test (8-bit images, dequantized; needs --model)")
      ->required();
  cmd->add_option("--limit", args->limit, "fashion-mnist:test: only the first LIMIT images")->capture_default_str();
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

  return [args, cmd](const Invocation&) {
    check_npy_output(args->out, /*picture=*/false);
    const ModelSource source = open_model(cmd, args->source);
    const std::shared_ptr<const Sde>& sde = source.sde;
    const ScoreModel& model = source.score();
    const double scale = source.scale, shift = source.shift;
    LikelihoodOptions& o = args->options;
    o.trace = args->trace == "hutchinson" ? TraceEstimator::kHutchinson : TraceEstimator::kExact;
    o.ode.norm = parse_error_norm(args->norm);
    o.ode.method = parse_ode_method(args->method);
    // The points in the model's space: x_m = scale x + shift, so log p(x) = log p_m(x_m) + D log|scale|.
    // Fashion-MNIST's 8-bit pixels k (data units: x = (k + u) / 256 in [0, 1]) are dequantized
    // straight into it: x_m = scale (k + u) / 256 + shift.
    std::optional<Dequantization> dequantization;
    torch::Tensor x;
    if (args->data == "fashion-mnist:test") {
      SDE_CHECK(!source.exact, "--data fashion-mnist:test needs --model (a network of images)");
      const torch::Tensor k = fashion_mnist_test_pixels(args->limit);
      dequantization = Dequantization{256, scale, shift};
      x = dequantization->apply(k, NoiseStream(o.seed), {0, k.size(0)});
    } else {
      SDE_CHECK(std::filesystem::is_regular_file(args->data), "--data ", args->data,
                " is not a file; give an .npy or fashion-mnist:test");
      x = load_npy(args->data).to(torch::kFloat64);
      SDE_CHECK(x.dim() >= 1 && x.size(0) >= 1, "--data ", args->data, " has shape ", x.sizes(),
                "; give at least one point, as an array of shape (n, ...)");
      const torch::Tensor finite = torch::isfinite(x).reshape({x.size(0), -1}).all(1);
      SDE_CHECK(finite.all().item<bool>(), "--data ", args->data, " row ", (~finite).nonzero()[0][0].item<int64_t>(),
                " holds NaN or infinity; drop or fix it");
      x = x * scale + shift;
    }
    std::vector<int64_t> expected = {x.size(0)};
    for (const int64_t n : model.sample_shape()) expected.push_back(n);
    SDE_CHECK(x.sizes() == c10::IntArrayRef(expected), "--data ", args->data, " has shape ", x.sizes(),
              "; the model takes ", c10::IntArrayRef(expected));
    const double log_scale_per_point = double(x[0].numel()) * std::log(std::abs(scale));

    const auto start = std::chrono::steady_clock::now();
    LikelihoodResult result;
    {
      // The flow runs from eps up to T: progress by time, which is not proportional to the work
      // (no ETA), and the model calls.
      ProgressBarOptions bar_options;
      bar_options.counted = false;
      ProgressBar bar("likelihood", 1.0, bar_options);
      int64_t calls = 0;
      const CountingScore counted(model, [&](const torch::Tensor& t) {
        ++calls;
        if (bar.active() && t.numel() > 0)
          bar.update((t.mean().item<double>() - o.eps) / (sde->t_max() - o.eps), "NFE " + std::to_string(calls), false);
      });
      result = log_likelihood(*sde, counted, x.to(source.device), o);
      if (result.ok()) bar.update(1.0, "NFE " + std::to_string(result.nfe), false);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!result.ok()) {
      std::cerr << "scoresde: likelihood failed: " << result.message << " (nothing written)\n";
      return 3;
    }
    const torch::Tensor log_p = dequantization ? result.log_p : result.log_p + log_scale_per_point;
    // Statistics over the points that did not fail (a failed point's log p is NaN, with a reason).
    const torch::Tensor good = log_p.index({torch::isfinite(log_p)});
    const int64_t n = good.size(0);
    const double dims = double(x[0].numel()), mean = good.mean().item<double>();
    const double bpd = dequantization ? discrete_bits_per_dim(result, *dequantization) : -mean / (dims * std::log(2.0));
    nlohmann::json summary = {{"points", x.size(0)}, {"mean_log_p", mean},
                              {"bits_per_dim", bpd}, {"nfe", result.nfe}, {"seconds", seconds},
                              {"trace", args->trace}, {"rtol", o.ode.rtol}, {"atol", o.ode.atol},
                              {"data", args->data},  {"output", args->out}};
    summary.update(build_info());
    for (const PointFailure& f : result.failures) {
      summary["failed_points"].push_back({{"index", f.index}, {"reason", f.message}});
      std::cerr << "scoresde: warning: point " << f.index << " failed (log p written as NaN): " << f.message << "\n";
    }
    std::cout << "points " << x.size(0);
    if (!result.failures.empty()) std::cout << " (" << result.failures.size() << " failed, left out below)";
    std::cout << "  mean log p " << mean << " nats  bits/dim " << bpd;
    if (dequantization) std::cout << " (8-bit, dequantized: log p of the model's continuous density, offset included)";
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
    write_files_atomic({{args->out, npy_bytes(log_p)}, {sibling(args->out, ".json"), summary.dump(2) + "\n"}});
    std::cout << "  NFE " << result.nfe << "  wall " << seconds << " s\nwrote " << args->out << ", "
              << sibling(args->out, ".json") << "\n";
    return 0;
  };
}

}  // namespace sde::cli
