// Conditions travel with the score model's calls: labelled mixtures (JSON, exact conditional score,
// exact classifier), the guidance wrappers' identities, the solve loop handing each call its rows'
// conditions, and the inverse-problem hooks' contracts.
#include "testing.hpp"

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/guidance.hpp"
#include "sde/core/inverse_problems.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/solve/probability_flow.hpp"
#include "sde/solve/registry.hpp"
#include "sde/solve/repaint.hpp"

using sde::testing::data_path;

namespace {

// The ring of 8 with classes k % 4: each class is two opposite modes.
sde::GaussianMixture labelled_ring() {
  return sde::GaussianMixture::from_json_file(data_path("ring8_labelled.json"));
}

torch::Tensor eigen_score(const sde::GaussianMixture& m, const torch::Tensor& x) {
  const auto xc = x.contiguous();
  Eigen::VectorXd v = Eigen::Map<const Eigen::VectorXd>(xc.data_ptr<double>(), xc.numel());
  const Eigen::VectorXd s = m.score(v);
  return torch::from_blob(const_cast<double*>(s.data()), {s.size()}, torch::kFloat64).clone();
}

}  // namespace

TEST_CASE("a condition is sliced per sample range: one row for all, or row i for sample i") {
  const sde::Condition c{torch::arange(10, torch::kInt64), {}};
  CHECK(torch::equal(c.for_range({3, 4}).labels, torch::arange(3, 7, torch::kInt64)));
  CHECK(torch::equal(sde::Condition::of_class(2, 1).for_range({5, 3}).labels, torch::full({3}, 2, torch::kInt64)));
  CHECK_THROWS_WITH_AS(c.for_range({8, 4}), doctest::Contains("10 rows, one per sample"), sde::InvalidArgument);
  CHECK(sde::Condition{}.for_range({0, 5}).empty());
  CHECK_THROWS_WITH_AS(sde::Condition::of_class(7, 3).check(3, 4, "model"), doctest::Contains("[0, 4)"),
                       sde::InvalidArgument);
  const sde::Condition int32_labels{torch::zeros({3}, torch::kInt32), {}};
  CHECK_THROWS_WITH_AS(int32_labels.check(3, 4, "model"), doctest::Contains("int64"), sde::InvalidArgument);
}

