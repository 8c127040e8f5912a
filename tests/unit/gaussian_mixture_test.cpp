#include "testing.hpp"

#include "sde/errors.hpp"
#include "sde/gaussian_mixture.hpp"
#include "sde/metrics.hpp"
#include "sde/sde_factory.hpp"

using sde::GaussianMixture;
using sde::GaussianMixtureScore;
using sde::testing::data_path;

namespace {

std::vector<std::shared_ptr<const sde::Sde>> all_sdes() {
  return {sde::make_sde({"vp"}), sde::make_sde({"subvp"}), sde::make_sde({"ve"})};
}

torch::Tensor as_tensor(const Eigen::VectorXd& v) {
  return torch::from_blob(const_cast<double*>(v.data()), {v.size()}, torch::kFloat64).clone();
}

}  // namespace

TEST_CASE("the reference mixtures load") {
  const auto ring = GaussianMixture::from_json_file(data_path("ring8.json"));
  CHECK(ring.components() == 8);
  CHECK(ring.dim() == 2);
  const auto aniso = GaussianMixture::from_json_file(data_path("aniso16.json"));
  CHECK(aniso.components() == 4);
  CHECK(aniso.dim() == 16);
}

TEST_CASE("bad mixture files name the entry that is wrong") {
  auto load = [](const std::string& text) { return GaussianMixture::from_json(text, "m.json"); };
  const std::string cov = "[[1,0],[0,1]]";
  CHECK_THROWS_WITH_AS(load("{\"weights\": [0.5, 0.4], \"means\": [[0,0],[1,1]], \"covs\": [" + cov + "," + cov + "]}"),
                       doctest::Contains("sum to 0.9"), sde::FileError);
  CHECK_THROWS_WITH_AS(load("{\"weights\": [1.5, -0.5], \"means\": [[0,0],[1,1]], \"covs\": [" + cov + "," + cov + "]}"),
                       doctest::Contains("weights[1] = -0.5"), sde::FileError);
  CHECK_THROWS_WITH_AS(load("{\"weights\": [0.5, 0.5], \"means\": [[0,0],[1,1,1]], \"covs\": [" + cov + "," + cov + "]}"),
                       doctest::Contains("means[1] has 3 numbers"), sde::FileError);
  CHECK_THROWS_WITH_AS(load("{\"weights\": [1], \"means\": [[0,0]], \"covs\": [[[1,0.5],[0.4,1]]]}"),
                       doctest::Contains("covs[0] is not symmetric"), sde::FileError);
  CHECK_THROWS_WITH_AS(load("{\"weights\": [1], \"means\": [[0,0]], \"covs\": [[[1,2],[2,1]]]}"),
                       doctest::Contains("covs[0] is not positive definite"), sde::FileError);
  CHECK_THROWS_WITH_AS(load("{\"weights\": [1], \"means\": [[0,0]], \"covs\": [[[1,0,0],[0,1,0],[0,0,1]]]}"),
                       doctest::Contains("covs[0] is 3x3 but D = 2"), sde::FileError);
  CHECK_THROWS_WITH_AS(load("{\"weights\": [1], \"means\": [[0,0]]}"), doctest::Contains("missing key \"covs\""), sde::FileError);
  CHECK_THROWS_WITH_AS(load("{\"weights\": [1], "), doctest::Contains("not valid JSON"), sde::FileError);
  CHECK_THROWS_WITH_AS(GaussianMixture::from_json_file("/nonexistent/m.json"), doctest::Contains("cannot open"), sde::FileError);
  // Extra keys such as "name" are ignored.
  CHECK(load("{\"name\": \"one\", \"weights\": [1], \"means\": [[0,0]], \"covs\": [" + cov + "]}").components() == 1);
}

