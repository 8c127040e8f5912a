// Networks, the trainer and the files they leave: seeded construction, weights and checkpoints
// that round-trip, a resumed run identical to an uninterrupted one, and clear errors for bad input.
#include "testing.hpp"
#include "unit/small_networks.hpp"

#include <filesystem>
#include <fstream>

#include "sde/core/errors.hpp"
#include "sde/nn/networks.hpp"
#include "sde/core/random.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/nn/trained_model.hpp"
#include "sde/nn/training.hpp"

namespace {

using sde::testing::small_mlp;
using sde::testing::temp_file;

sde::TrainOptions short_run(int64_t steps) {
  sde::TrainOptions o;
  o.steps = steps;
  o.batch = 64;
  o.warmup = 5;
  o.ema_decay = 0.9;
  o.seed = 11;
  o.log_every = 0;
  return o;
}

bool same_state(const sde::ScoreNetwork& a, const sde::ScoreNetwork& b) {
  const auto sa = a.state(), sb = b.state();
  if (sa.size() != sb.size()) return false;
  for (size_t i = 0; i < sa.size(); ++i)
    if (sa[i].first != sb[i].first || !torch::equal(sa[i].second, sb[i].second)) return false;
  return true;
}

}  // namespace

TEST_CASE("a network's weights are a function of its seed, and its inputs are checked") {
  const sde::ScoreNetwork a(small_mlp(), 1), b(small_mlp(), 1), c(small_mlp(), 2);
  CHECK(same_state(a, b));
  CHECK_FALSE(same_state(a, c));
  CHECK(a.parameter_count() == (2 + 32) * 32 + 32 + 32 * 32 + 32 + 32 * 2 + 2);
  const auto x = sde::NoiseStream(0).normal({0, 5}, {2}, 0);
  CHECK(a.forward(x, torch::full({5}, 0.5)).sizes() == x.sizes());
  CHECK_THROWS_WITH_AS(a.forward(x.reshape({5, 2, 1}), torch::full({5}, 0.5)), doctest::Contains("shape [B, 2]"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(a.forward(x, torch::full({4}, 0.5)), doctest::Contains("labels of shape [5]"),
                       sde::InvalidArgument);
  sde::NetworkSpec bad = small_mlp();
  bad.activation = "swish";
  CHECK_THROWS_WITH_AS(sde::ScoreNetwork(bad, 0), doctest::Contains("known: silu, relu, gelu, tanh"),
                       sde::InvalidArgument);
  // A clone is independent; building a network leaves LibTorch's global generator as it was.
  torch::manual_seed(5);
  const auto first = torch::randn({3});
  torch::manual_seed(5);
  const sde::ScoreNetwork e(small_mlp(), 9);
  CHECK(torch::equal(torch::randn({3}), first));
  const sde::ScoreNetwork d = a.clone();
  CHECK(same_state(a, d));
  torch::NoGradGuard no_grad;
  d.parameters()[0].add_(1.0);
  CHECK_FALSE(same_state(a, d));
}

TEST_CASE("weights files round-trip and refuse another network or a corrupt file") {
  const std::string path = temp_file("weights.pt");
  const sde::ScoreNetwork a(small_mlp(), 3);
  a.save(path);
  sde::ScoreNetwork b(small_mlp(), 4);
  b.load(path);
  CHECK(same_state(a, b));
  sde::NetworkSpec wider = small_mlp();
  wider.width = 33;
  sde::ScoreNetwork c(wider, 0);
  CHECK_THROWS_WITH_AS(c.load(path), doctest::Contains("weights of another network"), sde::InvalidArgument);
  std::ofstream(path, std::ios::trunc) << "not an archive";
  CHECK_THROWS_AS(b.load(path), sde::FileError);
}

TEST_CASE("a run resumed from a checkpoint ends with exactly the weights of an uninterrupted run") {
  const auto vp = sde::make_sde({"vp"});
  const auto data = sde::toy_training_data("ring", 5);
  sde::Trainer straight(vp, sde::ScoreNetwork(small_mlp(), 7), sde::Parameterization::kNoise,
                        sde::TimeConditioning::kTime, short_run(20));
  straight.run(data);
  CHECK(straight.steps_done() == 20);

  const std::string path = temp_file("checkpoint.pt");
  sde::TrainOptions first_half = short_run(20);
  first_half.steps = 10;
  sde::Trainer first(vp, sde::ScoreNetwork(small_mlp(), 7), sde::Parameterization::kNoise,
                     sde::TimeConditioning::kTime, first_half);
  first.run(data);
  first.save_checkpoint(path);
  // A new process, in effect: a network from another seed, restored from the file.
  sde::Trainer resumed(vp, sde::ScoreNetwork(small_mlp(), 99), sde::Parameterization::kNoise,
                       sde::TimeConditioning::kTime, short_run(20));
  resumed.load_checkpoint(path);
  CHECK(resumed.steps_done() == 10);
  resumed.run(data);
  CHECK(same_state(resumed.network(), straight.network()));
  CHECK(same_state(resumed.ema(), straight.ema()));
  CHECK_FALSE(same_state(straight.network(), straight.ema()));  // the EMA is not the raw weights

  // The same seed twice: the same weights; another seed: others.
  sde::Trainer again(vp, sde::ScoreNetwork(small_mlp(), 7), sde::Parameterization::kNoise,
                     sde::TimeConditioning::kTime, short_run(20));
  again.run(data);
  CHECK(same_state(again.network(), straight.network()));
  sde::TrainOptions other_seed = short_run(20);
  other_seed.seed = 12;
  sde::Trainer other(vp, sde::ScoreNetwork(small_mlp(), 7), sde::Parameterization::kNoise,
                     sde::TimeConditioning::kTime, other_seed);
  other.run(data);
  CHECK_FALSE(same_state(other.network(), straight.network()));

  // A checkpoint of another run is refused, naming the difference.
  sde::TrainOptions other_lr = short_run(20);
  other_lr.lr = 5e-4;
  sde::Trainer mismatched(vp, sde::ScoreNetwork(small_mlp(), 7), sde::Parameterization::kNoise,
                          sde::TimeConditioning::kTime, other_lr);
  CHECK_THROWS_WITH_AS(mismatched.load_checkpoint(path), doctest::Contains("different run"), sde::InvalidArgument);
  sde::TrainOptions decayed = short_run(20);
  decayed.lr_decay_steps = 20;
  sde::Trainer with_decay(vp, sde::ScoreNetwork(small_mlp(), 7), sde::Parameterization::kNoise,
                          sde::TimeConditioning::kTime, decayed);
  CHECK_THROWS_WITH_AS(with_decay.load_checkpoint(path), doctest::Contains("different run"), sde::InvalidArgument);
  const std::string weights = temp_file("not_a_checkpoint.pt");
  straight.network().save(weights);
  CHECK_THROWS_AS(mismatched.load_checkpoint(weights), sde::Error);
  CHECK(mismatched.steps_done() == 0);
}

TEST_CASE("a saved model loads as the same score model, with its metadata") {
  const auto ve = sde::make_sde({"ve"});
  sde::Trainer trainer(ve, sde::ScoreNetwork(small_mlp(), 1), sde::Parameterization::kNoise,
                       sde::TimeConditioning::kTime, short_run(3));
  trainer.run(sde::toy_training_data("moons", 2));
  sde::ModelMetadata meta;
  meta.sde.name = "ve";
  meta.network = small_mlp();
  meta.data = "toy:moons";
  meta.data_scale = 0.5;
  meta.steps_trained = trainer.steps_done();
  const std::string dir = temp_file("model");
  sde::save_trained_model(dir, meta, trainer.ema());
  const sde::LoadedModel loaded = sde::load_trained_model(dir);
  CHECK(loaded.metadata.data == "toy:moons");
  CHECK(loaded.metadata.data_scale == 0.5);
  CHECK(loaded.metadata.steps_trained == 3);
  CHECK(loaded.sde->name() == ve->name());
  const auto x = sde::NoiseStream(0).normal({0, 7}, {2}, 0) * 5.0;
  const auto t = torch::linspace(0.01, 1.0, 7);
  CHECK(torch::equal(loaded.score->score(x, t), trainer.ema_score_model()->score(x, t)));
  // A recommended sampler round-trips; Fashion-MNIST directories from before data_range scaled
  // pixels centred to [-1, 1] and read as the same map from pixels in [0, 1].
  meta.sampler = {"dpmpp-2m", 20, "logsnr", true};
  meta.data_range = std::make_pair(-3.0, 3.0);
  sde::save_trained_model(dir, meta, trainer.ema());
  const sde::RecommendedSampler sampler = sde::load_trained_model(dir).metadata.sampler;
  CHECK(sampler.solver == "dpmpp-2m");
  CHECK(sampler.steps == 20);
  CHECK(sampler.schedule == "logsnr");
  CHECK(sampler.clip_x0);
  meta.sampler = {};
  meta.data_range.reset();
  meta.data = "fashion-mnist";
  meta.data_scale = 1.0;
  sde::save_trained_model(dir, meta, trainer.ema());
  const sde::ModelMetadata legacy = sde::load_trained_model(dir).metadata;
  CHECK(legacy.data_scale == 2.0);
  CHECK(legacy.data_shift == -1.0);
  REQUIRE(legacy.data_range);
  CHECK(legacy.data_range->first == -1.0);
  CHECK(legacy.data_range->second == 1.0);
  std::filesystem::remove(dir + "/weights.pt");
  CHECK_THROWS_WITH_AS(sde::load_trained_model(dir), doctest::Contains("weights.pt"), sde::FileError);
  std::filesystem::remove_all(dir);
  CHECK_THROWS_WITH_AS(sde::load_trained_model(dir), doctest::Contains("model.json"), sde::FileError);
}

TEST_CASE("the learning rate warms up linearly, then stays or follows a half cosine to 0") {
  sde::TrainOptions o;
  o.lr = 1e-3;
  o.warmup = 100;
  CHECK(sde::learning_rate_at(o, 0) == doctest::Approx(1e-5));
  CHECK(sde::learning_rate_at(o, 49) == doctest::Approx(5e-4));
  CHECK(sde::learning_rate_at(o, 99) == 1e-3);
  CHECK(sde::learning_rate_at(o, 100000) == 1e-3);
  o.lr_decay_steps = 1100;
  CHECK(sde::learning_rate_at(o, 49) == doctest::Approx(5e-4));  // the warm-up is the same
  CHECK(sde::learning_rate_at(o, 100) == 1e-3);                   // the decay starts at its end
  CHECK(sde::learning_rate_at(o, 600) == doctest::Approx(5e-4));  // half way: cos(pi / 2) = 0
  CHECK(sde::learning_rate_at(o, 350) == doctest::Approx(1e-3 * (1 + std::sqrt(0.5)) / 2));
  CHECK(sde::learning_rate_at(o, 1099) == doctest::Approx(1e-3 * (1 - std::cos(M_PI / 1000)) / 2));
  CHECK(sde::learning_rate_at(o, 1099) > 0);  // the last step still learns
  o.warmup = 0;
  CHECK(sde::learning_rate_at(o, 0) == 1e-3);
}

TEST_CASE("the power-function EMA is the average with weights i^(p+1) - (i-1)^(p+1), the start's none") {
  sde::TrainOptions o;
  o.ema_decay = 0.999;
  CHECK(sde::ema_decay_at(o, 7) == 0.999);
  o.ema_power = 6.94;
  CHECK(sde::ema_decay_at(o, 0) == 0.0);  // the first step's weights replace the initial ones
  // The recursion ema <- d_k ema + (1 - d_k) w_k over w_k = k + 1 against the closed form.
  const int n = 400;
  double ema = -1e6;  // the initial weights, which must leave no trace
  for (int k = 0; k < n; ++k) {
    const double d = sde::ema_decay_at(o, k);
    ema = d * ema + (1 - d) * double(k + 1);
  }
  double closed = 0;
  for (int i = 1; i <= n; ++i) closed += i * (std::pow(i, o.ema_power + 1) - std::pow(i - 1, o.ema_power + 1));
  closed /= std::pow(n, o.ema_power + 1);
  CHECK(ema == doctest::Approx(closed).epsilon(1e-10));
  CHECK(double(n) - ema == doctest::Approx(double(n) / (o.ema_power + 2)).epsilon(0.02));  // mean age n / (p + 2), 1 % off for the
  // discrete steps (the continuous profile's value)
  o.ema_power = -1;
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("ema_power"), sde::InvalidArgument);
}

TEST_CASE("bad training input is refused with the reason") {
  auto data = torch::zeros({10, 2});
  data[6][1] = std::nan("");
  CHECK_THROWS_WITH_AS(sde::dataset_training_data(data, 0), doctest::Contains("row 6"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::toy_training_data("spiral", 0), doctest::Contains("spiral"), sde::InvalidArgument);
  sde::TrainOptions o = short_run(10);
  o.ema_decay = 1.0;
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("ema_decay"), sde::InvalidArgument);
  o = short_run(10);
  o.lr_decay_steps = o.warmup;
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("lr_decay_steps"), sde::InvalidArgument);
  o.lr_decay_steps = 8;  // short of the 10 steps: the last two would have learning rate 0
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("learning rate 0"), sde::InvalidArgument);
  // Rows are drawn by (seed, step): the same batch for the same step, whatever came before.
  const auto rows = torch::arange(100, torch::kFloat32).reshape({50, 2});
  const auto source = sde::dataset_training_data(rows, 4);
  CHECK(torch::equal(source(3, 16).x0, source(3, 16).x0));
  CHECK_FALSE(torch::equal(source(3, 16).x0, source(4, 16).x0));
}

