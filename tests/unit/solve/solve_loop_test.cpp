// The solve loop's hooks (start state and time, per-step transform, observer) and its step
// accounting, on every kind of controller.
#include "testing.hpp"

#include <map>

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/solve/registry.hpp"
#include "sde/core/time_grid.hpp"

using sde::testing::data_path;
using sde::testing::float64_request;


TEST_CASE("starting at t0 < T from exact samples of p_t0 (SDEdit's start) gives samples of p_eps") {
  // From x ~ p_t0 the reverse solve from t0 needs no prior: its samples follow p_eps. Each
  // coordinate's mean is compared with the mixture's exact one, k = 4 standard errors
  // (std / sqrt(N), N = 4000) plus the solver's bias at 25 steps (measured < 0.01 here).
  const auto s = sde::make_sde({"vp"});
  const auto mixture = sde::GaussianMixture::from_json_file(data_path("ring8.json"));
  const sde::GaussianMixtureScore model(mixture, s);
  const int64_t n = 4000;
  const double t0 = 0.4;
  for (const std::string solver : {"dpmpp-2m", "em", "dpm-adaptive"}) {
    CAPTURE(solver);
    sde::SampleRequest o = float64_request(25);
    o.grid.start = t0;
    o.hooks.start_state = [&](sde::SampleRange range, double) { return model.sample(sde::NoiseStream(11), range, t0, torch::kFloat64); };
    const auto result = sde::make_sampler(solver)->sample(*s, model, sde::testing::samples_of(o, n));
    REQUIRE(result.ok());
    const auto mean = result.samples.mean(0), stddev = result.samples.std(0);
    const Eigen::VectorXd exact = mixture.mean();
    for (int j = 0; j < 2; ++j) {
      const double tolerance = 4.0 * stddev[j].item<double>() / std::sqrt(double(n)) + 0.01;
      CHECK(std::abs(mean[j].item<double>() - exact[j]) < tolerance);
    }
    // A fixed grid from t0 takes its N steps from t0, not from T: the same NFE as from T.
    if (solver != "dpm-adaptive") CHECK(result.accepted_steps == 25);
  }
  sde::SampleRequest bad = float64_request(25);
  bad.hooks.start_state = [](sde::SampleRange range, double) { return torch::zeros({range.count, 3}, torch::kFloat64); };
  CHECK_THROWS_WITH_AS(sde::make_sampler("ddim")->sample(*s, model, sde::testing::samples_of(bad, 4)), doctest::Contains("[4, 3]"),
                       sde::InvalidArgument);
}