TEST_CASE("the batched tensor path agrees with the float64 Eigen reference") {
  const auto mixture = GaussianMixture::from_json_file(data_path("aniso16.json"));
  for (const auto& s : all_sdes()) {
    CAPTURE(s->name());
    const GaussianMixtureScore model(mixture, s);
    const auto t = torch::tensor({1e-3, 0.1, 0.5, 0.9}, torch::kFloat64);
    const auto x = model.sample(sde::NoiseStream(4), {0, 4}, 0.3, torch::kFloat64) * 1.1;
    const auto score = model.score(x, t);
    const auto logp = model.log_prob(x, t);
    for (int64_t i = 0; i < 4; ++i) {
      const double ti = t[i].item<double>();
      const auto p_t = mixture.perturbed(s->alpha(ti), s->sigma(ti));
      const Eigen::VectorXd xi = sde::to_eigen(x.narrow(0, i, 1)).row(0).transpose();
      // Cholesky vs eigendecomposition: agreement to ~1e-12 relative in float64.
      CHECK(logp[i].item<double>() == doctest::Approx(p_t.log_prob(xi)).epsilon(1e-11));
      const auto ref = as_tensor(p_t.score(xi));
      CHECK((score[i] - ref).abs().max().item<double>() <= 1e-10 * (1 + ref.abs().max().item<double>()));
    }
  }
}

TEST_CASE("the exact score is the autograd gradient of the exact log-density") {
  // float64: both are the same mathematics by two routes; the tolerance 1e-8 relative allows
  // for rounding in the softmax over components and the change of basis.
  const auto mixture = GaussianMixture::from_json_file(data_path("ring8.json"));
  for (const auto& s : all_sdes()) {
    CAPTURE(s->name());
    const GaussianMixtureScore model(mixture, s);
    for (double t : {1e-3, 0.05, 0.5, 1.0}) {
      CAPTURE(t);
      const auto tt = torch::full({64}, t, torch::kFloat64);
      auto x = model.sample(sde::NoiseStream(5), {0, 64}, t, torch::kFloat64).requires_grad_(true);
      model.log_prob(x, tt).sum().backward();
      const auto grad = x.grad();
      const auto score = model.score(x.detach(), tt);
      const double err = ((score - grad).norm(2, 1) / grad.norm(2, 1).clamp_min(1e-300)).max().item<double>();
      CHECK(err < 1e-8);
    }
  }
}

TEST_CASE("exact samples have the mixture's moments") {
  // n = 200000 samples of p_t; each coordinate of the mean has standard error sqrt(C_ii / n);
  // covariance entries have standard error <= sqrt((C_ii C_jj + C_ij^2) / n) for Gaussian-like
  // tails (a mixture's fourth moments are larger; k = 6 leaves room for that).
  const auto mixture = GaussianMixture::from_json_file(data_path("ring8.json"));
  const auto vp = sde::make_sde({"vp"});
  const GaussianMixtureScore model(mixture, vp);
  const int64_t n = 200000;
  const double k = 6;
  for (double t : {0.0, 0.3}) {
    CAPTURE(t);
    const auto x = model.sample(sde::NoiseStream(11), {0, n}, t);
    const auto exact = mixture.perturbed(vp->alpha(t), vp->sigma(t));
    const Eigen::VectorXd mean = sde::sample_mean(x);
    const Eigen::MatrixXd cov = sde::sample_covariance(x), c = exact.covariance();
    for (int i = 0; i < 2; ++i) {
      CHECK(std::abs(mean(i) - exact.mean()(i)) < k * std::sqrt(c(i, i) / n));
      for (int j = 0; j < 2; ++j)
        CHECK(std::abs(cov(i, j) - c(i, j)) < k * std::sqrt((c(i, i) * c(j, j) + c(i, j) * c(i, j)) / n));
    }
  }
}

TEST_CASE("score inputs of the wrong shape are rejected") {
  const auto mixture = GaussianMixture::from_json_file(data_path("ring8.json"));
  const GaussianMixtureScore model(mixture, sde::make_sde({"vp"}));
  CHECK_THROWS_WITH_AS(model.score(torch::zeros({4, 3}), torch::full({4}, 0.5)), doctest::Contains("x must have shape [B, [2]"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(model.score(torch::zeros({4, 2}), torch::full({3}, 0.5)), doctest::Contains("t must have shape [B]"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(model.score(torch::zeros({4, 2}), torch::full({4}, 2.0)), doctest::Contains("outside [0, T]"), sde::InvalidArgument);
  // A float32 input gets a float32 score computed in float64.
  CHECK((model.score(torch::zeros({4, 2}), torch::full({4}, 0.5)).scalar_type() == torch::kFloat32));
}
