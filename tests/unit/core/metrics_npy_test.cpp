#include "testing.hpp"

#include <cstdio>
#include <fstream>

#include "sde/core/errors.hpp"
#include "sde/core/metrics.hpp"
#include "sde/io/npy.hpp"
#include "sde/core/random.hpp"

TEST_CASE("Gaussian W2 matches its closed forms") {
  // Commuting covariances: W2^2 = |m1 - m2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2.
  Eigen::VectorXd m1(2), m2(2);
  m1 << 0, 0;
  m2 << 3, 4;
  Eigen::MatrixXd c1 = Eigen::Vector2d(4, 1).asDiagonal(), c2 = Eigen::Vector2d(1, 9).asDiagonal();
  CHECK(sde::gaussian_w2(m1, c1, m2, c2) == doctest::Approx(std::sqrt(25.0 + 1.0 + 4.0)).epsilon(1e-12));
  CHECK(sde::gaussian_w2(m1, c1, m1, c1) == doctest::Approx(0.0).epsilon(1e-7));
}

TEST_CASE("sliced W2 is zero on equal sets and |c| for a shift in 1-D") {
  const auto x = sde::NoiseStream(1).normal({0, 500}, {1}, 0, torch::kFloat64);
  CHECK(sde::sliced_w2(x, x) == doctest::Approx(0.0));
  CHECK(sde::sliced_w2(x, x + 0.7, 16) == doctest::Approx(0.7).epsilon(1e-12));
  // Unequal sizes: a set against itself repeated twice has the same quantiles.
  CHECK(sde::sliced_w2(x, torch::cat({x, x}), 8) == doctest::Approx(0.0));
  CHECK_THROWS_AS(sde::sliced_w2(x, torch::zeros({5, 2})), sde::InvalidArgument);
}

TEST_CASE("the sliced-W2 floor: mean and spread of exact sets' distances, shrinking with their size") {
  // Exact sets of N(0, I_2) against a reference of 20000: sliced_w2 of each, averaged.
  const auto reference = sde::NoiseStream(1).normal({0, 20000}, {2}, 0, torch::kFloat64);
  const auto exact = [](int64_t n) {
    return [n](int64_t k) { return sde::NoiseStream(2).normal({k * n, n}, {2}, 0, torch::kFloat64); };
  };
  const sde::W2Floor small = sde::sliced_w2_floor(exact(250), reference, 8);
  const sde::W2Floor large = sde::sliced_w2_floor(exact(4000), reference, 8);
  CHECK(small.draws == 8);
  double mean = 0;  // the same directions as sliced_w2's default: its mean over the draws, to rounding
  for (int64_t k = 0; k < 8; ++k) mean += sde::sliced_w2(exact(250)(k), reference) / 8;
  CHECK(small.mean == doctest::Approx(mean).epsilon(1e-12));
  CHECK(small.std > 0);
  // Empirical W2 of n Gaussian samples falls like n^(-1/2) (up to log factors): 16 times the samples,
  // about a quarter of the distance; checked at half, far outside the spread of either mean.
  CHECK(large.mean < small.mean / 2);
  // A set 0.3 off in x: far above the floor of sets of its size (k = 5 spreads).
  const auto shifted = exact(4000)(9) + torch::tensor({0.3, 0.0}, torch::kFloat64);
  CHECK(sde::sliced_w2(shifted, reference) > large.mean + 5 * large.std);
  CHECK_THROWS_AS(sde::sliced_w2_floor(exact(10), reference, 1), sde::InvalidArgument);
}

TEST_CASE("sample moments") {
  const auto x = torch::tensor({{1.0, 2.0}, {3.0, 6.0}, {5.0, 10.0}});
  CHECK(sde::sample_mean(x)(1) == doctest::Approx(6.0));
  CHECK(sde::sample_covariance(x)(0, 1) == doctest::Approx(8.0));  // unbiased: divides by n - 1
}

TEST_CASE(".npy round trip and corrupt files") {
  const std::string path = "metrics_npy_test.npy";
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kInt64}) {
    const auto x = torch::arange(12, dtype).reshape({3, 4});
    sde::save_npy(path, x);
    CHECK(torch::equal(sde::load_npy(path), x));
  }
  sde::save_npy(path, torch::arange(5, torch::kFloat64));
  CHECK(sde::load_npy(path).sizes() == torch::IntArrayRef({5}));
  std::ofstream(path, std::ios::binary) << "\x93NUMPY\x01\x00garbage";
  CHECK_THROWS_AS(sde::load_npy(path), sde::FileError);
  std::ofstream(path, std::ios::binary) << "not numpy";
  CHECK_THROWS_WITH_AS(sde::load_npy(path), doctest::Contains("bad magic"), sde::FileError);
  std::remove(path.c_str());
  CHECK_THROWS_WITH_AS(sde::load_npy("/nonexistent.npy"), doctest::Contains("cannot open"), sde::FileError);
  CHECK_THROWS_WITH_AS(sde::save_npy("/nonexistent/dir/x.npy", torch::zeros({2})), doctest::Contains("cannot write"), sde::FileError);
}

TEST_CASE("log_log_slope measures a power law exactly and refuses what has no logarithm") {
  const std::vector<double> steps = {10, 20, 40, 80};
  std::vector<double> errors;
  for (double n : steps) errors.push_back(3.0 * std::pow(n, -2.0));
  CHECK(sde::log_log_slope(steps, errors) == doctest::Approx(-2.0).epsilon(1e-12));
  CHECK_THROWS_AS(sde::log_log_slope({1.0}, {1.0}), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::log_log_slope({1.0, 2.0}, {1.0, 0.0}), doctest::Contains("not positive"),
                       sde::InvalidArgument);
}
