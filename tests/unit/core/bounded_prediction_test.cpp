// Bounded data predictions: x0 clipping and dynamic thresholding as a model wrapper.
#include "testing.hpp"

#include "sde/core/bounded_prediction.hpp"
#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/solve/registry.hpp"

namespace {

sde::GaussianMixture ring() { return sde::GaussianMixture::from_json_file(sde::testing::data_path("ring8.json")); }

}  // namespace

TEST_CASE("clipping bounds the data prediction, and the score follows it by Tweedie's formula") {
  const auto vp = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore exact(ring(), vp, torch::kFloat64);
  sde::DataPredictionBounds bounds;
  bounds.kind = sde::DataPredictionBounds::Kind::kClip;
  const sde::BoundedDataPrediction clipped(exact, *vp, bounds);
  const auto x = torch::randn({500, 2}, torch::kFloat64) * 3, t = torch::rand({500}, torch::kFloat64) * 0.9 + 0.05;
  const torch::Tensor x0 = clipped.data_prediction(x, t);
  CHECK(x0.abs().max().item<double>() <= 1.0);
  CHECK(torch::allclose(x0, exact.data_prediction(x, t).clamp(-1, 1), 1e-12, 1e-12));
  // x + sigma^2 s_b = alpha b(x0_hat): the bounded model is one model to every solver.
  const torch::Tensor alpha = vp->alpha(t).unsqueeze(1), sigma = vp->sigma(t).unsqueeze(1);
  CHECK(torch::allclose((x + sigma.square() * clipped.score(x, t)) / alpha, x0, 1e-9, 1e-9));
  // A range the predictions never leave (the ring's means lie at radius 4): the model, bit for bit.
  bounds.low = -10;
  bounds.high = 10;
  const sde::BoundedDataPrediction wide(exact, *vp, bounds);
  CHECK(torch::equal(wide.score(x, t), exact.score(x, t)));
  CHECK(torch::equal(wide.data_prediction(x, t), exact.data_prediction(x, t)));
  bounds.low = 20;  // above high
  CHECK_THROWS_WITH_AS(sde::BoundedDataPrediction(exact, *vp, bounds), doctest::Contains("low < high"),
                       sde::InvalidArgument);
}

TEST_CASE("dynamic thresholding pulls a saturated sample in by its percentile and leaves others alone") {
  sde::DataPredictionBounds bounds;
  bounds.kind = sde::DataPredictionBounds::Kind::kDynamic;
  bounds.percentile = 0.5;
  // |u| = 0.5, 3, 2, 0.1: the median 1.25 is s; u clamped to [-1.25, 1.25] and divided by it.
  const torch::Tensor x0 = torch::tensor({{0.5, 3.0, -2.0, 0.1}, {0.5, -0.25, 0.75, 0.0}}, torch::kFloat64);
  const torch::Tensor b = sde::bound_data_prediction(x0, bounds);
  CHECK(torch::allclose(b[0], torch::tensor({0.4, 1.0, -1.0, 0.08}, torch::kFloat64), 0, 1e-15));
  CHECK(torch::equal(b[1], x0[1]));  // inside the range: untouched
  // In another range: the same map through its centre and half-width ([0, 1]: u = 2 x - 1).
  bounds.low = 0;
  bounds.high = 1;
  const torch::Tensor shifted = sde::bound_data_prediction((x0 + 1) / 2, bounds);
  CHECK(torch::allclose(shifted, (b + 1) / 2, 0, 1e-15));
  bounds.percentile = 0;
  CHECK_THROWS_WITH_AS(bounds.validate(), doctest::Contains("percentile = 0"), sde::InvalidArgument);
}

TEST_CASE("bounded models sample inside the range with any solver, and at alpha = 0 keep the score") {
  const auto vp = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore exact(ring(), vp);
  sde::DataPredictionBounds bounds;
  bounds.kind = sde::DataPredictionBounds::Kind::kClip;
  bounds.low = -3;
  bounds.high = 3;
  const sde::BoundedDataPrediction clipped(exact, *vp, bounds);
  sde::SampleRequest options;
  options.grid.steps = 20;
  for (const std::string solver : {"em", "ddim", "dpmpp-2m", "heun"}) {
    CAPTURE(solver);
    const auto result = sde::make_sampler(solver)->sample(*vp, clipped, sde::testing::samples_of(options, 300));
    REQUIRE(result.ok());
    CHECK(result.samples.abs().max().item<double>() <= 3.0 + 1e-6);  // the last Tweedie step is bounded
  }
  // Flow matching at T = 1 (alpha = 0): the score there does not depend on x0_hat.
  const auto flow = sde::make_sde({"flow"});
  const sde::GaussianMixtureScore on_flow(ring(), flow, torch::kFloat64);
  const sde::BoundedDataPrediction bounded_flow(on_flow, *flow, bounds);
  const auto x = torch::randn({10, 2}, torch::kFloat64), t = torch::ones({10}, torch::kFloat64);
  CHECK(torch::equal(bounded_flow.score(x, t), on_flow.score(x, t)));
  CHECK(bounded_flow.data_prediction(x, t).abs().max().item<double>() <= 3.0);
}
