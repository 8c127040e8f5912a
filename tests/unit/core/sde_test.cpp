#include "testing.hpp"

#include "sde/core/errors.hpp"
#include "sde/core/sde_factory.hpp"

using sde::testing::rel_diff;

namespace {

std::vector<std::shared_ptr<const sde::Sde>> all_sdes() {
  // flow with T < 1: its T = 1, where f, g and the log-SNR are infinite, has a test of its own (flow_test.cpp).
  return {sde::make_sde({"vp"}),     sde::make_sde({"subvp"}), sde::make_sde({"ve"}),
          sde::make_sde({"cosine"}), sde::make_sde({"edm"}),   sde::make_sde({"flow", {}, {}, {}, {}, 0.999})};
}

}  // namespace

TEST_CASE("VP, sub-VP and VE match their closed forms") {
  const sde::VpSde vp;
  const sde::SubVpSde subvp;
  const sde::VeSde ve;
  const double t = 0.3, b = 0.1 * t + 0.5 * t * t * (20 - 0.1);
  CHECK(rel_diff(vp.alpha(t), std::exp(-0.5 * b)) < 1e-15);
  CHECK(rel_diff(vp.sigma(t), std::sqrt(1 - std::exp(-b))) < 1e-14);
  CHECK(rel_diff(subvp.sigma(t), 1 - std::exp(-b)) < 1e-14);
  CHECK(rel_diff(subvp.diffusion(t), std::sqrt((0.1 + t * 19.9) * (1 - std::exp(-2 * b)))) < 1e-14);
  CHECK(rel_diff(ve.sigma(t), 0.01 * std::pow(5000.0, t)) < 1e-14);
  CHECK(rel_diff(ve.diffusion(t), 0.01 * std::pow(5000.0, t) * std::sqrt(2 * std::log(5000.0))) < 1e-14);
  CHECK(ve.sigma(0.0) == doctest::Approx(0.01));  // the reference's convention: p_0 = data * N(0, sigma_min^2)
  CHECK(vp.sigma(0.0) == 0.0);
  CHECK(ve.prior_std() == doctest::Approx(50.0));
  CHECK(vp.log_snr(t) == doctest::Approx(std::log(vp.alpha(t) / vp.sigma(t))));
}

TEST_CASE("the cosine schedule matches Nichol & Dhariwal's alpha_bar and dpm-solver's clipped T") {
  // alpha_bar(t) = f(t) / f(0), f(t) = cos^2((t + s) / (1 + s) pi / 2), s = 0.008; T where beta = 999.
  const sde::CosineVpSde cosine;
  const double s = 0.008;
  auto f = [&](double t) { return std::pow(std::cos((t + s) / (1 + s) * M_PI / 2), 2); };
  for (double t : {1e-4, 0.1, 0.5, 0.9, 0.99}) {
    CAPTURE(t);
    CHECK(rel_diff(cosine.alpha(t) * cosine.alpha(t), f(t) / f(0)) < 1e-14);
    CHECK(rel_diff(cosine.sigma(t) * cosine.sigma(t), 1 - f(t) / f(0)) < 1e-10);
  }
  // dpm-solver's cosine_t_max = atan(999 (1 + s) / pi) 2 (1 + s) / pi - s.
  CHECK(rel_diff(cosine.t_max(), std::atan(999.0 * (1 + s) / M_PI) * 2 * (1 + s) / M_PI - s) < 1e-14);
  CHECK(rel_diff(cosine.diffusion(cosine.t_max()) * cosine.diffusion(cosine.t_max()), 999.0) < 1e-10);
  CHECK(cosine.alpha(cosine.t_max()) < 0.004);
  // sigma at small t without cancellation: 1 - alpha^2 ~ beta(0) t.
  const double t = 1e-9, beta0 = M_PI / (1 + s) * std::tan(s / (1 + s) * M_PI / 2);
  CHECK(rel_diff(cosine.sigma(t) * cosine.sigma(t), beta0 * t) < 1e-6);
}

