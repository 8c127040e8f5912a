// Class-conditional networks and their training: a class table with a null class, labels that reach
// the network through the score model, label dropout drawn by (seed, sample), clear errors, and
// TorchScript modules with a class input.
#include "testing.hpp"
#include "unit/small_networks.hpp"

#include <torch/script.h>

#include <filesystem>

#include "sde/core/errors.hpp"
#include "sde/nn/networks.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/core/torchscript_model.hpp"
#include "sde/core/toy_data.hpp"
#include "sde/nn/training.hpp"

namespace {

using sde::testing::temp_file;

sde::NetworkSpec conditional_mlp(int64_t classes) {
  sde::NetworkSpec spec = sde::testing::small_mlp();
  spec.classes = classes;
  return spec;
}

sde::TrainOptions short_run(int64_t steps) {
  sde::TrainOptions o;
  o.steps = steps;
  o.batch = 64;
  o.warmup = 5;
  o.seed = 11;
  o.log_every = 0;
  return o;
}

}  // namespace

TEST_CASE("a class-conditional network: labels change its output, no labels are the null class, the spec keeps K") {
  for (const std::string kind : {"mlp", "unet"}) {
    CAPTURE(kind);
    sde::NetworkSpec spec = conditional_mlp(3);
    if (kind == "unet") {
      spec.kind = "unet";
      spec.sample_shape = {1, 8, 8};
      spec.channels = 8;
      spec.channel_mult = {1, 2};
      spec.attention_resolutions = {};
      spec.groups = 4;
    }
    const sde::ScoreNetwork net(spec, 1);
    // The zero-initialised last layer of the U-Net would hide the labels: perturb every weight.
    torch::NoGradGuard no_grad;
    for (auto& p : net.parameters()) p.add_(torch::randn_like(p) * 0.1);
    std::vector<int64_t> shape{4};
    shape.insert(shape.end(), spec.sample_shape.begin(), spec.sample_shape.end());
    const auto x = torch::randn(shape);
    const auto t = torch::full({4}, 0.5);
    const auto a = net.forward(x, t, torch::tensor(std::vector<int64_t>{0, 1, 2, 0}));
    CHECK_FALSE(torch::allclose(a[0], a[1]));
    // Row 0 alone gives what it gave in the batch (the class table is looked up per row). Batched
    // and single-row float32 convolutions round differently, up to ~10 ulp of the output's scale
    // (measured: 1.1e-6 at scale 1.0 on one thread), so the bound is relative to that scale, not
    // to each element (an element near zero would need an absolute bound of its own).
    const auto alone = net.forward(x.narrow(0, 0, 1), t.narrow(0, 0, 1), torch::tensor(std::vector<int64_t>{0}))[0];
    CHECK((a[0] - alone).abs().max().item<double>() <= 1e-5 * a[0].abs().max().item<double>());
    const auto none = net.forward(x, t, torch::full({4}, sde::kUnconditional, torch::kInt64));
    CHECK(torch::equal(none, net.forward(x, t)));
    CHECK_FALSE(torch::allclose(none, a));
    CHECK(sde::NetworkSpec::from_json(spec.to_json()).classes == 3);
  }
  // An unconditional network's description does not mention classes (older weight files still load).
  CHECK(sde::testing::small_mlp().to_json().find("classes") == std::string::npos);
  const sde::ScoreNetwork plain(sde::testing::small_mlp(), 1);
  CHECK_THROWS_WITH_AS(plain.forward(torch::zeros({2, 2}), torch::zeros({2}), torch::zeros({2}, torch::kInt64)),
                       doctest::Contains("takes no class labels"), sde::InvalidArgument);
}

