// The denoising score-matching loss with the exact score of a Gaussian equals its analytic minimum.
#include "testing.hpp"

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/nn/losses.hpp"
#include "sde/core/sde_factory.hpp"

TEST_CASE("DSM with the exact score of a Gaussian reaches the closed-form minimum") {
  // Data N(m, c^2 I) in D = 3: p_t = N(alpha m, v I), v = alpha^2 c^2 + sigma^2, E||grad log p_t||^2 =
  // D / v, so E||sigma s + z||^2 = D - sigma^2 D / v = D alpha^2 c^2 / v (times g^2 / sigma^2 for the
  // likelihood weighting; / D with reduce_mean). Monte Carlo with n = 200000 at fixed t; tolerance
  // k = 4 standard errors of the mean.
  const int64_t d = 3, n = 200000;
  const double c = 0.7;
  Eigen::VectorXd m(3);
  m << 1.0, -2.0, 0.5;
  const sde::GaussianMixture gaussian({1.0}, {m}, {c * c * Eigen::MatrixXd::Identity(d, d)});
  for (const std::string name : {"vp", "subvp", "ve"}) {
    const auto s = sde::make_sde({name});
    const sde::GaussianMixtureScore model(gaussian, s);
    for (const double time : {0.05, 0.3, 0.9}) {
      for (const bool likelihood : {false, true}) {
        for (const bool mean : {false, true}) {
          CAPTURE(name);
          CAPTURE(time);
          CAPTURE(likelihood);
          CAPTURE(mean);
          const sde::NoiseStream noise(21);
          const auto x0 = model.sample(noise, {0, n}, 0.0);
          const auto z = noise.normal({0, n}, {d}, 7, torch::kFloat64);
          const auto t = torch::full({n}, time, torch::kFloat64);
          const auto loss = sde::dsm_loss(*s, model, x0, t, z, {likelihood, mean});
          const double alpha = s->alpha(time), sigma = s->sigma(time), g = s->diffusion(time);
          const double v = alpha * alpha * c * c + sigma * sigma;
          double expected = double(d) * alpha * alpha * c * c / v;
          if (likelihood) expected *= g * g / (sigma * sigma);
          if (mean) expected /= double(d);
          const double tolerance = 4.0 * loss.std().item<double>() / std::sqrt(double(n));
          CHECK(std::abs(loss.mean().item<double>() - expected) <= tolerance);
        }
      }
    }
  }
}

TEST_CASE("DSM with a wrong score is larger than the minimum, and bad noise is refused") {
  const auto s = sde::make_sde({"vp"});
  Eigen::VectorXd m = Eigen::VectorXd::Zero(2);
  const sde::GaussianMixture wide({1.0}, {m}, {Eigen::MatrixXd::Identity(2, 2)});
  const sde::GaussianMixture narrow({1.0}, {m}, {0.25 * Eigen::MatrixXd::Identity(2, 2)});
  const sde::GaussianMixtureScore truth(wide, s), wrong(narrow, s);
  const sde::NoiseStream noise(3);
  const auto x0 = truth.sample(noise, {0, 50000}, 0.0);
  const auto z = noise.normal({0, 50000}, {2}, 7, torch::kFloat64);
  const auto t = torch::full({50000}, 0.2, torch::kFloat64);
  CHECK(sde::dsm_loss(*s, wrong, x0, t, z).mean().item<double>() > sde::dsm_loss(*s, truth, x0, t, z).mean().item<double>() + 0.1);
  CHECK_THROWS_WITH_AS(sde::dsm_loss(*s, truth, x0, t, z.narrow(0, 0, 10)), doctest::Contains("the noise has shape [10, 2]"),
                       sde::InvalidArgument);
}

TEST_CASE("the discrete DDPM and SMLD losses with the exact predictor reach their closed-form minima") {
  // Data N(0, c^2 I) in D = 3. DDPM step i: x = a x0 + s z with a = sqrt(alpha_bar_i), s the rest;
  // x ~ N(0, v I), v = a^2 c^2 + s^2, and E[z | x] = s x / v, so E|| eps - z ||^2 = D (1 - s^2 / v).
  // SMLD level i: x = x0 + sigma z ~ N(0, (c^2 + sigma^2) I); the exact score is -x / (c^2 + sigma^2)
  // and E|| sigma s + z ||^2 = D c^2 / (c^2 + sigma^2). Monte Carlo, n = 100000 per label, k = 4
  // standard errors.
  const int64_t d = 3, n = 100000;
  const double c = 0.7;
  const sde::NoiseStream noise(5);
  const auto x0 = noise.normal({0, n}, {d}, 0, torch::kFloat64) * c;
  const auto z = noise.normal({0, n}, {d}, 1, torch::kFloat64);
  const auto ddpm = sde::DdpmSchedule::of(sde::LinearBeta{});
  const auto sigmas = sde::smld_sigmas(sde::VeSchedule{});
  CHECK(sigmas[0].item<double>() == doctest::Approx(50.0));
  CHECK(sigmas[999].item<double>() == doctest::Approx(0.01));
  // The DDPM schedule's last alpha_bar is small, as the reference's: prod(1 - beta_i) ~ exp(-10.05).
  CHECK(ddpm.sqrt_alpha_bar[999].item<double>() == doctest::Approx(std::exp(-0.5 * 10.05)).epsilon(0.01));
  for (const int64_t i : {0, 100, 500, 999}) {
    CAPTURE(i);
    const auto labels = torch::full({n}, i, torch::kLong);
    const double a = ddpm.sqrt_alpha_bar[i].item<double>(), s = ddpm.sqrt_one_minus_alpha_bar[i].item<double>();
    const double v = a * a * c * c + s * s;
    const sde::Network exact_eps = [&](const torch::Tensor& x, const torch::Tensor& label) {
      CHECK(label.eq(double(i)).all().item<bool>());  // the network sees the index itself
      return x * (s / v);
    };
    const auto ddpm_values = sde::ddpm_loss(exact_eps, ddpm, x0, labels, z);
    CHECK(std::abs(ddpm_values.mean().item<double>() - double(d) * (1 - s * s / v)) <=
          4.0 * ddpm_values.std().item<double>() / std::sqrt(double(n)));
    const double sigma = sigmas[i].item<double>();
    const sde::Network exact_score = [&](const torch::Tensor& x, const torch::Tensor&) {
      return x / -(c * c + sigma * sigma);
    };
    const auto smld_values = sde::smld_loss(exact_score, sigmas, x0, labels, z, true);
    CHECK(std::abs(smld_values.mean().item<double>() - c * c / (c * c + sigma * sigma)) <=
          4.0 * smld_values.std().item<double>() / std::sqrt(double(n)));
  }
  const sde::Network zero = [](const torch::Tensor& x, const torch::Tensor&) { return torch::zeros_like(x); };
  CHECK_THROWS_WITH_AS(sde::ddpm_loss(zero, ddpm, x0.slice(0, 0, 4), torch::full({4}, 1000, torch::kLong), z.slice(0, 0, 4)),
                       doctest::Contains("labels must lie in [0, 1000)"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::smld_loss(zero, sigmas, x0.slice(0, 0, 4), torch::full({4}, 0.5), z.slice(0, 0, 4)),
                       doctest::Contains("integer step indices"), sde::InvalidArgument);
}
