// The 2-D toy distributions: their defining properties, per-sample determinism, errors.
#include "testing.hpp"

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/sampler.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/core/toy_data.hpp"

namespace {

constexpr int64_t kN = 20000;

torch::Tensor draw(const std::string& name) {
  return sde::toy_data(name, sde::NoiseStream(5), {0, kN}, torch::kFloat64);
}

}  // namespace

TEST_CASE("every toy distribution is [n, 2], float32 by default, and depends only on (seed, index)") {
  for (const std::string& name : sde::toy_data_names()) {
    CAPTURE(name);
    const auto whole = sde::toy_data(name, sde::NoiseStream(5), {0, 40});
    CHECK(whole.sizes() == torch::IntArrayRef({40, 2}));
    CHECK((whole.scalar_type() == torch::kFloat32));
    CHECK(torch::equal(sde::toy_data(name, sde::NoiseStream(5), {10, 20}), whole.narrow(0, 10, 20)));
    CHECK_FALSE(torch::equal(sde::toy_data(name, sde::NoiseStream(6), {0, 40}), whole));
    CHECK(sde::all_finite(whole));
  }
  CHECK_THROWS_WITH_AS(sde::toy_data("spiral", sde::NoiseStream(0), {0, 4}),
                       doctest::Contains("unknown toy data 'spiral'; known: ring, swissroll, checkerboard, moons"),
                       sde::InvalidArgument);
}

TEST_CASE("toy ring has the density of data/ring8.json") {
  // Mean log-density under the mixture of toy points and of the mixture's own samples agree within
  // 4 standard errors of their difference (sd(log p) sqrt(2 / n)).
  const auto s = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(sde::testing::data_path("ring8.json")), s);
  const auto t0 = torch::zeros({kN}, torch::kFloat64);
  const auto toy = model.log_prob(draw("ring"), t0);
  const auto exact = model.log_prob(model.sample(sde::NoiseStream(9), {0, kN}, 0.0), t0);
  const double tolerance = 4.0 * exact.std().item<double>() * std::sqrt(2.0 / double(kN));
  CHECK(std::abs(toy.mean().item<double>() - exact.mean().item<double>()) <= tolerance);
}

TEST_CASE("toy_mixture gives the ring's density, and nothing for toys without a closed form") {
  const auto ring = sde::toy_mixture("ring");
  REQUIRE(ring.has_value());
  const auto file = sde::GaussianMixture::from_json_file(sde::testing::data_path("ring8.json"));
  REQUIRE(ring->components() == file.components());
  for (int64_t k = 0; k < file.components(); ++k) {
    CHECK(ring->weights()[k] == doctest::Approx(file.weights()[k]).epsilon(1e-12));
    CHECK((ring->means()[k] - file.means()[k]).norm() < 1e-9);
    CHECK((ring->covs()[k] - file.covs()[k]).norm() < 1e-12);
  }
  CHECK_FALSE(sde::toy_mixture("moons").has_value());
  CHECK_THROWS_AS(sde::toy_mixture("spiral"), sde::InvalidArgument);
}

TEST_CASE("checkerboard points lie on the dark squares, swiss roll and moons have their moments") {
  const auto board = draw("checkerboard") / 2;  // unit squares
  const auto parity = torch::remainder(board.select(1, 0).floor() + board.select(1, 1).floor(), 2);
  CHECK(parity.abs().max().item<double>() == 0.0);
  CHECK(board.abs().max().item<double>() <= 2.0);
  // Swiss roll: 5 |x| is the roll parameter t ~ U(1.5 pi, 4.5 pi) up to the noise (mean 3 pi; the
  // noise of std 1 in t units adds ~1 / (2 t) ~ 0.05 to the mean radius). k = 4 standard errors + 0.1.
  const auto t = draw("swissroll").norm(2, 1) * 5;
  const double t_sd = M_PI * 3.0 / std::sqrt(3.0);  // std of U(1.5 pi, 4.5 pi)
  CHECK(std::abs(t.mean().item<double>() - 3 * M_PI) <= 4 * t_sd / std::sqrt(double(kN)) + 0.1);
  // Moons: centred by construction. Per coordinate std < 2, so k = 4 gives 4 * 2 / sqrt(n).
  const auto moons = draw("moons");
  CHECK(moons.mean(0).abs().max().item<double>() <= 4 * 2 / std::sqrt(double(kN)));
}
