#include "testing.hpp"

#include "core/random/philox.hpp"
#include "sde/core/errors.hpp"
#include "sde/core/random.hpp"

using sde::NoiseStream;

TEST_CASE("philox4x32-10 known answers (Random123 kat_vectors)") {
  using sde::detail::philox4x32;
  const auto zero = philox4x32({0, 0, 0, 0}, 0, 0);
  CHECK((zero == sde::detail::PhiloxWords{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  const auto pi = philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0xa4093822u, 0x299f31d0u);
  CHECK((pi == sde::detail::PhiloxWords{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

#if defined(SCORESDE_HAVE_AVX2_KERNEL)
TEST_CASE("the AVX2 normal kernel agrees with the portable one to float rounding") {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return;
  const int64_t blocks = 1003;  // not a multiple of 8: exercises the tail
  std::vector<float> a(4 * blocks), b(4 * blocks);
  sde::detail::philox_normals_generic(42, 7, 123456789, blocks, a.data());
  sde::detail::philox_normals_avx2(42, 7, 123456789, blocks, b.data());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  // |z| < 6 and both use float log/sincos accurate to ~1 ulp: differences of a few 1e-7.
  CHECK(worst < 5e-6);
}
#endif

TEST_CASE("a sample's noise does not depend on the batch it is drawn in") {
  const NoiseStream noise(9);
  const auto all = noise.normal({0, 10}, {3}, 5);
  const auto part = noise.normal({4, 6}, {3}, 5);  // first number at word offset 12 % 4 = 0
  CHECK(torch::equal(all.narrow(0, 4, 6), part));
  const auto odd = noise.normal({3, 5}, {3}, 5);   // starts inside a Philox block (9 % 4 = 1)
  CHECK(torch::equal(all.narrow(0, 3, 5), odd));
  const auto u_all = noise.uniform({0, 10}, {1}, 2);
  CHECK(torch::equal(u_all.narrow(0, 7, 3), noise.uniform({7, 3}, {1}, 2)));
  CHECK_FALSE(torch::equal(all, noise.normal({0, 10}, {3}, 6)));  // another draw
  CHECK_FALSE(torch::equal(all, NoiseStream(10).normal({0, 10}, {3}, 5)));  // another seed
}

TEST_CASE("normals and uniforms have the right moments") {
  const int64_t n = 1 << 20;
  const auto z = NoiseStream(1).normal({0, n}, {1}, 0, torch::kFloat64);
  // Mean ~ N(0, 1/n), variance ~ N(1, 2/n), E z^4 = 3 with sd sqrt(96/n): k = 5 standard errors.
  const double k = 5, sn = std::sqrt(double(n));
  CHECK(std::abs(z.mean().item<double>()) < k / sn);
  CHECK(std::abs(z.var().item<double>() - 1) < k * std::sqrt(2.0) / sn);
  CHECK(std::abs(z.pow(4).mean().item<double>() - 3) < k * std::sqrt(96.0) / sn);
  CHECK(z.abs().max().item<double>() < 6.0);
  const auto u = NoiseStream(1).uniform({0, n}, {1}, 1);
  CHECK(std::abs(u.mean().item<double>() - 0.5) < k * std::sqrt(1.0 / 12) / sn);
  CHECK(u.min().item<double>() > 0);
  CHECK(u.max().item<double>() < 1);
}

TEST_CASE("bad ranges and shapes are rejected") {
  const NoiseStream noise(0);
  CHECK_THROWS_WITH_AS(noise.normal({-1, 3}, {2}, 0), doctest::Contains("first >= 0"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(noise.normal({0, 3}, {0}, 0), doctest::Contains("positive"), sde::InvalidArgument);
}
