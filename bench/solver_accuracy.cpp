// NFE against accuracy for every solver, with the exact score: the 2-D ring of 8 Gaussians and
// the 16-D anisotropic 4-component mixture under VP, at NFE budgets 10, 20, 50, 100, 1000.
// Accuracy: sliced W2 to an exact sample set (and, in 16-D, the Gaussian W2), next to the noise
// floor (the same distances between independent exact sets: mean +- std over 8 sets).
//
// Each solver gets the largest N whose NFE (including the final denoising call) fits the budget,
// on the grid it is designed for: uniform t for the SDE predictors and PC, log-SNR for DDIM and
// DPM-Solver++, Karras (rho = 7) for Heun.
//
// The adaptive solvers have no step count: they get a second table over tolerances (rtol = atol),
// with the mean NFE per sample (and the batched NFE) they spent.
//
// Usage: bench_solver_accuracy [--csv PATH] [--n COUNT]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "sde/sde.hpp"
#include "sde/solve/registry.hpp"

namespace {

struct Setup {
  std::string solver;
  std::map<std::string, std::string> params;
  int64_t nfe_per_step;
  sde::TimeGridKind grid;
};

struct Floor {
  double sw2_mean, sw2_std, gw2_mean, gw2_std;
};

}  // namespace

int main(int argc, char** argv) {
  std::string csv_path = "solver_accuracy.csv";
  int64_t n = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--csv")) csv_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--n")) n = std::atoll(argv[i + 1]);
  }
  const std::vector<Setup> setups = {
      {"em", {}, 1, sde::TimeGridKind::kTime},
      {"reverse-diffusion", {}, 1, sde::TimeGridKind::kTime},
      {"ancestral", {}, 1, sde::TimeGridKind::kTime},
      {"pc", {{"corrector", "langevin"}, {"snr", "0.01"}, {"step_size", "batch-mean"}}, 2, sde::TimeGridKind::kTime},
      {"ddim", {}, 1, sde::TimeGridKind::kLogSnr},
      {"heun", {}, 2, sde::TimeGridKind::kKarras},
      {"dpmpp-2m", {}, 1, sde::TimeGridKind::kLogSnr},
      {"dpmpp-3m", {}, 1, sde::TimeGridKind::kLogSnr},
      {"dpmpp-2s", {}, 2, sde::TimeGridKind::kLogSnr},
  };
  const std::vector<int64_t> budgets = {10, 20, 50, 100, 1000};
  const auto vp = sde::make_sde({"vp"});
  // For the adaptive rows: budget is "tol=...", nfe the mean per sample, steps the batched NFE.
  std::string csv = "target,solver,budget,nfe,steps,sliced_w2,gaussian_w2,floor_sw2_mean,floor_sw2_std,floor_gw2_mean,floor_gw2_std,seconds\n";
  for (const std::string target : {"ring8.json", "aniso16.json"}) {
    const sde::GaussianMixtureScore model(
        sde::GaussianMixture::from_json_file(std::string(SCORESDE_DATA_DIR) + "/" + target), vp,
        torch::kFloat32);
    const auto reference = model.sample(sde::NoiseStream(999), {0, n}, 0.0);
    std::vector<double> sw, gw;
    for (int p = 0; p < 8; ++p) {
      const auto exact = model.sample(sde::NoiseStream(1000 + p), {0, n}, 0.0);
      sw.push_back(sde::sliced_w2(exact, reference));
      gw.push_back(sde::gaussian_w2(exact, reference));
    }
    auto mean_std = [](const std::vector<double>& v) {
      double m = 0, s = 0;
      for (double x : v) m += x / double(v.size());
      for (double x : v) s += (x - m) * (x - m) / double(v.size() - 1);
      return std::pair{m, std::sqrt(s)};
    };
    const auto [swm, sws] = mean_std(sw);
    const auto [gwm, gws] = mean_std(gw);
    std::printf("\n%s, VP, n = %lld, exact score (float32). Floor: sliced W2 %.4f +- %.4f, Gaussian W2 %.4f +- %.4f\n",
                target.c_str(), (long long)n, swm, sws, gwm, gws);
    std::printf("%-18s |", "solver \\ NFE");
    for (int64_t b : budgets) std::printf(" %16lld |", (long long)b);
    std::printf("\n");
    for (const Setup& setup : setups) {
      std::printf("%-18s |", setup.solver.c_str());
      for (int64_t budget : budgets) {
        sde::SampleRequest options;
        options.grid.steps = (budget - 1) / setup.nfe_per_step;
        options.grid.kind = setup.grid;
        options.seed = 1;
        const auto start = std::chrono::steady_clock::now();
        options.count = n;
        const auto result = sde::make_sampler(setup.solver, sde::SolverParams(setup.params))->sample(*vp, model, options);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!result.ok()) {
          std::printf(" %16s |", "diverged");
          continue;
        }
        const double s = sde::sliced_w2(result.samples, reference), g = sde::gaussian_w2(result.samples, reference);
        std::printf(" %7.4f (%4lld) %s|", target == "ring8.json" ? s : g, (long long)result.nfe,
                    (target == "ring8.json" ? s <= swm + sws : g <= gwm + gws) ? "*" : " ");
        csv += sde::detail::concat(target, ",", setup.solver, ",", budget, ",", result.nfe, ",", options.grid.steps, ",",
                                   s, ",", g, ",", swm, ",", sws, ",", gwm, ",", gws, ",", seconds, "\n");
      }
      std::printf("\n");
    }
    std::printf("(%s; * = within the floor mean + 1 std; NFE in parentheses)\n",
                target == "ring8.json" ? "sliced W2" : "Gaussian W2");

    const std::vector<std::string> tolerances = {"0.1", "0.03", "0.01", "0.003", "0.001"};
    std::printf("\n%-18s |", "solver \\ rtol=atol");
    for (const std::string& tol : tolerances) std::printf(" %23s |", tol.c_str());
    std::printf("\n");
    for (const std::string solver : {"dpm-adaptive", "sde-adaptive"}) {
      std::printf("%-18s |", solver.c_str());
      for (const std::string& tol : tolerances) {
        sde::SampleRequest options;
        options.count = n;
        options.seed = 1;
        const auto start = std::chrono::steady_clock::now();
        const auto result = sde::make_sampler(solver, sde::SolverParams(std::map<std::string, std::string>{{"rtol", tol}, {"atol", tol}}))
                                ->sample(*vp, model, options);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double s = sde::sliced_w2(result.samples, reference), g = sde::gaussian_w2(result.samples, reference);
        std::printf(" %7.4f (%6.1f / %4lld) %s|", target == "ring8.json" ? s : g, result.nfe_mean, (long long)result.nfe,
                    (target == "ring8.json" ? s <= swm + sws : g <= gwm + gws) ? "*" : " ");
        csv += sde::detail::concat(target, ",", solver, ",tol=", tol, ",", result.nfe_mean, ",", result.nfe, ",",
                                   s, ",", g, ",", swm, ",", sws, ",", gwm, ",", gws, ",", seconds, "\n");
      }
      std::printf("\n");
    }
    std::printf("(adaptive: mean NFE per sample / batched NFE in parentheses)\n");
  }
  sde::write_file_atomic(csv_path, csv);
  std::printf("\nwrote %s\n", csv_path.c_str());
  return 0;
}
