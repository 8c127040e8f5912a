// The flow-matching process at its singular end T = 1 (alpha = 0, log-SNR -inf, f and g infinite),
// data predictions where Tweedie's formula is 0/0, and the time shift of the grids.
#include "testing.hpp"

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/metrics.hpp"
#include "sde/core/parameterized_score.hpp"
#include "sde/core/reverse_sde.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/solve/registry.hpp"

using sde::testing::data_path;
using sde::testing::float64_request;
using sde::testing::rel_diff;

namespace {

// The exact score without its data prediction: what a score or noise network is.
class ScoreOnly final : public sde::ScoreModel {
 public:
  explicit ScoreOnly(const sde::ScoreModel& inner) : inner_(inner) {}
  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override { return inner_.score(x, t); }
  std::vector<int64_t> sample_shape() const override { return inner_.sample_shape(); }

 private:
  const sde::ScoreModel& inner_;
};

}  // namespace

TEST_CASE("flow: alpha = 1 - t, sigma = t, finite derivatives at T = 1 where f, g and lambda are infinite") {
  const sde::FlowSde flow;
  CHECK(flow.t_max() == 1.0);
  for (double t : {0.0, 0.25, 0.5, 0.9}) {
    CHECK(flow.alpha(t) == 1.0 - t);
    CHECK(flow.sigma(t) == t);
    CHECK(rel_diff(flow.drift_coef(t), -1.0 / (1.0 - t)) < 1e-15);
    CHECK(rel_diff(flow.diffusion(t) * flow.diffusion(t), 2 * t / (1 - t), 1e-300) < 1e-14);
    // The derivatives from f and g (the base class's formulas) agree with the closed forms below T.
    CHECK(flow.Sde::alpha_derivative(t) == doctest::Approx(-1.0).epsilon(1e-13));
    if (t > 0) CHECK(flow.Sde::sigma_derivative(t) == doctest::Approx(1.0).epsilon(1e-13));
  }
  CHECK(flow.alpha(1.0) == 0.0);
  CHECK(std::isinf(flow.drift_coef(1.0)));
  CHECK(std::isinf(flow.diffusion(1.0)));
  CHECK(flow.alpha_derivative(1.0) == -1.0);
  CHECK(flow.sigma_derivative(1.0) == 1.0);
  CHECK(flow.log_snr(1.0) == -INFINITY);
  CHECK(flow.time_at_log_snr(-INFINITY) == 1.0);
  CHECK(flow.time_at_log_snr(0.0) == 0.5);
  CHECK(flow.Sde::time_at_log_snr(-INFINITY) == 1.0);  // the generic bisection too
  CHECK_THROWS_WITH_AS(sde::FlowSde(1.5), doctest::Contains("T = 1.5 must lie in (0, 1]"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(flow.time_at_log_snr(NAN), doctest::Contains("nan lies outside"), sde::InvalidArgument);
}

TEST_CASE("the exact mixture's data prediction is Tweedie's where alpha > 0 and the mean where alpha = 0") {
  const auto mixture = sde::GaussianMixture::from_json_file(data_path("aniso16.json"));
  const auto flow = sde::make_sde({"flow"});
  const sde::GaussianMixtureScore exact(mixture, flow);
  const auto x = sde::NoiseStream(2).normal({0, 32}, {16}, 0, torch::kFloat64) * 2;
  for (double t : {0.01, 0.3, 0.9, 0.999}) {
    CAPTURE(t);
    const auto tt = torch::full({32}, t, torch::kFloat64);
    const auto tweedie = (x + exact.score(x, tt) * (t * t)) / (1 - t);
    // Tweedie divides by alpha = 1 - t: its rounding grows as 1 / alpha.
    CHECK(torch::allclose(exact.data_prediction(x, tt), tweedie, 1e-9, 1e-12 / (1 - t)));
  }
  const auto at_one = exact.data_prediction(x, torch::ones({32}, torch::kFloat64));
  const Eigen::VectorXd mean = mixture.mean();
  for (int64_t j = 0; j < 16; ++j) CHECK(at_one[5][j].item<double>() == doctest::Approx(mean(j)).epsilon(1e-12));

  // ReverseSde::denoise uses it at alpha = 0 (one call), and a model without one is refused by name.
  int64_t calls = 0;
  const sde::ReverseSde reverse = sde::ReverseSde(*flow, exact).on({}, [&calls] { ++calls; });
  CHECK(torch::allclose(reverse.denoise(x, 1.0), at_one));
  CHECK(calls == 1);
  const ScoreOnly score_only(exact);
  sde::ReverseSde without(*flow, score_only);
  CHECK_THROWS_WITH_AS(without.denoise(x, 1.0), doctest::Contains("no data prediction of its own"), sde::InvalidArgument);
  // The probability-flow drift at T = 1 is finite: (x - x0_hat) / t.
  CHECK(torch::allclose(reverse.probability_flow_drift(x, 1.0), x - at_one, 1e-12, 1e-12));
}

TEST_CASE("on flow, Euler on the probability-flow ODE is DDIM to rounding") {
  // (s/t) x + ((t - s)/t) x0_hat either way; from T = 1, 20 steps on the uniform time grid, float64.
  const auto flow = sde::make_sde({"flow"});
  const sde::GaussianMixtureScore exact(sde::GaussianMixture::from_json_file(data_path("ring8.json")), flow);
  const auto euler = sde::make_sampler("euler")->sample(*flow, exact, sde::testing::samples_of(float64_request(20), 256));
  const auto ddim = sde::make_sampler("ddim")->sample(*flow, exact, sde::testing::samples_of(float64_request(20), 256));
  REQUIRE(euler.ok());
  REQUIRE(ddim.ok());
  const double diff = (euler.samples - ddim.samples).abs().max().item<double>();
  MESSAGE("max |euler - ddim| on flow: " << diff);
  CHECK(diff < 1e-12);
  CHECK(euler.nfe == ddim.nfe);
  // On VP they differ (DDIM integrates the linear part exactly, Euler does not).
  const auto vp = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore on_vp(exact.mixture(), vp);
  const auto e = sde::make_sampler("euler")->sample(*vp, on_vp, sde::testing::samples_of(float64_request(20), 256)).samples;
  const auto d = sde::make_sampler("ddim")->sample(*vp, on_vp, sde::testing::samples_of(float64_request(20), 256)).samples;
  CHECK((e - d).abs().max().item<double>() > 1e-3);
}

TEST_CASE("solvers that step with f and g refuse flow's T = 1 by name and run below it") {
  const auto flow = sde::make_sde({"flow"});
  const sde::GaussianMixtureScore exact(sde::GaussianMixture::from_json_file(data_path("ring8.json")), flow);
  CHECK_THROWS_WITH_AS(sde::make_sampler("em")->sample(*flow, exact, sde::testing::samples_of(float64_request(20), 8)),
                       doctest::Contains("em steps with them"), sde::InvalidArgument);
  const auto below = sde::make_sde({"flow", {}, {}, {}, {}, 0.999});
  const sde::GaussianMixtureScore exact_below(exact.mixture(), below);
  const auto result = sde::make_sampler("em")->sample(*below, exact_below, sde::testing::samples_of(float64_request(200), 64));
  CHECK(result.ok());
  // The log-SNR grid has no start at lambda = -inf.
  sde::SampleRequest o = float64_request(20);
  o.grid.kind = sde::TimeGridKind::kLogSnr;
  CHECK_THROWS_WITH_AS(sde::make_sampler("ddim")->sample(*flow, exact, sde::testing::samples_of(o, 8)), doctest::Contains("use the 'time' grid"),
                       sde::InvalidArgument);
}

TEST_CASE("the time shift moves the grid to lambda - log(shift): SD3's t -> shift t / (1 + (shift - 1) t) on flow") {
  const sde::FlowSde flow;
  sde::TimeGrid grid = sde::TimeGrid::formula(sde::TimeGridKind::kTime, 10);
  const auto plain = sde::make_time_grid(flow, grid);
  grid.shift = 3.0;
  const auto shifted = sde::make_time_grid(flow, grid);
  CHECK(shifted.front() == 1.0);
  CHECK(shifted.back() == 1e-3);
  for (size_t k = 1; k + 1 < plain.size(); ++k) {
    const double u = plain[k];
    CHECK(rel_diff(shifted[k], 3 * u / (1 + 2 * u)) < 1e-12);
  }
  // On VP the same rule in the log-SNR, where the shifted times stay inside (eps, T) (1.5 here; 3
  // would move t_1 = 0.9 beyond T, and is refused).
  const sde::VpSde vp;
  CHECK_THROWS_WITH_AS(sde::make_time_grid(vp, grid), doctest::Contains("use a shift closer to 1"),
                       sde::InvalidArgument);
  grid.shift = 1.5;
  const auto vp_shifted = sde::make_time_grid(vp, grid);
  for (size_t k = 1; k + 1 < plain.size(); ++k)  // the plain time grid is the same on every process
    CHECK(vp.log_snr(vp_shifted[k]) == doctest::Approx(vp.log_snr(plain[k]) - std::log(1.5)).epsilon(1e-9));
  grid.shift = 0;
  CHECK_THROWS_WITH_AS(sde::make_time_grid(flow, grid), doctest::Contains("shift = 0"), sde::InvalidArgument);
}
