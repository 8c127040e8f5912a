#include "testing.hpp"

#include "sde/core/errors.hpp"
#include "sde/core/flow_sde.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/core/time_grid.hpp"

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
      const auto t = sde::make_time_grid(*s, sde::TimeGrid::formula(kind, n, eps));
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
  sde::TimeGrid karras = sde::TimeGrid::formula(sde::TimeGridKind::kKarras, 10);
  karras.rho = -1;
  CHECK_THROWS_WITH_AS(sde::make_time_grid(*vp, karras), doctest::Contains("rho = -1"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_time_grid(*vp, sde::TimeGrid::formula(sde::TimeGridKind::kTime, 10, 2.0)),
                       doctest::Contains("eps = 2"), sde::InvalidArgument);
}

TEST_CASE("explicit times are the grid itself; bad ones are refused with the reason") {
  const auto vp = sde::make_sde({"vp"});
  const std::vector<double> times{1.0, 0.5, 0.2, 1e-3};
  CHECK(sde::make_time_grid(*vp, sde::TimeGrid::times(times)) == times);
  CHECK(sde::TimeGrid::times(times).step_count() == 3);
  CHECK_THROWS_WITH_AS(sde::make_time_grid(*vp, sde::TimeGrid::times({1.0})), doctest::Contains("at least two"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_time_grid(*vp, sde::TimeGrid::times({1.0, 0.5, 0.75, 0.125})),
                       doctest::Contains("times[2] = 0.75 is not below times[1] = 0.5"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_time_grid(*vp, sde::TimeGrid::times({1.0, 0.5, 0.0})), doctest::Contains("drop it"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_time_grid(*vp, sde::TimeGrid::times({1.5, 0.5, 0.1})), doctest::Contains("above the vp"),
                       sde::InvalidArgument);
  sde::TimeGrid shifted = sde::TimeGrid::times(times);
  shifted.shift = 3;
  CHECK_THROWS_WITH_AS(sde::make_time_grid(*vp, shifted), doctest::Contains("formulas only"), sde::InvalidArgument);
}

TEST_CASE("explicit sigmas map to the times of those noise levels; the Karras grid's own sigmas give its times exactly") {
  for (const std::string name : {"vp", "subvp", "ve", "edm", "cosine"}) {
    CAPTURE(name);
    const auto s = sde::make_sde({name});
    const sde::TimeGrid karras = sde::TimeGrid::formula(sde::TimeGridKind::kKarras, 12);
    const std::vector<double> t = sde::make_time_grid(*s, karras);
    // sigma~ = exp(-lambda) at each time: as the Karras formula computes it, up to rounding.
    std::vector<double> sigma;
    for (const double tk : t) sigma.push_back(std::exp(-s->log_snr(tk)));
    const std::vector<double> back = sde::make_time_grid(*s, sde::TimeGrid::sigmas(sigma));
    REQUIRE(back.size() == t.size());
    CHECK(back.front() == s->t_max());  // the first sigma is the process's at T: the grid starts at T exactly
    for (size_t k = 0; k < t.size(); ++k) CHECK(back[k] == doctest::Approx(t[k]).epsilon(1e-10));
    // The Karras formula's own sigmas (sigma_max^(1/rho) + k/N (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho
    // go through the same conversion: every inner time equal to the last bit.
    const std::vector<double> own = sde::make_sigma_grid(*s, karras);
    const double a = std::exp(-s->log_snr(t.front()) / 7.0), b = std::exp(-s->log_snr(t.back()) / 7.0);
    CHECK(own[6] == doctest::Approx(std::pow((a + b) / 2, 7.0)).epsilon(1e-12));
    const std::vector<double> same = sde::make_time_grid(*s, sde::TimeGrid::sigmas(own));
    for (size_t k = 0; k < t.size(); ++k) CHECK(same[k] == t[k]);
    CHECK(same.back() == t.back());  // the end point to 12 digits: eps itself
  }
  const auto vp = sde::make_sde({"vp"});
  CHECK_THROWS_WITH_AS(sde::make_time_grid(*vp, sde::TimeGrid::sigmas({1000.0, 1.0, 0.01})),
                       doctest::Contains("largest noise level"), sde::InvalidArgument);
  // On EDM sigma~ is sigma = t itself.
  const auto edm = sde::make_sde({"edm"});
  const std::vector<double> edm_times = sde::make_time_grid(*edm, sde::TimeGrid::sigmas({80.0, 10.0, 1.0, 0.002}));
  CHECK(edm_times[1] == doctest::Approx(10.0).epsilon(1e-12));
  CHECK(edm_times[3] == doctest::Approx(0.002).epsilon(1e-12));
}

TEST_CASE("a slice of a grid is the grid's own times") {
  const sde::FlowSde flow;
  sde::TimeGrid grid = sde::TimeGrid::formula(sde::TimeGridKind::kTime, 8);
  grid.shift = 3;
  const std::vector<double> t = sde::make_time_grid(flow, grid);
  const sde::TimeGrid slice = grid.slice(flow, 4, 8);
  CHECK(slice.kind == sde::TimeGridKind::kTimes);
  CHECK(sde::make_time_grid(flow, slice) == std::vector<double>(t.begin() + 4, t.end()));
  CHECK_THROWS_WITH_AS(grid.slice(flow, 3, 3), doctest::Contains("at least one step"), sde::InvalidArgument);
}
