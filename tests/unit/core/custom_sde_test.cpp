// Processes given by their kernel: user-defined alpha(t), sigma(t), and discrete tables of betas
// or alpha-bars (DDPM's, diffusers').
#include "testing.hpp"

#include <filesystem>
#include <fstream>

#include "sde/core/custom_sde.hpp"
#include "sde/core/errors.hpp"
#include "sde/io/npy.hpp"
#include "sde/core/parameterized_score.hpp"
#include "sde/io/schedule_file.hpp"
#include "sde/core/sde_factory.hpp"

using sde::testing::rel_diff;

namespace {

using sde::testing::temp_file;

// VP's kernel as functions, without derivatives or inverse: what a user would write.
sde::KernelFunctions vp_kernel() {
  const auto vp = std::make_shared<sde::VpSde>();
  sde::KernelFunctions k;
  k.alpha = [vp](double t) { return vp->alpha(t); };
  k.sigma = [vp](double t) { return vp->sigma(t); };
  k.name = "my-vp";
  return k;
}

}  // namespace

TEST_CASE("a process from alpha(t) and sigma(t) alone reproduces VP's f, g and inverse log-SNR") {
  const sde::CustomSde custom(vp_kernel());
  const sde::VpSde vp;
  CHECK(custom.name() == "my-vp");
  for (double t : {1e-3, 0.1, 0.5, 0.9, 1.0}) {
    CAPTURE(t);
    CHECK(rel_diff(custom.alpha(t), vp.alpha(t)) < 1e-15);
    // Central differences (h = 1e-6): truncation ~1e-12, rounding ~1e-10 relative.
    CHECK(rel_diff(custom.drift_coef(t), vp.drift_coef(t)) < 1e-7);
    CHECK(rel_diff(custom.diffusion(t), vp.diffusion(t)) < 1e-6);
    CHECK(rel_diff(custom.time_at_log_snr(vp.log_snr(t)), t) < 1e-9);
  }
  const auto t = torch::tensor({0.2, 0.7}, torch::kFloat64);
  CHECK(torch::allclose(custom.sigma(t), vp.sigma(t), 1e-14, 0));
  CHECK(torch::allclose(custom.diffusion(t), vp.diffusion(t), 1e-6, 0));
}

TEST_CASE("a process whose kernel is not one is refused, naming the time and the value") {
  sde::KernelFunctions k = vp_kernel();
  k.sigma = [](double t) { return 1.0 - 0.5 * t; };  // noise that shrinks: the log-SNR increases, g^2 < 0
  CHECK_THROWS_WITH_AS(sde::CustomSde{k}, doctest::Contains("the noise must not shrink faster than the signal"),
                       sde::InvalidArgument);
  k.sigma = [](double t) { return t < 0.5 ? t : 0.5; };  // a flat stretch: the log-SNR stops decreasing
  k.alpha = [](double) { return 1.0; };
  CHECK_THROWS_WITH_AS(sde::CustomSde{k}, doctest::Contains("must decrease strictly in t"), sde::InvalidArgument);
  k = vp_kernel();
  k.alpha = {};
  CHECK_THROWS_WITH_AS(sde::CustomSde{k}, doctest::Contains("alpha(t) and sigma(t) are required"), sde::InvalidArgument);
  k = vp_kernel();
  k.alpha = [](double t) { return t < 0.5 ? 1.0 : NAN; };
  CHECK_THROWS_WITH_AS(sde::CustomSde{k}, doctest::Contains("alpha(0.5"), sde::InvalidArgument);
}

