#include "testing.hpp"

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/metrics.hpp"
#include "sde/core/mixture_suite.hpp"

#include <Eigen/Eigenvalues>
#include "sde/core/sde_factory.hpp"

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
  // A float32 input gets a float32 score.
  CHECK((model.score(torch::zeros({4, 2}), torch::full({4}, 0.5)).scalar_type() == torch::kFloat32));
}

TEST_CASE("the exact score computes in the caller's dtype unless one is pinned") {
  const auto mixture = GaussianMixture::from_json_file(data_path("aniso16.json"));
  const auto vp = sde::make_sde({"vp"});
  const GaussianMixtureScore follow(mixture, vp), pinned64(mixture, vp, torch::kFloat64),
      pinned32(mixture, vp, torch::kFloat32);
  const auto x64 = follow.sample(sde::NoiseStream(3), {0, 256}, 0.4);
  const auto x32 = x64.to(torch::kFloat32);
  const auto t = torch::full({256}, 0.4);
  const auto truth = follow.score(x64, t.to(torch::kFloat64));
  // Unset: float32 in, float32 arithmetic (the same numbers as pinned float32) ...
  CHECK(torch::equal(follow.score(x32, t), pinned32.score(x32, t)));
  // ... which is float32-accurate: 1e-4 relative to the score's scale allows for rounding over
  // D = 16 coordinates and K = 4 components (float32's epsilon is 1.2e-7).
  const double scale = truth.abs().max().item<double>();
  CHECK((follow.score(x32, t).to(torch::kFloat64) - truth).abs().max().item<double>() < 1e-4 * scale);
  // Pinned float64: a float32 caller gets the float64 result rounded once.
  CHECK(torch::equal(pinned64.score(x32, t), pinned64.score(x32.to(torch::kFloat64), t).to(torch::kFloat32)));
  CHECK(torch::equal(truth, pinned64.score(x64, t.to(torch::kFloat64))));
}

TEST_CASE("the exact score of sample i does not depend on its batch (float32 and float64)") {
  // LibTorch's float32 reductions over the component axis change order with the batch size; the
  // score reduces in a fixed order instead, so a shard of rows equals the same rows of the whole.
  for (const std::string file : {"ring8.json", "aniso16.json"}) {
    CAPTURE(file);
    const GaussianMixtureScore model(GaussianMixture::from_json_file(data_path(file)), sde::make_sde({"vp"}));
    for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
      CAPTURE(dtype);
      const auto x = model.sample(sde::NoiseStream(8), {0, 1000}, 0.2, dtype);
      for (const bool per_sample_t : {false, true}) {
        CAPTURE(per_sample_t);
        const auto t = per_sample_t ? torch::linspace(0.01, 0.9, 1000, dtype) : torch::full({1000}, 0.2, dtype);
        const auto whole = model.score(x, t), part = model.score(x.narrow(0, 300, 700), t.narrow(0, 300, 700));
        CHECK(torch::equal(whole.narrow(0, 300, 700), part));
        CHECK(torch::equal(model.log_prob(x, t).narrow(0, 300, 700), model.log_prob(x.narrow(0, 300, 700), t.narrow(0, 300, 700))));
      }
    }
  }
}

TEST_CASE("the fused diagonal-mixture score agrees with the differentiable one") {
  // Without gradients a mixture of diagonal Gaussians takes the fused loop; with x requiring
  // grad it takes LibTorch's operations (which autograd can follow). Same formula, different
  // order of rounding: 1e-12 relative in float64, 2e-5 in float32 (a few hundred ulps over
  // K x D terms). An isotropic 32-D mixture and the ring, one and per-sample times.
  std::vector<Eigen::VectorXd> means;
  for (int i = 0; i < 5; ++i) means.push_back(Eigen::VectorXd::LinSpaced(32, -1.0 + i, 2.0 - i));
  std::vector<Eigen::MatrixXd> covs;
  for (int i = 0; i < 5; ++i) covs.push_back(Eigen::VectorXd::LinSpaced(32, 0.01 * (i + 1), 0.5).asDiagonal());
  const GaussianMixture wide({0.1, 0.2, 0.3, 0.2, 0.2}, means, covs);
  for (const GaussianMixture& mixture : {GaussianMixture::from_json_file(data_path("ring8.json")), wide}) {
    const GaussianMixtureScore model(mixture, sde::make_sde({"vp"}));
    for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
      CAPTURE(dtype);
      const auto x = model.sample(sde::NoiseStream(2), {0, 500}, 0.3, dtype) * 1.2;
      for (const bool per_sample_t : {false, true}) {
        CAPTURE(per_sample_t);
        const auto t = per_sample_t ? torch::linspace(1e-3, 1.0, 500, dtype) : torch::full({500}, 0.3, dtype);
        const auto fused = model.score(x, t);
        const auto differentiable = model.score(x.clone().requires_grad_(true), t).detach();
        const double tolerance = dtype == torch::kFloat64 ? 1e-12 : 2e-5;
        const torch::Tensor scale = std::get<0>(differentiable.abs().max(1, true)).clamp_min(1.0);
        CHECK(((fused - differentiable).abs() / scale).max().item<double>() < tolerance);
      }
    }
  }
}

TEST_CASE("the problem suite's mixtures are reproducible and have the requested geometry") {
  const auto suite = sde::mixture_suite();
  CHECK(suite.size() == 7);
  for (const auto& problem : suite) CHECK(!problem.name.empty());
  // Means of norm `separation`; covariance eigenvalues from (scale / sqrt(a))^2 to (scale sqrt(a))^2.
  sde::MixtureSpec spec{8, 3, 5.0, 0.4, 9.0, 42};
  const GaussianMixture m = sde::make_mixture(spec), again = sde::make_mixture(spec);
  for (int64_t k = 0; k < 3; ++k) {
    CHECK(m.means()[size_t(k)].norm() == doctest::Approx(5.0).epsilon(1e-12));
    CHECK((m.means()[size_t(k)] - again.means()[size_t(k)]).norm() == 0.0);
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(m.covs()[size_t(k)]);
    CHECK(eig.eigenvalues().minCoeff() == doctest::Approx(0.16 / 9.0).epsilon(1e-9));
    CHECK(eig.eigenvalues().maxCoeff() == doctest::Approx(0.16 * 9.0).epsilon(1e-9));
  }
  CHECK(sde::make_mixture({8, 3, 5.0, 0.4, 9.0, 43}).means()[0] != m.means()[0]);
  CHECK_THROWS_WITH_AS(sde::make_mixture({2, 1, 1.0, 0.3, 0.5, 0}), doctest::Contains("anisotropy = 0.5 must be >= 1"),
                       sde::InvalidArgument);
}
