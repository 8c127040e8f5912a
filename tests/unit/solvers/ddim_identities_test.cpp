// DDIM against the formulas it must equal: first-order DPM-Solver (eta = 0) and the ancestral
// posterior step (eta = 1).
#include "testing.hpp"

#include <map>

#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/reverse_sde.hpp"
#include "sde/core/sde_factory.hpp"
#include "solvers/ddim.hpp"
#include "sde/solve/registry.hpp"

using sde::testing::data_path;

TEST_CASE("DDIM with eta = 0 equals first-order DPM-Solver to rounding") {
  // DPM-Solver-1 (Lu et al. 2022, eq. 3.7) in noise prediction: with eps_hat = -sigma_t s(x, t),
  //   x_s = (alpha_s / alpha_t) x - sigma_s (e^h - 1) eps_hat,   h = lambda_s - lambda_t.
  // DDIM is computed through the data prediction; float64 agreement to 1e-12 relative.
  const auto mixture = sde::GaussianMixture::from_json_file(data_path("ring8.json"));
  for (const std::string name : {"vp", "subvp", "ve"}) {
    CAPTURE(name);
    const auto s = sde::make_sde({name});
    const sde::GaussianMixtureScore model(mixture, s);
    for (auto [t, u] : {std::pair{1.0, 0.9}, std::pair{0.5, 0.3}, std::pair{0.05, 0.001}}) {
      CAPTURE(t);
      const auto x = model.sample(sde::NoiseStream(8), {0, 256}, t, torch::kFloat64);
      const sde::ReverseSde reverse(*s, model);
      const double h = s->log_snr(u) - s->log_snr(t);
      const auto eps_hat = reverse.score(x, t) * -s->sigma(t);
      const auto dpm1 = x * (s->alpha(u) / s->alpha(t)) - eps_hat * (s->sigma(u) * std::expm1(h));
      sde::StepInput in;
      in.x = x.clone();
      in.times.t = t;
      in.times.s = u;
      const torch::Tensor y = sde::Ddim(0.0).step(sde::SolveProblem(reverse), in, nullptr).x;
      CHECK(((y - dpm1).abs().max() / dpm1.abs().max()).item<double>() < 1e-12);
    }
  }
}

TEST_CASE("DDIM with eta = 1 equals the ancestral sampler (DDPM for VP) to rounding") {
  const auto mixture = sde::GaussianMixture::from_json_file(data_path("ring8.json"));
  for (const std::string name : {"vp", "subvp", "ve"}) {
    CAPTURE(name);
    const auto s = sde::make_sde({name});
    const sde::GaussianMixtureScore model(mixture, s);
    sde::SampleRequest options;
    options.grid.steps = 40;
    options.dtype = torch::kFloat64;
    options.seed = 12;
    const auto ancestral = sde::make_sampler("ancestral")->sample(*s, model, sde::testing::samples_of(options, 500));
    const auto ddim = sde::make_sampler("ddim", sde::SolverParams{{"eta", 1}})->sample(*s, model, sde::testing::samples_of(options, 500));
    // Same noise draws, algebraically equal steps: differences are rounding, amplified at most
    // mildly over 40 steps.
    CHECK(((ddim.samples - ancestral.samples).abs().max() / ancestral.samples.abs().max()).item<double>() < 1e-10);
  }
}