TEST_CASE("a discrete schedule: its table at t_n = (n + 1) / N, DDPM's betas close to the continuous VP") {
  const sde::DiscreteSchedule ddpm = sde::DiscreteSchedule::ddpm_linear();
  const auto discrete = sde::make_sde({"discrete"});
  CHECK(discrete->name() == "discrete");
  CHECK(discrete->t_max() == 1.0);
  for (int64_t n : {0, 9, 499, 998, 999}) {
    const double t = double(n + 1) / 1000.0;
    CAPTURE(n);
    CHECK(rel_diff(discrete->alpha(t) * discrete->alpha(t), ddpm.alphas_cumprod[size_t(n)]) < 1e-13);
    CHECK(rel_diff(discrete->time_at_log_snr(discrete->log_snr(t)), t) < 1e-12);
  }
  // beta_n N = 0.1 .. 20 is the continuous VP's beta(t): the kernels agree to O(1/N).
  const sde::VpSde vp;
  for (double t = 0.0005; t < 1; t += 0.0731) CHECK(std::abs(discrete->alpha(t) - vp.alpha(t)) < 2e-3);
  // g^2 = -2 f, f the slope of log alpha between knots.
  CHECK(rel_diff(discrete->diffusion(0.3) * discrete->diffusion(0.3), -2 * discrete->drift_coef(0.3)) < 1e-12);
  CHECK(discrete->sigma(0.0) == 0.0);
  // from_betas is the cumulative product.
  const auto small = sde::DiscreteSchedule::from_betas({0.1, 0.2, 0.5});
  CHECK(small.alphas_cumprod[2] == doctest::Approx(0.9 * 0.8 * 0.5).epsilon(1e-15));
  CHECK_THROWS_WITH_AS(sde::make_discrete_sde({{0.9, 0.95}}), doctest::Contains("must decrease strictly"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::DiscreteSchedule::from_betas({0.1, 1.5}), doctest::Contains("beta[1] = 1.5"),
                       sde::InvalidArgument);
}

TEST_CASE("discrete schedules load from JSON and .npy files, and bad files are named") {
  const std::string json = temp_file("betas.json"), npy = temp_file("alphas.npy"), bad = temp_file("bad.json");
  sde::testing::write_bytes(json, R"({"betas": [0.1, 0.2, 0.5]})");
  sde::save_npy(npy, torch::tensor({0.9, 0.72, 0.36}, torch::kFloat64));
  sde::testing::write_bytes(bad, R"({"alphas_cumprod": [0.9, "x"]})");
  const auto from_json = sde::load_discrete_schedule(json);
  const auto from_npy = sde::load_discrete_schedule(npy);
  for (size_t i = 0; i < 3; ++i) CHECK(from_json.alphas_cumprod[i] == doctest::Approx(from_npy.alphas_cumprod[i]).epsilon(1e-15));
  // The same .npy read as betas: alpha_bar_0 = 1 - 0.9.
  CHECK(sde::load_discrete_schedule(npy, "betas").alphas_cumprod[0] == doctest::Approx(0.1).epsilon(1e-12));
  CHECK_THROWS_WITH_AS(sde::load_discrete_schedule(npy, "alpha"), doctest::Contains("must be alphas_cumprod or betas"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::load_discrete_schedule(bad), doctest::Contains("not a number"), sde::InvalidArgument);
  CHECK_THROWS_AS(sde::load_discrete_schedule(temp_file("missing.json")), sde::FileError);
}

TEST_CASE("networks of a discrete schedule see the step index N t - 1; other processes refuse that label") {
  const auto discrete = sde::make_sde({"discrete"});
  CHECK(discrete->discrete_steps() == 1000);
  const sde::Network identity = [](const torch::Tensor& x, const torch::Tensor&) { return x; };
  const sde::ParameterizedScoreModel model(discrete, identity, sde::Parameterization::kNoise,
                                           sde::parse_time_conditioning("index"), {2});
  const auto labels = model.label(torch::tensor({0.001, 0.5, 1.0}, torch::kFloat64));
  CHECK(labels[0].item<double>() == doctest::Approx(0.0).epsilon(1e-12));
  CHECK(labels[1].item<double>() == doctest::Approx(499.0).epsilon(1e-12));
  CHECK(labels[2].item<double>() == doctest::Approx(999.0).epsilon(1e-12));
  CHECK_THROWS_WITH_AS(sde::ParameterizedScoreModel(sde::make_sde({"vp"}), identity, sde::Parameterization::kNoise,
                                                    sde::TimeConditioning::kStepIndex, {2}),
                       doctest::Contains("needs a discrete schedule"), sde::InvalidArgument);
}
