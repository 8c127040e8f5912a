#include "testing.hpp"

#include "sde/errors.hpp"
#include "sde/sde_factory.hpp"
#include "sde/time_grid.hpp"

namespace {

std::vector<std::shared_ptr<const sde::Sde>> all_sdes() {
  return {sde::make_sde({"vp"}), sde::make_sde({"subvp"}), sde::make_sde({"ve"})};
}

}  // namespace

TEST_CASE("time_at_log_snr inverts log_snr to double precision") {
  for (const auto& s : all_sdes()) {
    CAPTURE(s->name());
    for (double t : {1e-5, 1e-3, 0.1, 0.5, 0.99, 1.0}) {
      CAPTURE(t);
      CHECK(s->time_at_log_snr(s->log_snr(t)) == doctest::Approx(t).epsilon(1e-12));
    }
    CHECK_THROWS_WITH_AS(s->time_at_log_snr(s->log_snr(1.0) - 1), doctest::Contains("outside"), sde::InvalidArgument);
  }
  CHECK_THROWS_AS(sde::VeSde().time_at_log_snr(10.0), sde::InvalidArgument);  // above log_snr(0) = 4.6
}

TEST_CASE("time grids: endpoints, monotone, equal steps in their own variable") {
  const double eps = 1e-3;
  const int64_t n = 20;
  for (const auto& s : all_sdes()) {
    CAPTURE(s->name());
    for (auto kind : {sde::TimeGridKind::kTime, sde::TimeGridKind::kLogSnr, sde::TimeGridKind::kKarras}) {
      CAPTURE(sde::TimeGrid::name(kind));
      const sde::TimeGrid grid{kind, 7.0};
      const auto t = sde::make_time_grid(*s, eps, n, grid);
      REQUIRE(t.size() == size_t(n + 1));
      CHECK(t.front() == s->t_max());
      CHECK(t.back() == eps);
      for (int64_t k = 0; k < n; ++k) CHECK(t[k] > t[k + 1]);
      // The variable each grid is uniform in: t, lambda, or exp(-lambda / rho).
      auto u = [&](double tk) {
        switch (kind) {
          case sde::TimeGridKind::kTime: return tk;
          case sde::TimeGridKind::kLogSnr: return s->log_snr(tk);
          case sde::TimeGridKind::kKarras: return std::exp(-s->log_snr(tk) / 7.0);
        }
        return 0.0;
      };
      const double du = (u(t[n]) - u(t[0])) / double(n);
      for (int64_t k = 0; k < n; ++k) CHECK(u(t[k + 1]) - u(t[k]) == doctest::Approx(du).epsilon(1e-8));
    }
  }
}

TEST_CASE("time grid options are validated") {
  CHECK(sde::TimeGrid::parse("logsnr") == sde::TimeGridKind::kLogSnr);
  CHECK_THROWS_WITH_AS(sde::TimeGrid::parse("log"), doctest::Contains("choose time, logsnr or karras"), sde::InvalidArgument);
  const auto vp = sde::make_sde({"vp"});
  CHECK_THROWS_WITH_AS(sde::make_time_grid(*vp, 1e-3, 10, {sde::TimeGridKind::kKarras, -1.0}), doctest::Contains("rho = -1"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_time_grid(*vp, 2.0, 10, {}), doctest::Contains("eps = 2"), sde::InvalidArgument);
}
