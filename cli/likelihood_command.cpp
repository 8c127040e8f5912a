#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "sde/errors.hpp"
#include "sde/npy.hpp"
#include "sde/solvers/likelihood.hpp"
#include "sde_options.hpp"

namespace sde::cli {
namespace {

struct LikelihoodArgs {
  SdeArgs problem;
  std::string data, out, trace = "exact", norm = "rms";
  LikelihoodOptions options;
};

}  // namespace

Action add_likelihood_command(CLI::App& app) {
  auto args = std::make_shared<LikelihoodArgs>();
  CLI::App* cmd = app.add_subcommand("likelihood", "log-likelihoods of points through the probability-flow ODE");
  add_target_option(cmd, args->problem.target, true);
  add_sde_options(cmd, args->problem.sde);
  cmd->add_option("--data", args->data, "points as .npy of shape (n, D)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--trace", args->trace, "divergence: exact (autograd, D passes) or hutchinson")
      ->check(CLI::IsMember({"exact", "hutchinson"}))->capture_default_str();
  cmd->add_option("--probes", args->options.probes, "Hutchinson probes per point")->capture_default_str();
  cmd->add_flag("--gaussian-probes", args->options.gaussian_probes, "N(0, I) probes instead of Rademacher");
  cmd->add_option("--seed", args->options.seed, "key of the probes")->capture_default_str();
  cmd->add_option("--method", args->options.ode.method, "ODE method")
      ->check(CLI::IsMember({"dopri5", "cash-karp"}))->capture_default_str();
  cmd->add_option("--rtol", args->options.ode.rtol, "relative tolerance")->capture_default_str();
  cmd->add_option("--atol", args->options.ode.atol, "absolute tolerance")->capture_default_str();
  cmd->add_option("--norm", args->norm, "error norm (see docs/likelihood.md)")
      ->check(CLI::IsMember({"rms", "max", "batch-rms"}))->capture_default_str();
  cmd->add_option("--max-steps", args->options.ode.max_steps, "ODE steps before giving up")->capture_default_str();
  cmd->add_option("--eps", args->options.eps, "the data are taken as samples at this time")->capture_default_str();
  cmd->add_option("--out", args->out, "output .npy: log p in nats per point (float64, shape (n,))")->required();

  return [args, cmd]() {
    const auto sde = make_sde_from(cmd, args->problem.sde);
    const GaussianMixtureScore model(GaussianMixture::from_json_file(args->problem.target), sde);
    LikelihoodOptions& o = args->options;
    o.trace = args->trace == "hutchinson" ? TraceEstimator::kHutchinson : TraceEstimator::kExact;
    o.ode.norm = parse_error_norm(args->norm);
    const torch::Tensor x = load_npy(args->data).to(torch::kFloat64);
    SDE_CHECK(x.dim() == 2 && x.size(1) == model.sample_shape()[0], "--data ", args->data, " has shape ",
              x.sizes(), "; the target ", args->problem.target, " needs (n, ", model.sample_shape()[0], ")");

    const auto start = std::chrono::steady_clock::now();
    const LikelihoodResult result = log_likelihood(*sde, model, x, o);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!result.ok()) {
      std::cerr << "scoresde: likelihood failed: " << result.message << " (nothing written)\n";
      return 3;
    }
    save_npy(args->out, result.log_p);
    std::cout << "points " << x.size(0) << "  mean log p " << result.log_p.mean().item<double>() << " nats  bits/dim "
              << result.bits_per_dim();
    if (result.std_error.defined())
      std::cout << "  (Hutchinson, standard error of the mean "
                << result.std_error.square().sum().sqrt().item<double>() / double(x.size(0)) << " nats)";
    std::cout << "  NFE " << result.nfe << "  wall " << seconds << " s\nwrote " << args->out << "\n";
    return 0;
  };
}

}  // namespace sde::cli