TEST_CASE("mixture labels: read from JSON, written back, validated with messages that name the fix") {
  const auto ring = labelled_ring();
  CHECK(ring.num_classes() == 4);
  CHECK(sde::GaussianMixture::from_json(ring.to_json()).labels() == ring.labels());
  CHECK(ring.class_weight(1) == doctest::Approx(0.25));
  CHECK(ring.given_label(1).components() == 2);
  const auto plain = sde::GaussianMixture::from_json_file(data_path("ring8.json"));
  CHECK_THROWS_WITH_AS(plain.with_labels({0, 1}), doctest::Contains("one class label per component"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(plain.with_labels({0, 0, 0, 0, 2, 2, 2, 2}), doctest::Contains("class 1 has no component"),
                       sde::InvalidArgument);
  const std::string half = R"({"weights": [1], "means": [[0]], "covs": [[[1]]], "labels": [0.5]})";
  CHECK_THROWS_WITH_AS(sde::GaussianMixture::from_json(half), doctest::Contains("whole number"), sde::FileError);
}

TEST_CASE("the exact conditional score is the score of the class's perturbed sub-mixture; no class gives the full score") {
  const auto ring = labelled_ring();
  for (const std::string name : {"vp", "ve"}) {
    const auto process = sde::make_sde({name});
    const sde::GaussianMixtureScore model(ring, process);
    const auto x = torch::randn({6, 2}, torch::kFloat64) * 3;
    const auto t = torch::tensor({0.01, 0.2, 0.5, 0.05, 0.9, 0.3}, torch::kFloat64);
    const auto labels = torch::tensor(std::vector<int64_t>{0, 1, 2, 3, sde::kUnconditional, 1});
    const auto s = model.conditional_score(x, t, {labels, {}});
    const auto x0 = model.conditional_data_prediction(x, t, {labels, {}});
    for (int64_t i = 0; i < 6; ++i) {
      const double ti = t[i].item<double>(), a = process->alpha(ti), sg = process->sigma(ti);
      const int64_t y = labels[i].item<int64_t>();
      const auto exact = (y == sde::kUnconditional ? ring : ring.given_label(y)).perturbed(a, sg);
      const auto expected = eigen_score(exact, x[i]);
      CHECK(torch::allclose(s[i], expected, 1e-10, 1e-10));
      // Tweedie: the conditional data prediction is (x + sigma^2 s(x | y)) / alpha.
      CHECK(torch::allclose(x0[i], (x[i] + sg * sg * expected) / a, 1e-9, 1e-9));
    }
  }
}

TEST_CASE("the exact classifier: probabilities sum to 1, and grad log p_t(y | x) = s(x | y) - s(x) (Bayes)") {
  const auto process = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(labelled_ring(), process);
  const sde::GaussianMixtureClassifier classifier(model);
  const auto x = torch::randn({5, 2}, torch::kFloat64) * 3;
  const auto t = torch::full({5}, 0.3, torch::kFloat64);
  CHECK(torch::allclose(classifier.log_probs(x, t).exp().sum(1), torch::ones({5}, torch::kFloat64), 1e-12, 1e-12));
  const auto labels = torch::tensor({0, 1, 2, 3, 2}, torch::kInt64);
  const auto grad = sde::classifier_gradient(classifier, x, t, labels);
  CHECK(torch::allclose(grad, model.conditional_score(x, t, {labels, {}}) - model.score(x, t), 1e-9, 1e-9));
  // Also under inference mode, as inside a sampler.
  c10::InferenceMode inference;
  const auto again = sde::classifier_gradient(classifier, x, t, labels);
  CHECK(torch::allclose(again, grad, 0, 0));
}

TEST_CASE("a model without classes refuses labels, naming the fix; all-unconditional labels pass") {
  const auto process = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore plain(sde::GaussianMixture::from_json_file(data_path("ring8.json")), process);
  const auto x = torch::zeros({2, 2}, torch::kFloat64);
  const auto t = torch::full({2}, 0.5, torch::kFloat64);
  CHECK_THROWS_WITH_AS(plain.conditional_score(x, t, sde::Condition::of_class(1, 2)),
                       doctest::Contains("takes no condition"), sde::InvalidArgument);
  CHECK(torch::equal(plain.conditional_score(x, t, sde::Condition::of_class(sde::kUnconditional, 2)), plain.score(x, t)));
  CHECK_THROWS_WITH_AS(sde::ClassifierFreeGuidance(plain, *process, {}), doctest::Contains("needs a conditional model"),
                       sde::InvalidArgument);
  sde::ClassifierFreeGuidanceOptions bad;
  bad.sigma_min = 2;
  bad.sigma_max = 1;
  CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("sigma_min < sigma_max"), sde::InvalidArgument);
  auto options = sde::testing::float64_request(10);
  options.condition = sde::Condition::of_class(0, 1);
  CHECK_THROWS_WITH_AS(sde::make_sampler("em")->sample(*process, plain, sde::testing::samples_of(options, 4)), doctest::Contains("takes no condition"),
                       sde::InvalidArgument);
}

TEST_CASE("classifier-free guidance: w = 0 is the conditional model to rounding; w combines the two branches; the interval") {
  const auto process = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(labelled_ring(), process);
  const auto x = torch::randn({4, 2}, torch::kFloat64) * 3;
  const auto t = torch::tensor({0.02, 0.3, 0.6, 0.9}, torch::kFloat64);
  const sde::Condition c{torch::tensor({0, 1, 2, 3}, torch::kInt64), {}};
  const auto conditional = model.conditional_score(x, t, c), unconditional = model.score(x, t);
  sde::ClassifierFreeGuidanceOptions o;
  o.scale = 0;
  CHECK(torch::allclose(sde::ClassifierFreeGuidance(model, *process, o).conditional_score(x, t, c), conditional, 1e-14, 1e-14));
  o.scale = 2.5;
  const auto guided = sde::ClassifierFreeGuidance(model, *process, o).conditional_score(x, t, c);
  CHECK(torch::allclose(guided, 3.5 * conditional - 2.5 * unconditional, 1e-12, 1e-12));
  // Only noise levels sigma / alpha in [0.5, 2]: some of the four times lie inside, some outside.
  o.sigma_min = 0.5;
  o.sigma_max = 2.0;
  const auto level = process->sigma(t) / process->alpha(t);
  const auto inside = level.ge(0.5).logical_and(level.le(2.0));
  REQUIRE(inside.any().item<bool>());
  REQUIRE_FALSE(inside.all().item<bool>());
  const auto limited = sde::ClassifierFreeGuidance(model, *process, o).conditional_score(x, t, c);
  for (int64_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK(torch::allclose(limited[i], inside[i].item<bool>() ? guided[i] : conditional[i], 1e-12, 1e-12));
  }
}

TEST_CASE("conditional sampling is batch-invariant: per-sample labels follow their rows under per-sample step control") {
  const auto process = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(labelled_ring(), process);
  for (const std::string solver : {"sde-adaptive", "dpm-adaptive", "dpmpp-2m", "pc"}) {
    CAPTURE(solver);
    auto options = sde::testing::float64_request(20);
    options.condition = {torch::arange(12, torch::kInt64).remainder(4), {}};
    const auto whole = sde::make_sampler(solver)->sample(*process, model, sde::testing::samples_of(options, 12));
    options.batch_size = 5;
    const auto parts = sde::make_sampler(solver)->sample(*process, model, sde::testing::samples_of(options, 12));
    REQUIRE(whole.ok());
    REQUIRE(parts.ok());
    if (solver == "sde-adaptive" || solver == "dpm-adaptive") CHECK(torch::allclose(whole.samples, parts.samples, 1e-12, 1e-12));
    else CHECK(torch::equal(whole.samples, parts.samples));
    // Sample i of a run over [0, 12) equals sample i of a run over [8, 12) only.
    const auto tail = sde::make_sampler(solver)->sample(*process, model, sde::testing::samples_of(options, 4, 8));
    CHECK(torch::allclose(tail.samples, whole.samples.narrow(0, 8, 4), 1e-12, 1e-12));
  }
}

TEST_CASE("replacement keeps the known values exactly and changes the rest; bad masks are refused") {
  const auto process = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("aniso16.json")), process);
  const auto mask = (torch::arange(16) < 6).to(torch::kFloat64);
  const auto known = torch::randn({8, 16}, torch::kFloat64);
  for (const std::string solver : {"em", "dpmpp-2m", "sde-adaptive"}) {
    CAPTURE(solver);
    auto options = sde::testing::float64_request(30);
    options.hooks = sde::replacement_hooks(*process, sde::mask_measurement(known, mask, {16}), 5);
    const auto result = sde::make_sampler(solver)->sample(*process, model, sde::testing::samples_of(options, 8));
    REQUIRE(result.ok());
    CHECK(torch::equal(result.samples.narrow(1, 0, 6), known.narrow(1, 0, 6)));
    CHECK_FALSE(torch::allclose(result.samples.narrow(1, 6, 10), known.narrow(1, 6, 10)));
  }
  CHECK_THROWS_WITH_AS(sde::mask_measurement(known, mask * 0.5, {16}), doctest::Contains("1 (known) and 0"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::mask_measurement(known, torch::ones({15}), {16}), doctest::Contains("shape of one sample"),
                       sde::InvalidArgument);
  auto nan = known.clone();
  nan[0][0] = std::nan("");
  CHECK_THROWS_WITH_AS(sde::mask_measurement(nan, mask, {16}), doctest::Contains("NaN"), sde::InvalidArgument);
  // NaN where the mask is 0 is ignored: those entries are unknown.
  nan[0][0] = 0;
  nan[0][10] = std::nan("");
  CHECK_NOTHROW(sde::mask_measurement(nan, mask, {16}));
}

