// Parameterizations against each other: networks built from the exact score in each convention
// must give back the exact score; labels follow the named time conditioning.
#include "testing.hpp"

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/nn/losses.hpp"
#include "sde/nn/networks.hpp"
#include "sde/core/parameterized_score.hpp"
#include "sde/core/random.hpp"
#include "sde/core/sde_factory.hpp"

TEST_CASE("score, noise, data, v and velocity predictions all convert back to the exact score and data prediction") {
  const auto mixture = sde::GaussianMixture::from_json_file(sde::testing::data_path("ring8.json"));
  for (const std::string name : {"vp", "subvp", "ve", "flow"}) {
    CAPTURE(name);
    const auto s = sde::make_sde({name});
    const sde::GaussianMixtureScore exact(mixture, s);
    const sde::NoiseStream noise(1);
    const auto x = noise.normal({0, 64}, {2}, 0, torch::kFloat64) * 3;
    const auto t = noise.uniform({0, 64}, {1}, 1).squeeze(1) * 0.98 + 0.01;
    const auto truth = exact.score(x, t);
    const auto truth_data = exact.data_prediction(x, t);
    for (const std::string p : {"score", "noise", "data", "v", "velocity"}) {
      CAPTURE(p);
      // The "network" computes the quantity from the exact score, reading the time back from its label.
      const sde::Network network = [&, p](const torch::Tensor& xi, const torch::Tensor& label) {
        const auto ti = label / 999.0;
        const auto score = exact.score(xi, ti);
        const auto alpha = sde::per_sample(s->alpha(ti), xi), sigma = sde::per_sample(s->sigma(ti), xi);
        const auto eps = -sigma * score, x0 = (xi + sigma.square() * score) / alpha;
        if (p == "noise") return eps;
        if (p == "data") return x0;
        if (p == "v") return alpha * eps - sigma * x0;
        if (p == "velocity") return eps - x0;
        return score;
      };
      const sde::ParameterizedScoreModel model(s, network, sde::parse_parameterization(p),
                                               sde::TimeConditioning::kDiscrete999, {2});
      CHECK(torch::allclose(model.score(x, t), truth, 1e-9, 1e-9));
      CHECK(model.has_data_prediction() == (p == "data" || p == "v" || p == "velocity"));
      if (model.has_data_prediction()) CHECK(torch::allclose(model.data_prediction(x, t), truth_data, 1e-9, 1e-9));
    }
  }
}

