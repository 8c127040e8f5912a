// Example 01 — the forward SDEs, and sampling with the exact score.
//
// Part 1 tabulates the Gaussian kernel x_t | x_0 ~ N(alpha(t) x_0, sigma(t)^2 I) of the three
// forward SDEs: VP and sub-VP shrink the signal while the noise grows to 1; VE keeps the signal
// and lets the noise explode to sigma_max. The log-SNR lambda = log(alpha / sigma) is the one
// number that says how much of x_0 is left.
//
// Part 2 runs the reverse SDE with Euler–Maruyama on a ring of 8 Gaussians whose score is known
// exactly at every t, and compares the samples with exact ones by the sliced Wasserstein-2
// distance. The "floor" is the same distance between two exact sample sets: the noise a
// perfect sampler would show. The picture shows the ring diffusing under VP, and the three
// samplers' results.
//
// Usage: 01_forward_and_em [--out DIR] [--n COUNT] [--steps N] [--quick]
#include <cstdio>
#include <string>
#include <vector>

#include "example_args.hpp"
#include "sde/io/plots.hpp"
#include "sde/sde.hpp"
#include "sde/solve/registry.hpp"

int main(int argc, char** argv) {
  const ExampleArgs args(argc, argv, {{"out", "."}, {"n", "4000"}, {"steps", "500"}});
  const std::string out = args.text("out");
  const int64_t n = args.quick() ? 500 : args.integer("n"), steps = args.quick() ? 50 : args.integer("steps");

  // ---- Part 1: the marginals of VP, sub-VP and VE ----
  const auto vp = sde::make_sde({"vp"}), subvp = sde::make_sde({"subvp"}), ve = sde::make_sde({"ve"});
  std::printf("Forward kernels x_t | x_0 ~ N(alpha x_0, sigma^2 I)\n");
  std::printf("%6s | %9s %9s %8s | %9s %9s %8s | %9s %8s\n", "t", "VP alpha", "VP sigma",
              "VP lam", "sVP alpha", "sVP sigma", "sVP lam", "VE sigma", "VE lam");
  std::string csv = "t,vp_alpha,vp_sigma,subvp_alpha,subvp_sigma,ve_sigma\n";
  for (double t : {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 1.0}) {
    std::printf("%6.3f | %9.5f %9.5f %8.3f | %9.5f %9.5f %8.3f | %9.4f %8.3f\n", t, vp->alpha(t),
                vp->sigma(t), vp->log_snr(t), subvp->alpha(t), subvp->sigma(t), subvp->log_snr(t),
                ve->sigma(t), ve->log_snr(t));
    csv += sde::detail::concat(t, ",", vp->alpha(t), ",", vp->sigma(t), ",", subvp->alpha(t), ",",
                               subvp->sigma(t), ",", ve->sigma(t), "\n");
  }
  sde::write_file_atomic(out + "/01_marginals.csv", csv);

  // ---- Part 2: Euler–Maruyama with the exact score of a ring of 8 Gaussians ----
  const auto ring = sde::GaussianMixture::from_json_file(std::string(SCORESDE_DATA_DIR) + "/ring8.json");
  std::printf("\nEuler–Maruyama, %lld steps, %lld samples of the 8-Gaussian ring (exact score)\n",
              (long long)steps, (long long)n);
  std::printf("%6s | %5s | %10s | %10s | %12s\n", "SDE", "NFE", "sliced W2", "floor", "mean log p");
  sde::ScatterOptions plot;
  plot.size = 220;
  plot.range = sde::PlotRange{-6, 6, -6, 6};
  std::vector<sde::Panel> panels;
  {  // The forward process under VP: exact samples of p_t, with p_t's contours.
    const sde::GaussianMixtureScore exact(ring, vp);
    for (double t : {0.0, 0.1, 0.25, 0.5, 1.0}) {
      plot.log_density = sde::log_density_of(ring.perturbed(vp->alpha(t), vp->sigma(t)));
      char caption[64];
      std::snprintf(caption, sizeof caption, "VP forward, t = %g", t);
      panels.push_back({sde::scatter_plot(exact.sample(sde::NoiseStream(5), {0, n}, t), plot), caption});
    }
  }
  plot.log_density = sde::log_density_of(ring);
  for (const auto& process : {vp, subvp, ve}) {
    const sde::GaussianMixtureScore score(ring, process);
    sde::SampleRequest options;
    options.grid.steps = steps;
    options.seed = 1;
    options.count = n;
    const auto result = sde::make_sampler("em")->sample(*process, score, options);
    const auto exact_a = score.sample(sde::NoiseStream(2), {0, n}, 0.0);
    const auto exact_b = score.sample(sde::NoiseStream(3), {0, n}, 0.0);
    std::printf("%6s | %5lld | %10.4f | %10.4f | %12.4f\n", process->name().c_str(),
                (long long)result.nfe, sde::sliced_w2(result.samples, exact_a),
                sde::sliced_w2(exact_b, exact_a), sde::mean_log_likelihood(result.samples, ring));
    sde::save_npy(out + "/01_ring_em_" + process->name() + ".npy", result.samples);
    panels.push_back({sde::scatter_plot(result.samples, plot), "EM, exact score, " + process->name()});
  }
  sde::save_png(out + "/01_forward_and_em.png", sde::gallery(panels, 4, "01: the ring diffused under VP, and sampled back"));
  std::printf("\nwrote %s/01_marginals.csv, %s/01_ring_em_{vp,subvp,ve}.npy and %s/01_forward_and_em.png\n",
              out.c_str(), out.c_str(), out.c_str());
  return 0;
}