TEST_CASE("colorization keeps each pixel's channel mean exactly") {
  const auto process = sde::make_sde({"vp"});
  // A Gaussian on 3 x 2 x 2 images: the exact score of N(0, I) through a mixture of one component.
  const sde::GaussianMixture gaussian({1.0}, {Eigen::VectorXd::Zero(12)}, {Eigen::MatrixXd::Identity(12, 12)});
  const sde::GaussianMixtureScore flat(gaussian, process);
  class Image final : public sde::ScoreModel {
   public:
    explicit Image(const sde::ScoreModel& m) : m_(m) {}
    torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override {
      return m_.score(x.reshape({x.size(0), 12}), t).view_as(x);
    }
    std::vector<int64_t> sample_shape() const override { return {3, 2, 2}; }

   private:
    const sde::ScoreModel& m_;
  } model(flat);
  const auto gray = torch::randn({1, 1, 2, 2}, torch::kFloat64);
  auto options = sde::testing::float64_request(20);
  options.hooks = sde::replacement_hooks(*process, sde::channel_mean_measurement(gray, {3, 2, 2}), 1);
  const auto result = sde::make_sampler("ddim")->sample(*process, model, sde::testing::samples_of(options, 3));
  REQUIRE(result.ok());
  CHECK(torch::allclose(result.samples.mean(1, true), gray.expand({3, 1, 2, 2}), 1e-12, 1e-12));
}

