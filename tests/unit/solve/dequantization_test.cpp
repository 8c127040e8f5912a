// The change of variables between a density on the scaled data and the probabilities of the
// discrete values: checked against exact bin probabilities of a Gaussian.
#include "testing.hpp"

#include "sde/core/errors.hpp"
#include "sde/solve/likelihood.hpp"

TEST_CASE("the bits/dim offset is log2(levels / scale): 8 for [0, 1], 7 for [-1, 1]") {
  CHECK(sde::Dequantization{256, 1.0, 0.0}.bits_offset() == doctest::Approx(8.0));
  CHECK(sde::Dequantization{256, 2.0, -1.0}.bits_offset() == doctest::Approx(7.0));
  CHECK(sde::Dequantization{32, 255.0, 0.0}.bits_offset() == doctest::Approx(std::log2(32.0 / 255.0)));
}

TEST_CASE("density plus offset gives the exact discrete bits of fine bins, in either scaling") {
  // p = N(0, 0.3^2) on x; the bin of k is [scale k / levels + shift, scale (k + 1) / levels + shift).
  // For bins this narrow, -log2 P(k) = -log2 p(bin centre) + log2(levels / scale) + O(width^2).
  const double sigma = 0.3;
  auto cdf = [&](double x) { return 0.5 * std::erfc(-x / (sigma * std::sqrt(2.0))); };
  auto log2_density = [&](double x) { return (-0.5 * x * x / (sigma * sigma) - std::log(sigma * std::sqrt(2 * M_PI))) / std::log(2.0); };
  for (const sde::Dequantization d : {sde::Dequantization{256, 2.0, -1.0}, sde::Dequantization{256, 1.0, -0.5}}) {
    CAPTURE(d.scale);
    for (int k : {100, 128, 150}) {
      const double lo = d.scale * k / d.levels + d.shift, hi = d.scale * (k + 1) / d.levels + d.shift;
      const double exact_bits = -std::log2(cdf(hi) - cdf(lo));
      const double from_density = -log2_density(0.5 * (lo + hi)) + d.bits_offset();
      CAPTURE(k);
      CHECK(std::abs(exact_bits - from_density) < 1e-4);
    }
  }
}

TEST_CASE("dequantized data lie in their bins and bad data are refused") {
  const sde::Dequantization d{256, 2.0, -1.0};
  const auto k = torch::tensor({{0, 255}, {17, 128}}, torch::kLong);
  const auto x = d.apply(k, sde::NoiseStream(3), {0, 2});
  const auto bin = ((x - d.shift) * (d.levels / d.scale)).floor();
  CHECK(torch::equal(bin.to(torch::kLong), k));
  CHECK_THROWS_WITH_AS(d.apply(torch::tensor({{256}}), sde::NoiseStream(3), {0, 1}), doctest::Contains("integers in [0, 255]"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS((sde::Dequantization{256, -1.0, 0.0}.bits_offset()), doctest::Contains("scale = -1 must be > 0"),
                       sde::InvalidArgument);
}