TEST_CASE("EDM's process: sigma(t) = t, alpha = 1, T = sigma_max") {
  const sde::EdmSde edm;
  CHECK(edm.t_max() == 80.0);
  CHECK(edm.prior_std() == 80.0);
  for (double t : {0.0, 0.002, 1.0, 80.0}) {
    CHECK(edm.sigma(t) == t);
    CHECK(edm.alpha(t) == 1.0);
    CHECK(rel_diff(edm.diffusion(t) * edm.diffusion(t), 2 * t) < 1e-15);
  }
  CHECK(rel_diff(edm.time_at_log_snr(-std::log(0.002)), 0.002) < 1e-15);
  CHECK_THROWS_WITH_AS(sde::make_sde({"edm", {}, {}, {}, {}, 2.0}), doctest::Contains("edm's T is its sigma_max"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::EdmSde({-1.0}), doctest::Contains("sigma_max = -1 must be > 0"), sde::InvalidArgument);
}

TEST_CASE("every SDE's schedule satisfies the linear-SDE moment equations") {
  // For dx = f(t) x dt + g(t) dw: d alpha / dt = f alpha and d sigma^2 / dt = 2 f sigma^2 + g^2.
  // Central differences with h = 1e-5 have truncation error ~1e-9 relative.
  for (const auto& s : all_sdes()) {
    CAPTURE(s->name());
    for (double t : {0.05, 0.3, 0.7, 0.95}) {
      const double h = 1e-5;
      const double dalpha = (s->alpha(t + h) - s->alpha(t - h)) / (2 * h);
      const double var = s->sigma(t) * s->sigma(t);
      const double dvar = (std::pow(s->sigma(t + h), 2) - std::pow(s->sigma(t - h), 2)) / (2 * h);
      const double g = s->diffusion(t), f = s->drift_coef(t);
      CHECK(std::abs(dalpha - f * s->alpha(t)) <= 1e-7 * std::max(1.0, std::abs(dalpha)));
      CHECK(rel_diff(dvar, 2 * f * var + g * g) < 1e-7);
    }
  }
}

TEST_CASE("scalar and batched schedules agree") {
  for (const auto& s : all_sdes()) {
    CAPTURE(s->name());
    const auto t = torch::tensor({0.0, 1e-3, 0.25, 0.5, s->t_max()}, torch::kFloat64);
    const auto a = s->alpha(t), sg = s->sigma(t), f = s->drift_coef(t), g = s->diffusion(t);
    for (int64_t i = 0; i < t.size(0); ++i) {
      const double ti = t[i].item<double>();
      CHECK(a[i].item<double>() == doctest::Approx(s->alpha(ti)).epsilon(1e-14));
      CHECK(sg[i].item<double>() == doctest::Approx(s->sigma(ti)).epsilon(1e-14));
      CHECK(f[i].item<double>() == doctest::Approx(s->drift_coef(ti)).epsilon(1e-14));
      CHECK(g[i].item<double>() == doctest::Approx(s->diffusion(ti)).epsilon(1e-14));
    }
    const auto x = torch::ones({5, 2}, torch::kFloat64);
    CHECK(torch::allclose(s->drift(x, t), f.unsqueeze(1).expand({5, 2})));
  }
}

TEST_CASE("transitions compose and match the DDPM and SMLD steps") {
  for (const auto& s : all_sdes()) {
    CAPTURE(s->name());
    const auto a = s->transition(0.2, 0.5), b = s->transition(0.5, 0.8), ab = s->transition(0.2, 0.8);
    CHECK(a.mean_coef * b.mean_coef == doctest::Approx(ab.mean_coef).epsilon(1e-13));
    const double var = b.mean_coef * b.mean_coef * a.std * a.std + b.std * b.std;
    CHECK(var == doctest::Approx(ab.std * ab.std).epsilon(1e-12));
  }
  const sde::VpSde vp;
  const auto step = vp.transition(0.4, 0.41);  // DDPM: mean sqrt(1 - beta_i), std sqrt(beta_i)
  CHECK(step.mean_coef * step.mean_coef + step.std * step.std == doctest::Approx(1.0).epsilon(1e-14));
  const sde::VeSde ve;
  const auto smld = ve.transition(0.4, 0.41);  // SMLD: mean 1, var sigma_i^2 - sigma_{i-1}^2
  CHECK(smld.mean_coef == 1.0);
  CHECK(smld.std * smld.std == doctest::Approx(std::pow(ve.sigma(0.41), 2) - std::pow(ve.sigma(0.4), 2)));
}

TEST_CASE("prior log-density is the isotropic Gaussian's") {
  const sde::VeSde ve;
  const auto x = torch::tensor({{1.0, -2.0}, {0.0, 0.5}}, torch::kFloat64);
  const auto lp = ve.prior_log_prob(x);
  const double s2 = 2500.0;
  CHECK(lp[0].item<double>() == doctest::Approx(-5.0 / (2 * s2) - std::log(2 * M_PI * s2)).epsilon(1e-14));
  const auto prior = ve.prior_sample(sde::NoiseStream(0), {0, 4}, {3}, torch::kFloat64);
  CHECK(prior.sizes() == torch::IntArrayRef({4, 3}));
}

TEST_CASE("invalid parameters and times are rejected with the value named") {
  CHECK_THROWS_WITH_AS(sde::VpSde({20.0, 0.1}), doctest::Contains("beta_min = 20"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::VpSde({-1.0, 20.0}), doctest::Contains("beta_min must be > 0"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::VeSde({0.0, 50.0}), doctest::Contains("sigma_min must be > 0"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::VeSde({1.0, NAN}), doctest::Contains("sigma_max must be finite"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::VpSde({}, 0.0), doctest::Contains("T must be finite and > 0"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_sde({"vq"}), doctest::Contains("known SDEs: vp, subvp, ve, cosine"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::CosineVpSde({0.0, 999.0}), doctest::Contains("s = 0 must lie in (0, 1)"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::CosineVpSde({0.008, 0.01}), doctest::Contains("beta_max = 0.01 must exceed beta(0)"),
                       sde::InvalidArgument);
  const sde::VpSde vp;
  CHECK_THROWS_WITH_AS(vp.alpha(1.5), doctest::Contains("t = 1.5 lies outside [0, T]"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(vp.sigma(NAN), doctest::Contains("outside"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(vp.alpha(torch::tensor({0.5, -0.1})), doctest::Contains("t = -0.1"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(vp.drift(torch::ones({3, 2}), torch::ones({2}) * 0.5), doctest::Contains("shape"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(vp.transition(0.5, 0.5), doctest::Contains("s < t"), sde::InvalidArgument);
}

TEST_CASE("closed-form inverse log-SNRs agree with bisection, for scalars and batches") {
  for (const auto& s : all_sdes()) {
    CAPTURE(s->name());
    const auto t = torch::tensor({1e-5, 1e-3, 0.1, 0.37, 0.9, s->t_max()}, torch::kFloat64);
    const auto lambda = s->log_snr(t);
    const auto batched = s->time_at_log_snr(lambda);
    const auto bisected = s->Sde::time_at_log_snr(lambda);  // the generic tensor bisection
    for (int64_t i = 0; i < t.size(0); ++i) {
      const double l = lambda[i].item<double>(), ti = t[i].item<double>();
      CAPTURE(ti);
      CHECK(rel_diff(s->time_at_log_snr(l), ti) < 1e-9);
      CHECK(rel_diff(s->time_at_log_snr(l), s->Sde::time_at_log_snr(l)) < 1e-9);
      CHECK(rel_diff(batched[i].item<double>(), s->time_at_log_snr(l)) < 1e-12);
      CHECK(rel_diff(bisected[i].item<double>(), ti) < 1e-9);
    }
    CHECK_THROWS_WITH_AS(s->time_at_log_snr(s->log_snr(s->t_max()) - 1.0), doctest::Contains("lies outside [log_snr(T), log_snr(0)]"),
                         sde::InvalidArgument);
    CHECK_THROWS_WITH_AS(s->time_at_log_snr(torch::tensor({0.0, double(NAN)}, torch::kFloat64)), doctest::Contains("nan lies outside"),
                         sde::InvalidArgument);
  }
}
