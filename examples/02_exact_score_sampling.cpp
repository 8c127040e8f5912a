// Example 02 — sampling with the exact score: Euler–Maruyama and predictor–corrector.
//
// With the exact score of the 8-Gaussian ring every error left is the solver's. We run the
// reverse SDE with a growing number of steps N and watch the samples approach the data through
// two numbers: the sliced W2 distance to exact samples (two exact sets differ by the "floor"),
// which sees where the mass is, and the mean exact log-density of the samples, which also sees
// how wide each mode is — too wide lowers it, too narrow raises it above the exact samples' value.
//
// The predictors: Euler–Maruyama, reverse diffusion (the forward discretisation run backwards)
// and ancestral sampling (DDPM's posterior step). The corrector: Langevin MCMC at each time,
// with score_sde's step rule (signal-to-noise ratio 0.16, norms averaged over the batch) —
// at the same N it costs twice the score evaluations, and buys accuracy at small N.
//
// Usage: 02_exact_score_sampling [--out DIR] [--n COUNT] [--quick]
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "example_args.hpp"
#include "sde/io/plots.hpp"
#include "sde/sde.hpp"
#include "sde/solve/registry.hpp"

int main(int argc, char** argv) {
  const ExampleArgs args(argc, argv, {{"out", "."}, {"n", "4000"}});
  const std::string out = args.text("out");
  const int64_t n = args.quick() ? 500 : args.integer("n");
  const std::vector<int64_t> budgets = args.quick() ? std::vector<int64_t>{10, 30} : std::vector<int64_t>{10, 30, 100, 300, 1000};

  const auto vp = sde::make_sde({"vp"});
  const auto ring = sde::GaussianMixture::from_json_file(std::string(SCORESDE_DATA_DIR) + "/ring8.json");
  const sde::GaussianMixtureScore score(ring, vp);
  const auto exact = score.sample(sde::NoiseStream(2), {0, n}, 0.0);
  const double floor = sde::sliced_w2(score.sample(sde::NoiseStream(3), {0, n}, 0.0), exact);

  struct Solver {
    std::string label, name;
    std::map<std::string, std::string> params;
  };
  const std::vector<Solver> solvers = {
      {"Euler-Maruyama", "em", {}},
      {"reverse diffusion", "reverse-diffusion", {}},
      {"ancestral", "ancestral", {}},
      {"PC: rev. diff. + Langevin", "pc", {{"corrector", "langevin"}, {"step_size", "batch-mean"}}},
  };

  std::printf("VP, exact score of the ring, %lld samples; exact samples: sliced W2 floor %.4f, mean log p %.3f\n\n",
              (long long)n, floor, sde::mean_log_likelihood(exact, ring));
  std::printf("%-27s %6s %6s %10s %11s\n", "solver", "N", "NFE", "sliced W2", "mean log p");
  std::string csv = "solver,steps,nfe,sliced_w2,mean_log_p\n";
  sde::ScatterOptions plot;
  plot.size = 200;
  plot.range = sde::PlotRange{-6, 6, -6, 6};
  plot.log_density = sde::log_density_of(ring);
  std::vector<sde::Panel> panels;
  for (const Solver& s : solvers) {
    for (int64_t steps : budgets) {
      sde::SampleRequest options;
      options.grid.steps = steps;
      options.seed = 1;
      options.count = n;
      const auto result = sde::make_sampler(s.name, sde::SolverParams(s.params))->sample(*vp, score, options);
      const double w2 = sde::sliced_w2(result.samples, exact), logp = sde::mean_log_likelihood(result.samples, ring);
      std::printf("%-27s %6lld %6lld %10.4f %11.3f\n", s.label.c_str(), (long long)steps, (long long)result.nfe, w2, logp);
      csv += sde::detail::concat(s.name, ",", steps, ",", result.nfe, ",", w2, ",", logp, "\n");
      // The picture: the smallest and the largest budget of each solver.
      if (steps == budgets.front() || steps == budgets.back()) {
        char caption[96];
        std::snprintf(caption, sizeof caption, "%s, N = %lld, W2 %.3f", s.label.c_str(), (long long)steps, w2);
        panels.push_back({sde::scatter_plot(result.samples, plot), caption});
      }
    }
  }
  sde::write_file_atomic(out + "/02_exact_score_sampling.csv", csv);
  sde::save_png(out + "/02_exact_score_sampling.png",
                sde::gallery(panels, 4, "02: exact-score sampling of the ring, few and many steps"));
  std::printf("\nThe sliced W2 reaches its floor within a few dozen steps; the mean log p shows what remains:\n"
              "with few steps the reverse-SDE samples are too wide (log p far below the exact value), the\n"
              "ancestral ones too narrow (above it); all approach it as N grows (weak order 1: docs/solvers.md).\n"
              "wrote %s/02_exact_score_sampling.csv and .png\n", out.c_str());
  return 0;
}