TEST_CASE("the observer sees every step at the grid's times; a transform changes the state the solver continues from") {
  const auto s = sde::make_sde({"ve"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  for (const std::string solver : {"ddim", "pc", "heun", "dpmpp-3m", "ode-rk4"}) {
    CAPTURE(solver);
    sde::SampleRequest o = float64_request(12);
    o.denoise = false;
    std::vector<double> seen;
    o.observer.step = [&](const torch::Tensor& x, const sde::StepPosition& where) {
      CHECK(!where.rows.defined());
      CHECK(x.size(0) == 16);
      seen.push_back(where.time);
    };
    REQUIRE(sde::make_sampler(solver)->sample(*s, model, sde::testing::samples_of(o, 16)).ok());
    const auto grid = sde::make_time_grid(*s, o.grid);
    CHECK(seen == std::vector<double>(grid.begin() + 1, grid.end()));
    // Replacing the state by zeros after every step leaves zeros at the end (denoise is off).
    o.observer.step = nullptr;
    o.hooks.transform = [](torch::Tensor& x, const sde::StepPosition&) { x.zero_(); };
    const auto zeroed = sde::make_sampler(solver)->sample(*s, model, sde::testing::samples_of(o, 16));
    CHECK(zeroed.samples.abs().max().item<double>() == 0.0);
  }
}

TEST_CASE("per-sample control reports the rows that stepped, and the step counts add up") {
  const auto s = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  for (const std::string solver : {"dpm-adaptive", "sde-adaptive"}) {
    CAPTURE(solver);
    sde::SampleRequest o = float64_request(1);
    double row_steps = 0;
    o.observer.step = [&](const torch::Tensor&, const sde::StepPosition& where) {
      row_steps += where.rows.defined() ? double(where.rows.numel()) : 64.0;
      if (where.rows.defined()) CHECK(where.times.numel() == where.rows.numel());
    };
    const auto result = sde::make_sampler(solver)->sample(*s, model, sde::testing::samples_of(o, 64));
    REQUIRE(result.ok());
    CHECK(result.accepted_steps > 1);
    CHECK(std::abs(row_steps / 64.0 - result.accepted_steps) < 1e-12);
    CHECK(result.nfe_mean <= double(result.nfe));
  }
}

TEST_CASE("ode-dopri5 counts its evaluations as 2 + 6 per attempt (+1 denoising), attempts = accepted + rejected") {
  // One evaluation at the start, one for Hairer's first step, six per attempt (FSAL).
  const auto s = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  const auto result = sde::make_sampler("ode-dopri5")->sample(*s, model, sde::testing::samples_of(float64_request(1), 32));
  REQUIRE(result.ok());
  CHECK(result.accepted_steps >= 5);
  CHECK(result.nfe == 2 + 6 * std::llround(result.accepted_steps + result.rejected_steps) + 1);
  const auto grid = sde::make_sampler("ddim")->sample(*s, model, sde::testing::samples_of(float64_request(9), 32));
  CHECK(grid.accepted_steps == 9);
  CHECK(grid.rejected_steps == 0);
  CHECK(grid.nfe == 10);
}

TEST_CASE("every registered solver runs on every forward process") {
  // A smoke test of the combinations (the accuracy tests measure quality): 25 log-SNR steps, the ring's
  // exact score, every sample finite. A solver may refuse an SDE, but then at construction.
  const auto mixture = sde::GaussianMixture::from_json_file(data_path("ring8.json"));
  for (const std::string& name : sde::sde_names()) {
    const auto s = sde::make_sde({name});
    const sde::GaussianMixtureScore model(mixture, s);
    for (const sde::SolverInfo& info : sde::registered_solvers()) {
      CAPTURE(name);
      CAPTURE(info.name);
      sde::SampleRequest o = float64_request(25);
      // A sensible grid on every process (uniform t is not, on edm); flow's log-SNR is -inf at T = 1.
      o.grid.kind = name == "flow" ? sde::TimeGridKind::kTime : sde::TimeGridKind::kLogSnr;
      const auto sampler = sde::make_sampler(info.name);
      sde::SampleResult result;
      try {
        result = sampler->sample(*s, model, sde::testing::samples_of(o, 64));
      } catch (const sde::InvalidArgument& e) {
        // Only solvers that step with f and g, only at flow's T = 1, naming why and what to do.
        CHECK(name == "flow");
        CHECK(std::string(e.what()).find("alpha = 0 at the start") != std::string::npos);
        continue;
      }
      CHECK(result.ok());
      CHECK(sde::all_finite(result.samples));
      CHECK(result.samples.abs().max().item<double>() < 20.0);  // the ring has radius 4
    }
  }
}

TEST_CASE("latents equal to the prior's draws give the prior run's samples; first re-renders one sample") {
  const auto s = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  sde::SampleRequest request = float64_request(10);
  request.count = 12;
  const auto sampler = sde::make_sampler("dpmpp-2m-sde");
  const auto from_prior = sampler->sample(*s, model, request);
  REQUIRE(from_prior.ok());
  sde::SampleRequest given = request;
  given.count = 0;  // one sample per latent
  given.latents = s->prior_sample(sde::NoiseStream(request.seed), {0, 12}, {2}, torch::kFloat64);
  CHECK(torch::equal(sampler->sample(*s, model, given).samples, from_prior.samples));
  // Sample 7 alone, from its index: the same as row 7 of the whole run.
  sde::SampleRequest seventh = request;
  seventh.first = 7;
  seventh.count = 1;
  CHECK(torch::equal(sampler->sample(*s, model, seventh).samples[0], from_prior.samples[7]));
}
