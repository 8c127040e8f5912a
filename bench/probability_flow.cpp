// The probability-flow ODE: NFE, wall time and error of sampling and of likelihoods at
// rtol = atol = 1e-3 and 1e-5, for each error norm, on the 2-D ring and the 16-D mixture under VP,
// with the exact score (float64).
//
//  * Sampling: n points from the same prior draw; error = RMS distance of x_eps to a reference
//    solve (dopri5, rtol = atol = 1e-10), the accuracy at which NFE are compared.
//  * Likelihood: n exact samples of p_eps (eps = 1e-5), exact trace; error = mean |log p - exact|
//    with the exact log p_T in place of the prior (the integration error), and with the prior.
//
// The Python reference (score_sde's likelihood.py and the RK45 sampler) runs scipy's RK45 on the
// flattened batch: that is `--norm batch-rms` here.
//
// Usage: bench_probability_flow [--csv PATH] [--n COUNT] [--n-likelihood COUNT]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "sde/sde.hpp"
#include "sde/solve/likelihood.hpp"
#include "sde/solve/registry.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

sde::SampleResult sample(const sde::Sde& s, const sde::ScoreModel& model, int64_t n, const std::string& method,
                         const std::string& tol, const std::string& norm) {
  sde::SampleRequest options;
  options.dtype = torch::kFloat64;
  options.denoise = false;
  options.seed = 3;
  const sde::SolverParams params(std::map<std::string, std::string>{{"rtol", tol}, {"atol", tol}, {"norm", norm}});
  options.count = n;
  return sde::make_sampler(method, params)->sample(s, model, options);
}

}  // namespace

int main(int argc, char** argv) {
  std::string csv_path = "probability_flow.csv";
  int64_t n = 20000, n_likelihood = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--csv")) csv_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--n")) n = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--n-likelihood")) n_likelihood = std::atoll(argv[i + 1]);
  }
  const auto vp = sde::make_sde({"vp"});
  std::string csv = "target,task,method,norm,tol,nfe,seconds,error,error_with_prior\n";
  for (const std::string target : {"ring8.json", "aniso16.json"}) {
    const sde::GaussianMixtureScore model(
        sde::GaussianMixture::from_json_file(std::string(SCORESDE_DATA_DIR) + "/" + target), vp, torch::kFloat64);
    const torch::Tensor reference = sample(*vp, model, n, "ode-dopri5", "1e-10", "rms").samples;
    std::printf("\n%s, VP, exact score, float64. Sampling: %lld points, RMS error to dopri5 at 1e-10\n", target.c_str(), (long long)n);
    std::printf("%-14s %-10s %6s | %5s | %8s | %10s\n", "method", "norm", "tol", "NFE", "seconds", "RMS error");
    for (const std::string method : {"ode-dopri5", "ode-cash-karp"})
      for (const std::string norm : {"rms", "max", "batch-rms"})
        for (const std::string tol : {"1e-3", "1e-5"}) {
          const auto start = Clock::now();
          const auto result = sample(*vp, model, n, method, tol, norm);
          const double seconds = seconds_since(start);
          const double error = (result.samples - reference).square().sum(1).mean().sqrt().item<double>();
          std::printf("%-14s %-10s %6s | %5lld | %8.2f | %10.3g\n", method.c_str(), norm.c_str(), tol.c_str(),
                      (long long)result.nfe, seconds, error);
          csv += sde::detail::concat(target, ",sample,", method, ",", norm, ",", tol, ",", result.nfe, ",", seconds, ",", error, ",\n");
        }

    const double eps = 1e-5;
    const torch::Tensor x = model.sample(sde::NoiseStream(7), {0, n_likelihood}, eps);
    const torch::Tensor exact = model.log_prob(x, torch::full({n_likelihood}, eps, torch::kFloat64));
    const torch::Tensor t_max = torch::full({n_likelihood}, vp->t_max(), torch::kFloat64);
    std::printf("\nLikelihood of %lld exact samples (exact trace): mean |log p - exact| in nats, with the exact p_T "
                "(integration) and with the prior\n", (long long)n_likelihood);
    std::printf("%-10s %-10s %6s | %5s | %8s | %12s | %12s | %8s\n", "method", "norm", "tol", "NFE", "seconds",
                "integration", "with prior", "bits/dim");
    for (const std::string norm : {"rms", "batch-rms"})
      for (const double tol : {1e-3, 1e-5}) {
        sde::LikelihoodOptions o;
        o.eps = eps;
        o.ode.rtol = o.ode.atol = tol;
        o.ode.norm = sde::parse_error_norm(norm);
        const auto start = Clock::now();
        const auto result = sde::log_likelihood(*vp, model, x, o);
        const double seconds = seconds_since(start);
        const auto integral = result.log_p - result.prior_log_p;
        const double integration = (integral + model.log_prob(result.latent, t_max) - exact).abs().mean().item<double>();
        const double with_prior = (result.log_p - exact).abs().mean().item<double>();
        std::printf("%-10s %-10s %6.0e | %5lld | %8.2f | %12.3g | %12.3g | %8.4f\n", "dopri5", norm.c_str(), tol,
                    (long long)result.nfe, seconds, integration, with_prior, result.bits_per_dim());
        csv += sde::detail::concat(target, ",likelihood,ode-dopri5,", norm, ",", tol, ",", result.nfe, ",", seconds, ",",
                                   integration, ",", with_prior, "\n");
      }
  }
  sde::write_file_atomic(csv_path, csv);
  std::printf("\nwrote %s\n", csv_path.c_str());
  return 0;
}