TEST_CASE("the discrete objectives insist on score_sde's conventions, and train") {
  const auto vp = sde::make_sde({"vp"}), ve = sde::make_sde({"ve"});
  sde::TrainOptions o = short_run(3);
  o.objective = sde::TrainingObjective::kDdpm;
  CHECK_THROWS_WITH_AS(sde::Trainer(ve, sde::ScoreNetwork(small_mlp(), 0), sde::Parameterization::kNoise,
                                    sde::TimeConditioning::kDiscrete999, o),
                       doctest::Contains("VP noise predictor with 999t labels; got sde ve"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::Trainer(vp, sde::ScoreNetwork(small_mlp(), 0), sde::Parameterization::kNoise,
                                    sde::TimeConditioning::kTime, o),
                       doctest::Contains("conditioning time"), sde::InvalidArgument);
  sde::Trainer ddpm(vp, sde::ScoreNetwork(small_mlp(), 0), sde::Parameterization::kNoise,
                    sde::TimeConditioning::kDiscrete999, o);
  ddpm.run(sde::toy_training_data("ring", 0));
  CHECK(ddpm.steps_done() == 3);
  o.objective = sde::TrainingObjective::kSmld;
  CHECK_THROWS_WITH_AS(sde::Trainer(ve, sde::ScoreNetwork(small_mlp(), 0), sde::Parameterization::kData,
                                    sde::TimeConditioning::kSmldIndex, o),
                       doctest::Contains("VE score or noise network with smld labels"), sde::InvalidArgument);
  sde::Trainer smld(ve, sde::ScoreNetwork(small_mlp(), 0), sde::Parameterization::kScore,
                    sde::TimeConditioning::kSmldIndex, o);
  smld.run(sde::toy_training_data("ring", 0));
  CHECK(smld.steps_done() == 3);
  CHECK_THROWS_WITH_AS(sde::parse_training_objective("sliced"), doctest::Contains("known: dsm, ddpm, smld"),
                       sde::InvalidArgument);
  o.objective = sde::TrainingObjective::kDdpm;
  o.loss.likelihood_weighting = true;
  CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("likelihood weighting is a DSM option"), sde::InvalidArgument);
}

