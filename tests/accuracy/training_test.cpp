// Numerical experiment: a small MLP trained by denoising score matching (continuous, DDPM or SMLD)
// for a few seconds samples
// the 2-D ring (data/ring8.json's density) with a sliced W2 within 3x the exact-sample floor (the
// issue's criterion; the floor is the mean sliced W2 between independent exact sets of the same
// size, over 8 pairs). An untrained network must fail the same criterion, or the test proves
// nothing.
#include "testing.hpp"

#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/guidance.hpp"
#include "sde/core/metrics.hpp"
#include "sde/nn/networks.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/solve/registry.hpp"
#include "sde/nn/training.hpp"

using sde::testing::data_path;

namespace {

// The model sees the ring scaled by 1 / its std (2.83 per coordinate), as `scoresde train` does.
constexpr double kDataScale = 0.35;
constexpr int64_t kSamples = 2000;

sde::NetworkSpec mlp() {
  sde::NetworkSpec spec;
  spec.sample_shape = {2};
  spec.width = 128;
  spec.depth = 3;
  return spec;
}

// Sliced W2 of the network's samples (mapped back to data scale) to an exact set, and their mean
// exact log p_0 (reported: the sliced W2 barely sees the components' widths).
double sampled_sw2(const sde::Sde& s, const sde::ScoreModel& model, const torch::Tensor& reference,
                   const sde::GaussianMixtureScore& exact) {
  sde::SampleRequest options;
  options.grid.steps = 500;
  options.seed = 21;
  const auto result = sde::make_sampler("em")->sample(s, model, sde::testing::samples_of(options, kSamples));
  REQUIRE(result.ok());
  const torch::Tensor samples = result.samples.to(torch::kFloat64) / kDataScale;
  MESSAGE("mean log p_0 of the samples " << exact.log_prob(samples, torch::zeros({kSamples}, torch::kFloat64)).mean().item<double>()
          << " (exact samples: " << exact.log_prob(reference, torch::zeros({kSamples}, torch::kFloat64)).mean().item<double>() << ")");
  return sde::sliced_w2(samples, reference);
}

// The mean sliced W2 between independent exact sets and `reference` (8 pairs): the noise floor.
double exact_floor(const sde::GaussianMixtureScore& exact, const torch::Tensor& reference) {
  double floor = 0;
  for (int pair = 0; pair < 8; ++pair)
    floor += sde::sliced_w2(exact.sample(sde::NoiseStream(1000 + pair), {0, kSamples}, 0.0), reference) / 8;
  return floor;
}

// The ring mode (0..7, at angle k pi / 4) nearest to each point [n, 2].
torch::Tensor nearest_mode(const torch::Tensor& x) {
  const auto angle = torch::atan2(x.select(1, 1), x.select(1, 0));
  return torch::remainder(torch::round(angle / (M_PI / 4)), 8).to(torch::kInt64);
}

// Trains an MLP with `objective` for `steps` and returns the sliced W2 of its samples before and after.
struct BeforeAfter {
  double before, after, floor;
};

BeforeAfter train_and_measure(const std::string& sde_name, const std::string& objective, sde::Parameterization p,
                              sde::TimeConditioning c, double fourier_scale, int64_t steps) {
  const auto mixture = sde::GaussianMixture::from_json_file(data_path("ring8.json"));
  const auto s = sde::make_sde({sde_name});
  const sde::GaussianMixtureScore exact(mixture, s);
  const auto reference = exact.sample(sde::NoiseStream(999), {0, kSamples}, 0.0);
  const double floor = exact_floor(exact, reference);
  sde::TrainOptions options;
  options.steps = steps;  // the defaults otherwise (batch 512, lr 2e-3, EMA 0.995)
  options.seed = 1;
  options.objective = sde::parse_training_objective(objective);
  const auto ring = sde::toy_training_data("ring", 2);
  const sde::TrainingData scaled = sde::scaled_training_data(ring, kDataScale);
  sde::NetworkSpec spec = mlp();
  spec.fourier_scale = fourier_scale;
  sde::Trainer trainer(s, sde::ScoreNetwork(spec, 3), p, c, options);
  const double before = sampled_sw2(*s, *trainer.ema_score_model(), reference, exact);
  trainer.run(scaled);
  const double after = sampled_sw2(*s, *trainer.ema_score_model(), reference, exact);
  MESSAGE(objective << " on " << sde_name << ": sliced W2 to an exact set: trained " << after << ", untrained "
                    << before << ", exact floor " << floor);
  return {before, after, floor};
}

}  // namespace

TEST_CASE("an MLP trained for seconds samples the ring within 3x the exact-sample floor; untrained, it does not") {
  // Continuous DSM (VP, t labels), DDPM (VP, 999t labels) and SMLD (VE, index labels, noise output).
  // The labels' range sets the Fourier scale: 16 for t in [0, 1], 16 / 999 for indices.
  const BeforeAfter results[] = {
      train_and_measure("vp", "dsm", sde::Parameterization::kNoise, sde::TimeConditioning::kTime, 16.0, 4000),
      train_and_measure("vp", "ddpm", sde::Parameterization::kNoise, sde::TimeConditioning::kDiscrete999,
                        16.0 / 999, 3000),
      train_and_measure("ve", "smld", sde::Parameterization::kNoise, sde::TimeConditioning::kSmldIndex,
                        16.0 / 999, 3000)};
  for (const BeforeAfter& r : results) {
    CHECK(r.after <= 3 * r.floor);
    CHECK(r.before > 3 * r.floor);
  }
}

