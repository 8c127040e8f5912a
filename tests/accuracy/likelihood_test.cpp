// Numerical experiment: likelihoods through the probability-flow ODE against the closed-form
// log-density of the Gaussian-mixture marginals.
#include "testing.hpp"

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/solve/likelihood.hpp"

using sde::testing::data_path;

namespace {

sde::LikelihoodOptions tight() {
  sde::LikelihoodOptions o;
  o.ode.rtol = o.ode.atol = 1e-5;
  return o;
}

}  // namespace

TEST_CASE("exact-trace likelihoods match the closed-form log p_eps") {
  // 500 exact samples of p_eps per target, float64, rtol = atol = 1e-5, eps = 1e-5.
  // Two errors are measured apart (see docs/likelihood.md):
  //  * the integration: with the exact log p_T(x_T) as the first term, MAE 7e-6 - 3e-5 nats on every
  //    target and SDE (checked: <= 1e-3, the bound; 1e-4 would pass too);
  //  * the prior's mismatch: the library adds log N(x_T; 0, prior_std^2), not log p_T. Measured MAE
  //    with it: ring VP 2.3e-4, sub-VP 2.0e-4 (checked <= 1e-3), ring VE 2.4e-3, 16-D VP/sub-VP 0.011,
  //    16-D VE 0.033 (p_T is visibly not the prior there: VP keeps alpha(1) mu ~ 0.0066 mu of the
  //    data's means, VE's p_T has variance sigma_max^2 + Var(data)). Checked to stay below 0.05.
  for (const std::string file : {"ring8.json", "aniso16.json"}) {
    for (const std::string name : {"vp", "subvp", "ve"}) {
      CAPTURE(file);
      CAPTURE(name);
      const auto s = sde::make_sde({name});
      const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path(file)), s);
      const auto o = tight();
      const auto x = model.sample(sde::NoiseStream(7), {0, 500}, o.eps);
      const auto result = sde::log_likelihood(*s, model, x, o);
      REQUIRE(result.ok());
      const auto exact = model.log_prob(x, torch::full({500}, o.eps, torch::kFloat64));
      const double mae = (result.log_p - exact).abs().mean().item<double>();
      const auto t_max = torch::full({500}, s->t_max(), torch::kFloat64);
      const auto integral = result.log_p - result.prior_log_p;
      const double mae_integration = (integral + model.log_prob(result.latent, t_max) - exact).abs().mean().item<double>();
      MESSAGE(file << " " << name << ": MAE " << mae << " nats (with the exact p_T: " << mae_integration << "), NFE " << result.nfe
                   << ", bits/dim " << result.bits_per_dim());
      CHECK(mae_integration <= 1e-3);
      CHECK(mae <= (file == "ring8.json" && name != "ve" ? 1e-3 : 0.05));
    }
  }
}

TEST_CASE("batches share steps only among themselves; a shard with its first index is the whole's part") {
  // 50 points of the ring under VP, Hutchinson with 2 probes: in batches of 16 each batch is its own
  // solve, so rows [16, 50) computed alone (first_index 16, the same batches) equal the whole run's,
  // bit for bit, probes included; one batch of all 50 shares one step sequence and differs, within
  // the tolerance's reach (checked: 1e-3 nats).
  const auto s = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  auto o = tight();
  o.trace = sde::TraceEstimator::kHutchinson;
  o.probes = 2;
  const auto x = model.sample(sde::NoiseStream(3), {0, 50}, o.eps);
  const auto together = sde::log_likelihood(*s, model, x, o);
  o.batch_size = 16;
  const auto batched = sde::log_likelihood(*s, model, x, o);
  o.first_index = 16;
  const auto shard = sde::log_likelihood(*s, model, x.narrow(0, 16, 34), o);
  REQUIRE(together.ok());
  REQUIRE(batched.ok());
  REQUIRE(shard.ok());
  CHECK(torch::equal(shard.log_p, batched.log_p.narrow(0, 16, 34)));
  CHECK(torch::equal(shard.std_error, batched.std_error.narrow(0, 16, 34)));
  CHECK_FALSE(torch::equal(together.log_p, batched.log_p));
  CHECK((together.log_p - batched.log_p).abs().max().item<double>() < 1e-3);
  o.batch_size = -1;
  CHECK_THROWS_AS(sde::log_likelihood(*s, model, x, o), sde::InvalidArgument);
}

TEST_CASE("the Hutchinson estimate is unbiased: within 4 standard errors of the exact trace") {
  // Ring under VP, 40 points, 32 fixed probes each, Rademacher and Gaussian. With the probes fixed
  // along the path, one probe's integral is exactly v^T A v with A the time-integrated Jacobian: an
  // unbiased estimate of tr A. Checked: the mean difference over the 40 points lies within 4 of its
  // standard errors (sqrt(sum se_i^2) / 40). Per point, Gaussian probes give a skewed (chi-square)
  // estimate whose t-statistic at 32 probes has a heavy left tail (measured largest |z| 5.9 of 40),
  // so the per-point check is made for Rademacher probes only (measured largest |z| 2.7).
  const auto s = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  auto o = tight();
  const auto x = model.sample(sde::NoiseStream(11), {0, 40}, o.eps);
  const auto exact = sde::log_likelihood(*s, model, x, o);
  REQUIRE(exact.ok());
  for (const bool gaussian : {false, true}) {
    CAPTURE(gaussian);
    o.trace = sde::TraceEstimator::kHutchinson;
    o.probes = 32;
    o.gaussian_probes = gaussian;
    const auto estimate = sde::log_likelihood(*s, model, x, o);
    REQUIRE(estimate.ok());
    REQUIRE(estimate.std_error.defined());
    const auto difference = estimate.log_p - exact.log_p;
    const double z_max = (difference / estimate.std_error).abs().max().item<double>();
    const double z_mean = difference.mean().item<double>() / (estimate.std_error.square().sum().sqrt().item<double>() / 40.0);
    MESSAGE(std::string(gaussian ? "gaussian" : "rademacher") << " probes: mean difference z = " << z_mean << ", largest |z| per point "
            << z_max << ", mean standard error " << estimate.std_error.mean().item<double>() << " nats");
    CHECK(std::abs(z_mean) <= 4.0);
    if (!gaussian) CHECK(z_max <= 4.0);
    CHECK(estimate.std_error.min().item<double>() > 0);  // a zero error would make the test vacuous
  }
}

TEST_CASE("bad likelihood inputs are rejected with the value named") {
  const auto s = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  auto o = tight();
  CHECK_THROWS_WITH_AS(sde::log_likelihood(*s, model, torch::full({3, 2}, double(NAN), torch::kFloat64), o),
                       doctest::Contains("NaN or infinite"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::log_likelihood(*s, model, torch::zeros({3, 5}, torch::kFloat64), o),
                       doctest::Contains("[3, 5]"), sde::InvalidArgument);
  o.ode.method = sde::OdeMethod::kRk4;
  CHECK_THROWS_WITH_AS(sde::log_likelihood(*s, model, torch::zeros({3, 2}, torch::kFloat64), o),
                       doctest::Contains("must be adaptive"), sde::InvalidArgument);
}