TEST_CASE("the U-Net maps [B, C, 28, 28] to its own shape, starts at zero, and trains") {
  sde::NetworkSpec spec;
  spec.kind = "unet";
  spec.sample_shape = {1, 28, 28};
  spec.channels = 8;
  spec.groups = 4;
  const sde::ScoreNetwork unet(spec, 0);
  const auto x = sde::NoiseStream(0).normal({0, 3}, {1, 28, 28}, 0);
  const auto t = torch::tensor({0.1f, 0.5f, 0.9f});
  const auto y = unet.forward(x, t);
  CHECK(y.sizes() == x.sizes());
  CHECK(y.abs().max().item<double>() == 0.0);  // the last convolution starts at zero, as DDPM++'s
  CHECK(unet.parameter_count() > 10000);
  // A few steps on images of a bright square: the output leaves zero, depends on t, and the
  // weights file round-trips.
  auto images = torch::full({64, 1, 28, 28}, -1.0f);
  images.slice(2, 8, 20).slice(3, 8, 20).fill_(1.0f);
  sde::TrainOptions o = short_run(5);
  o.batch = 8;
  sde::Trainer trainer(sde::make_sde({"vp"}), unet, sde::Parameterization::kNoise, sde::TimeConditioning::kTime, o);
  trainer.run(sde::dataset_training_data(images, 1));
  const auto trained = trainer.network().forward(x, t);
  CHECK(trained.abs().max().item<double>() > 0.0);
  CHECK_FALSE(torch::allclose(trained[0], trainer.network().forward(x.slice(0, 0, 1), t.slice(0, 2, 3))[0]));
  const std::string path = temp_file("unet.pt");
  trainer.network().save(path);
  sde::ScoreNetwork loaded(spec, 9);
  loaded.load(path);
  CHECK(same_state(loaded, trainer.network()));
  // Shapes a U-Net cannot take are refused with the reason.
  spec.sample_shape = {1, 30, 30};
  CHECK_THROWS_WITH_AS(sde::ScoreNetwork(spec, 0), doctest::Contains("not divisible by 4"), sde::InvalidArgument);
  spec.sample_shape = {1, 28, 28};
  spec.groups = 3;
  CHECK_THROWS_WITH_AS(sde::ScoreNetwork(spec, 0), doctest::Contains("must divide channels"), sde::InvalidArgument);
}