TEST_CASE("SDEdit starts at t0 from the given images noised; bad start times and shapes are refused") {
  const auto process = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), process);
  const auto start = torch::tensor({{4.0, 0.0}}, torch::kFloat64);
  auto options = sde::testing::float64_request(40);
  options.hooks = sde::sdedit_hooks(*process, start, 3);
  options.grid.start = 0.05;
  const auto near = sde::make_sampler("em")->sample(*process, model, sde::testing::samples_of(options, 200));
  REQUIRE(near.ok());
  // From t0 = 0.05 (sigma 0.23) the samples stay in the start's mode (std 0.2): mean within 0.1.
  CHECK((near.samples.mean(0) - start[0]).abs().max().item<double>() < 0.1);
  options.grid.start = 1.5;
  CHECK_THROWS_WITH_AS(sde::make_sampler("em")->sample(*process, model, sde::testing::samples_of(options, 2)),
                       doctest::Contains("must lie in (eps, T]"), sde::InvalidArgument);
  options.grid.start = 0.5;
  options.hooks = sde::sdedit_hooks(*process, torch::zeros({1, 3}, torch::kFloat64), 3);
  CHECK_THROWS_WITH_AS(sde::make_sampler("em")->sample(*process, model, sde::testing::samples_of(options, 2)), doctest::Contains("start state has shape"),
                       sde::InvalidArgument);
}

TEST_CASE("editing by inversion: encode under one class and decode under it again returns the input; under another class it moves there") {
  const auto process = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(labelled_ring(), process);
  const auto x = model.sample(sde::NoiseStream(2), {0, 6}, 0.0);
  sde::OdeOptions ode;
  ode.rtol = ode.atol = 1e-8;
  // Each point under the class of its nearest mode (classes k mod 4).
  const auto angle = torch::atan2(x.select(1, 1), x.select(1, 0));
  const auto own = torch::remainder(torch::remainder(torch::round(angle / (M_PI / 4)), 8), 4).to(torch::kInt64);
  const auto latent = sde::encode(*process, model, x, 1e-3, ode, {own, {}});
  REQUIRE(latent.ok());
  const auto back = sde::decode(*process, model, latent.samples, 1e-3, ode, {own, {}});
  REQUIRE(back.ok());
  CHECK((back.samples - x).abs().max().item<double>() < 1e-4);
  const auto other = torch::remainder(own + 1, 4);
  const auto edited = sde::decode(*process, model, latent.samples, 1e-3, ode, {other, {}});
  REQUIRE(edited.ok());
  const auto edited_angle = torch::atan2(edited.samples.select(1, 1), edited.samples.select(1, 0));
  const auto edited_class = torch::remainder(torch::remainder(torch::round(edited_angle / (M_PI / 4)), 8), 4).to(torch::kInt64);
  CHECK(torch::equal(edited_class, other));
}