TEST_CASE("the score model of a conditional network takes the condition; the trainer needs labels and drops them by seed") {
  const auto vp = sde::make_sde({"vp"});
  const sde::ScoreNetwork net(conditional_mlp(8), 2);
  const auto model = sde::score_model_of(vp, net, sde::Parameterization::kNoise, sde::TimeConditioning::kTime);
  CHECK(model->num_classes() == 8);
  const auto x = torch::randn({3, 2});
  const auto t = torch::full({3}, 0.3);
  const auto labels = torch::tensor(std::vector<int64_t>{1, 5, 7});
  // The score model calls the network in padded blocks of 2048 rows, whose float32 kernels round
  // differently from this 3-row call (~10 ulp of the output's scale; an element near zero failed
  // allclose's per-element bound on another CPU), so the bound is relative to the output's scale.
  const auto direct = -net.forward(x, t, labels) / vp->sigma(t).view({3, 1});
  CHECK((model->conditional_score(x, t, {labels, {}}) - direct).abs().max().item<double>() <=
        1e-5 * direct.abs().max().item<double>());
  CHECK_THROWS_WITH_AS(model->conditional_score(x, t, sde::Condition::of_class(8, 3)), doctest::Contains("[0, 8)"),
                       sde::InvalidArgument);

  // The toy ring's labels are its components: each point lies near its class's mean.
  const auto points = sde::toy_data("ring", sde::NoiseStream(4), {0, 400});
  const auto classes = sde::toy_labels("ring", sde::NoiseStream(4), {0, 400});
  const auto angle = classes.to(torch::kFloat64) * (M_PI / 4);
  const auto means = torch::stack({angle.cos(), angle.sin()}, 1) * 4;
  CHECK((points.to(torch::kFloat64) - means).norm(2, 1).max().item<double>() < 2.0);

  // Training: the same seed gives the same run (label dropout included); unlabelled data is refused.
  auto train = [&](double dropout) {
    sde::TrainOptions o = short_run(5);
    o.label_dropout = dropout;
    sde::Trainer trainer(vp, sde::ScoreNetwork(conditional_mlp(8), 3), sde::Parameterization::kNoise,
                         sde::TimeConditioning::kTime, o);
    trainer.run(sde::toy_training_data("ring", 1));
    return trainer.network().parameters().front().clone();
  };
  CHECK(torch::equal(train(0.2), train(0.2)));
  CHECK_FALSE(torch::equal(train(0.2), train(0.0)));
  sde::Trainer trainer(vp, sde::ScoreNetwork(conditional_mlp(8), 3), sde::Parameterization::kNoise,
                       sde::TimeConditioning::kTime, short_run(2));
  CHECK_THROWS_WITH_AS(trainer.step(torch::zeros({64, 2})), doctest::Contains("trains on labelled data"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(trainer.step({torch::zeros({64, 2}), torch::full({64}, 9, torch::kInt64)}),
                       doctest::Contains("[0, 8)"), sde::InvalidArgument);
  sde::TrainOptions bad = short_run(2);
  bad.label_dropout = 1.0;
  CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("label_dropout"), sde::InvalidArgument);
}

TEST_CASE("a TorchScript module with a class input loads as a conditional model; no class is passed as K") {
  // forward(x, label, y) = x * (y + 1): y = K = 2 for "no class".
  torch::jit::Module m("m");
  m.define(R"(
def forward(self, x, label, y):
    return x * (y.to(x.dtype) + 1.0).view(-1, 1)
)");
  const std::string path = temp_file("conditional_module.pt");
  m.save(path);
  const auto vp = sde::make_sde({"vp"});
  const sde::TorchScriptScoreModel model(path, vp, sde::Parameterization::kScore, sde::TimeConditioning::kTime, {2},
                                         sde::ConditionInputs{2, false});
  CHECK(model.num_classes() == 2);
  const auto x = torch::ones({3, 2});
  const auto t = torch::full({3}, 0.5);
  const auto s = model.conditional_score(x, t, {torch::tensor(std::vector<int64_t>{0, 1, sde::kUnconditional}), {}});
  CHECK(torch::allclose(s.select(1, 0), torch::tensor({1.0f, 2.0f, 3.0f})));
  CHECK(torch::allclose(model.score(x, t), 3 * x));
  // Loaded without naming its classes, the module's three-argument forward fails at load time.
  CHECK_THROWS_WITH_AS(sde::TorchScriptScoreModel(path, vp, sde::Parameterization::kScore, sde::TimeConditioning::kTime, {2}),
                       doctest::Contains("(x, label)"), sde::InvalidArgument);
}

TEST_CASE("the classifier objective trains a K-way head on noisy samples; it loads back as a classifier, not a score model") {
  const auto vp = sde::make_sde({"vp"});
  sde::NetworkSpec spec = sde::testing::small_mlp();
  spec.outputs = 8;
  sde::TrainOptions o = short_run(300);
  o.objective = sde::TrainingObjective::kClassifier;
  o.lr = 5e-3;
  double first = 0, last = 0;
  o.log_every = 10;
  sde::Trainer trainer(vp, sde::ScoreNetwork(spec, 1), sde::Parameterization::kNoise, sde::TimeConditioning::kTime, o);
  trainer.run(sde::scaled_training_data(sde::toy_training_data("ring", 2), 0.35), [&](const sde::TrainProgress& p) {
    if (p.step == 10) first = p.loss;
    last = p.loss;
  });
  MESSAGE("cross-entropy: " << first << " after 10 steps, " << last << " after 300 (log 8 = " << std::log(8.0) << ")");
  // Averaged over t ~ U(0, 1) the loss cannot fall far below log 8: at large t the classes are
  // indistinguishable. Measured 2.08 -> 1.81.
  CHECK(last < first - 0.2);
  // At small t the ring's classes are its well-separated modes: the classifier must find most of them.
  const auto classifier = sde::classifier_of(vp, trainer.ema(), sde::TimeConditioning::kTime);
  const auto x0 = sde::toy_data("ring", sde::NoiseStream(7), {0, 400}) * 0.35;
  const auto y = sde::toy_labels("ring", sde::NoiseStream(7), {0, 400});
  const auto predicted = classifier->log_probs(x0, torch::full({400}, 0.01)).argmax(1);
  const double accuracy = predicted.eq(y).to(torch::kFloat64).mean().item<double>();
  MESSAGE("accuracy at t = 0.01: " << accuracy);
  CHECK(accuracy > 0.8);
  // A classifier head with a class input, or a unet with a head, is refused.
  spec.classes = 8;
  CHECK_THROWS_WITH_AS(sde::Trainer(vp, sde::ScoreNetwork(spec, 1), sde::Parameterization::kNoise,
                                    sde::TimeConditioning::kTime, o),
                       doctest::Contains("no class input"), sde::InvalidArgument);
  sde::NetworkSpec unet;
  unet.kind = "unet";
  unet.sample_shape = {1, 8, 8};
  unet.outputs = 3;
  CHECK_THROWS_WITH_AS(unet.validate(), doctest::Contains("an mlp's only"), sde::InvalidArgument);
}