TEST_CASE("a class-conditional MLP trained with label dropout samples each class on its mode, and the whole ring unconditionally") {
  // The ring's components are its classes (toy_labels). 3000 steps, label dropout 0.1. Criteria:
  // each class's samples (250 of 2000, labels i mod 8) nearest to their own mode in >= 90% of cases
  // (an untrained network: 1 in 8); the null class's samples within 3x the floor, as above.
  const auto mixture = sde::GaussianMixture::from_json_file(data_path("ring8.json"));
  const auto s = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore exact(mixture, s);
  const auto reference = exact.sample(sde::NoiseStream(999), {0, kSamples}, 0.0);
  const double floor = exact_floor(exact, reference);
  sde::TrainOptions options;
  options.steps = 3000;
  options.seed = 1;
  options.label_dropout = 0.1;
  sde::NetworkSpec spec = mlp();
  spec.classes = 8;
  sde::Trainer trainer(s, sde::ScoreNetwork(spec, 3), sde::Parameterization::kNoise, sde::TimeConditioning::kTime, options);
  trainer.run(sde::scaled_training_data(sde::toy_training_data("ring", 2), kDataScale));
  const auto model = trainer.ema_score_model();

  sde::SampleRequest sampling;
  sampling.grid.steps = 500;
  sampling.seed = 21;
  sampling.condition = {torch::arange(kSamples, torch::kInt64).remainder(8), {}};
  const auto conditional = sde::make_sampler("em")->sample(*s, *model, sde::testing::samples_of(sampling, kSamples));
  REQUIRE(conditional.ok());
  const auto x = conditional.samples.to(torch::kFloat64) / kDataScale;
  const auto nearest = nearest_mode(x);
  for (int64_t y = 0; y < 8; ++y) {
    const auto rows = sampling.condition.labels.eq(y);
    const double share = nearest.masked_select(rows).eq(y).to(torch::kFloat64).mean().item<double>();
    CAPTURE(y);
    MESSAGE("class " << y << ": " << share << " of its samples on its mode");
    CHECK(share >= 0.9);
  }
  sampling.condition = {};
  const double unconditional = sampled_sw2(*s, *model, reference, exact);
  MESSAGE("null class: sliced W2 " << unconditional << " (floor " << floor << ")");
  CHECK(unconditional <= 3 * floor);
}

TEST_CASE("a noisy classifier trained on the ring guides the exact unconditional score onto each class's mode") {
  // Cross-entropy on x_t at t ~ U(eps, 1) (2000 steps, data in its own units), then classifier
  // guidance at scale 1 on the exact score of the whole ring, labels i mod 8, DPM-Solver++(2M) at 25
  // steps. Criterion: >= 90% of each class's samples nearest to its own mode (exact classifier: 100%;
  // no guidance: 1 in 8).
  const auto mixture = sde::GaussianMixture::from_json_file(data_path("ring8.json"));
  const auto s = sde::make_sde({"vp"});
  sde::NetworkSpec spec = mlp();
  spec.outputs = 8;
  sde::TrainOptions options;
  options.steps = 2000;
  options.seed = 1;
  options.objective = sde::TrainingObjective::kClassifier;
  sde::Trainer trainer(s, sde::ScoreNetwork(spec, 3), sde::Parameterization::kNoise, sde::TimeConditioning::kTime, options);
  trainer.run(sde::toy_training_data("ring", 2));
  const auto classifier = sde::classifier_of(s, trainer.ema(), sde::TimeConditioning::kTime);
  const sde::GaussianMixtureScore exact(mixture, s);
  const sde::ClassifierGuidance guided(exact, *classifier, *s, 1.0);
  sde::SampleRequest sampling;
  sampling.grid.steps = 25;
  sampling.grid.kind = sde::TimeGridKind::kLogSnr;
  sampling.seed = 21;
  sampling.condition = {torch::arange(kSamples, torch::kInt64).remainder(8), {}};
  const auto result = sde::make_sampler("dpmpp-2m")->sample(*s, guided, sde::testing::samples_of(sampling, kSamples));
  REQUIRE(result.ok());
  const auto x = result.samples.to(torch::kFloat64);
  const auto nearest = nearest_mode(x);
  for (int64_t y = 0; y < 8; ++y) {
    const double share = nearest.masked_select(sampling.condition.labels.eq(y)).eq(y).to(torch::kFloat64).mean().item<double>();
    CAPTURE(y);
    MESSAGE("classifier guidance, class " << y << ": " << share << " of its samples on its mode");
    CHECK(share >= 0.9);
  }
}