TEST_CASE("every registered solver samples per-sample classes under guidance and inpaints, each class on its own modes") {
  // A smoke test over the solver registry: labels i mod 4 on the labelled ring, classifier-free
  // guidance (w = 1: the exact tilt keeps each class on its modes), replacement of x_1 where known.
  // 25 log-SNR steps; every sample finite and nearest to a mode of its class.
  const auto process = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(labelled_ring(), process);
  sde::ClassifierFreeGuidanceOptions cfg;
  cfg.scale = 1;
  const sde::ClassifierFreeGuidance guided(model, *process, cfg);
  const auto labels = torch::arange(32, torch::kInt64).remainder(4);
  for (const sde::SolverInfo& info : sde::registered_solvers()) {
    CAPTURE(info.name);
    sde::SampleRequest o = sde::testing::float64_request(25);
    o.grid.kind = sde::TimeGridKind::kLogSnr;
    o.condition = {labels, {}};
    const auto result = sde::make_sampler(info.name)->sample(*process, guided, sde::testing::samples_of(o, 32));
    REQUIRE(result.ok());
    const auto x = result.samples;
    const auto nearest = torch::remainder(torch::round(torch::atan2(x.select(1, 1), x.select(1, 0)) / (M_PI / 4)), 8);
    CHECK(torch::equal(torch::remainder(nearest, 4).to(torch::kInt64), labels));
    o.condition = {};
    o.hooks = sde::replacement_hooks(*process, sde::mask_measurement(torch::tensor({4.0, 0.0}, torch::kFloat64),
                                                                     torch::tensor({1.0, 0.0}, torch::kFloat64), {2}), 1);
    const auto inpainted = sde::make_sampler(info.name)->sample(*process, model, sde::testing::samples_of(o, 32));
    REQUIRE(inpainted.ok());
    CHECK(inpainted.samples.select(1, 0).eq(4.0).all().item<bool>());
    CHECK(sde::all_finite(inpainted.samples));
  }
}

TEST_CASE("RePaint solves every segment on the grid's own times, shifted or not, with one sampler") {
  const auto process = sde::make_sde({"flow"});
  const sde::Sde& flow = *process;
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), process);
  sde::SampleRequest request = sde::testing::float64_request(8);
  request.count = 16;
  request.grid.shift = 3;
  const std::vector<double> grid = sde::make_time_grid(flow, request.grid);
  std::vector<double> seen;
  request.observer.step = [&](const torch::Tensor&, const sde::StepPosition& where) { seen.push_back(where.time); };
  sde::RePaintOptions options;
  options.jump_length = 4;
  options.resamplings = 2;
  const auto measurement = sde::mask_measurement(torch::tensor({1.0, 0.0}, torch::kFloat64),
                                                 torch::tensor({1.0, 0.0}, torch::kFloat64), {2});
  const auto result = sde::repaint(*sde::make_sampler("euler"), flow, model, request, measurement, options);
  REQUIRE(result.ok());
  // Two passes over [t_0, t_4], then two over [t_4, t_8]: the grid's times, each segment twice.
  std::vector<double> expected;
  for (int segment = 0; segment < 2; ++segment)
    for (int pass = 0; pass < 2; ++pass) expected.insert(expected.end(), grid.begin() + 4 * segment + 1, grid.begin() + 4 * segment + 5);
  CHECK(seen == expected);
  CHECK(result.nfe == 17);
  CHECK(result.samples.select(1, 0).eq(1.0).all().item<bool>());
}