TEST_CASE("labels follow the time conditioning, and bad networks are named") {
  const auto ve = sde::make_sde({"ve"});
  const sde::Network echo = [](const torch::Tensor& x, const torch::Tensor& label) {
    return label.unsqueeze(1).expand_as(x).clone();
  };
  const auto t = torch::tensor({0.0, 0.5, 1.0}, torch::kFloat64);
  const sde::ParameterizedScoreModel by_sigma(ve, echo, sde::Parameterization::kScore, sde::parse_time_conditioning("sigma"), {2});
  CHECK(torch::allclose(by_sigma.label(t), ve->sigma(t)));
  const sde::ParameterizedScoreModel by_999(ve, echo, sde::Parameterization::kScore, sde::TimeConditioning::kDiscrete999, {2});
  CHECK(torch::allclose(by_999.score(torch::zeros({3, 2}, torch::kFloat64), t).select(1, 0), t * 999));
  // smld: the index i of the SMLD level, round(999 (T - t) / T); at t_i = T - i / 999 the continuous
  // sigma(t_i) is that level's sigma_i, so an SMLD-trained network samples as a VE model.
  const sde::ParameterizedScoreModel by_index(ve, echo, sde::Parameterization::kScore, sde::parse_time_conditioning("smld"), {2});
  const auto i = torch::tensor({0, 1, 500, 998, 999}, torch::kLong);
  const auto t_i = 1.0 - i.to(torch::kFloat64) / 999.0;
  CHECK(torch::equal(by_index.label(t_i), i.to(torch::kFloat64)));
  CHECK(torch::allclose(ve->sigma(t_i), sde::smld_sigmas(sde::VeSchedule{}).index_select(0, i), 1e-12));
  const sde::Network wrong = [](const torch::Tensor& x, const torch::Tensor&) { return x.sum(1); };
  const sde::ParameterizedScoreModel bad(ve, wrong, sde::Parameterization::kNoise, sde::TimeConditioning::kTime, {2});
  CHECK_THROWS_WITH_AS(bad.score(torch::zeros({3, 2}), torch::full({3}, 0.5)),
                       doctest::Contains("the network returned shape [3] for input [3, 2]"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::parse_parameterization("eps"), doctest::Contains("known: score, noise, data, v"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::parse_time_conditioning("1000t"), doctest::Contains("known: time, 999t, sigma, smld"), sde::InvalidArgument);
}

TEST_CASE("small samples are evaluated in blocks of a fixed row count, with the same result") {
  const auto vp = sde::make_sde({"vp"});
  // A network that records the rows of each call and is an exact function of each row.
  auto calls = std::make_shared<std::vector<int64_t>>();
  const sde::Network network = [calls](const torch::Tensor& x, const torch::Tensor& label) {
    calls->push_back(x.size(0));
    return x * label.unsqueeze(1) - x.square();
  };
  const sde::ParameterizedScoreModel automatic(vp, network, sde::Parameterization::kNoise,
                                               sde::TimeConditioning::kTime, {2});
  const sde::ParameterizedScoreModel whole(vp, network, sde::Parameterization::kNoise, sde::TimeConditioning::kTime,
                                           {2}, /*rows_per_call=*/0);
  CHECK(automatic.rows_per_call() == 2048);
  CHECK(whole.rows_per_call() == 0);
  const auto x = torch::randn({5000, 2}), t = torch::full({5000}, 0.4);
  const auto blocked = automatic.score(x, t);
  CHECK(*calls == std::vector<int64_t>{2048, 2048, 2048});  // the last block padded
  calls->clear();
  CHECK(torch::equal(blocked, whole.score(x, t)));
  CHECK(*calls == std::vector<int64_t>{5000});
  // Images are evaluated whole by default; a bad row count is named.
  CHECK(sde::ParameterizedScoreModel(vp, network, sde::Parameterization::kNoise, sde::TimeConditioning::kTime,
                                     {1, 28, 28})
            .rows_per_call() == 0);
  CHECK_THROWS_WITH_AS(sde::ParameterizedScoreModel(vp, network, sde::Parameterization::kNoise,
                                                    sde::TimeConditioning::kTime, {2}, -5),
                       doctest::Contains("rows_per_call = -5"), sde::InvalidArgument);
}

TEST_CASE("a trained network's score of a sample does not depend on how many samples follow it") {
  // float32 matrix products pick their kernels by the row count: without fixed blocks the first
  // rows of a batch of 1000 and of 700 differed by up to 8.5e-6. Blocks of a fixed size, the last
  // one padded, make every call the same shape, so a prefix of a batch (--n changed) is exact.
  const auto vp = sde::make_sde({"vp"});
  sde::NetworkSpec spec;
  spec.sample_shape = {2};
  const sde::ScoreNetwork network(spec, 3);
  const auto model = sde::score_model_of(vp, network, sde::Parameterization::kNoise, sde::TimeConditioning::kTime);
  const auto x = torch::randn({3000, 2}), t = torch::rand({3000}) * 0.9 + 0.05;
  const torch::Tensor all = model->score(x, t);
  for (const int64_t n : {1, 100, 700, 1000, 2049}) {
    CAPTURE(n);
    CHECK(torch::equal(model->score(x.slice(0, 0, n), t.slice(0, 0, n)), all.slice(0, 0, n)));
  }
  // Elsewhere in a block (another --batch, a shard, a permutation) the products round otherwise:
  // float32's 6e-8 relative rounding over sums of 128 products, bounded here by 1e-5 of the
  // scores' scale (measured: 7e-8).
  const torch::Tensor order = torch::randperm(3000);
  const torch::Tensor moved = model->score(x.index_select(0, order), t.index_select(0, order));
  CHECK((moved - all.index_select(0, order)).abs().max().item<double>() <= 1e-5 * all.abs().max().item<double>());
}
