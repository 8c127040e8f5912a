#include "sde/core/time_grid.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "sde/core/errors.hpp"
#include "core/memory_limits.hpp"

namespace sde {

TimeGrid TimeGrid::formula(TimeGridKind kind, int64_t steps, double eps) {
  TimeGrid grid;
  grid.kind = kind;
  grid.steps = steps;
  grid.eps = eps;
  return grid;
}

TimeGrid TimeGrid::times(std::vector<double> t) {
  TimeGrid grid;
  grid.kind = TimeGridKind::kTimes;
  grid.values = std::move(t);
  return grid;
}

TimeGrid TimeGrid::sigmas(std::vector<double> sigma) {
  TimeGrid grid;
  grid.kind = TimeGridKind::kSigmas;
  grid.values = std::move(sigma);
  return grid;
}

int64_t TimeGrid::step_count() const { return is_explicit() ? int64_t(values.size()) - 1 : steps; }

void TimeGrid::validate() const {
  SDE_CHECK(std::isfinite(rho) && rho > 0, "time grid option rho = ", rho,
            " must be finite and > 0 (Karras et al. use 7)");
  SDE_CHECK(std::isfinite(shift) && shift > 0, "time grid option shift = ", shift,
            " must be finite and > 0 (1 = no shift; SD3 uses 3)");
  if (!is_explicit()) {
    SDE_CHECK(steps >= 1, "time grid: steps = ", steps, " must be >= 1");
    SDE_CHECK(std::isfinite(eps) && eps > 0, "time grid: eps = ", eps,
              " must be finite and > 0 (the usual value is 1e-3)");
    SDE_CHECK(std::isfinite(start) && start >= 0, "time grid: start = ", start,
              " must be finite and >= 0 (0 means T)");
    SDE_CHECK(values.empty(), "time grid '", name(kind), "' is a formula, but ", values.size(),
              " values were given: use TimeGrid::times or TimeGrid::sigmas for explicit grids");
    return;
  }
  const char* what = kind == TimeGridKind::kTimes ? "times" : "sigmas";
  SDE_CHECK(values.size() >= 2, "time grid: ", values.size(), " ", what,
            " given; give at least two (the start and the end: N + 1 values for N steps)");
  SDE_CHECK(shift == 1.0, "time grid: shift = ", shift, " applies to formulas only; explicit ", what,
            " are used as given (shift them yourself)");
  for (size_t k = 0; k < values.size(); ++k) {
    SDE_CHECK(std::isfinite(values[k]) && values[k] > 0, "time grid: ", what, "[", k, "] = ", values[k],
              " must be finite and > 0 (sampling ends at eps > 0 and denoises there; k-diffusion's final "
              "sigma 0 is that denoising step: drop it)");
    SDE_CHECK(k == 0 || values[k] < values[k - 1], "time grid: ", what, "[", k, "] = ", values[k],
              " is not below ", what, "[", k - 1, "] = ", values[k - 1], "; give them decreasing, from the start to the end");
  }
}

TimeGrid TimeGrid::slice(const Sde& sde, int64_t a, int64_t b) const {
  const std::vector<double> t = make_time_grid(sde, *this);
  SDE_CHECK(0 <= a && a < b && b < int64_t(t.size()), "time grid: the slice [", a, ", ", b,
            "] must lie within the grid's steps [0, ", t.size() - 1, "] and hold at least one step");
  return times(std::vector<double>(t.begin() + a, t.begin() + b + 1));
}

std::string TimeGrid::describe() const {
  std::ostringstream out;
  out << name(kind) << " (N = " << step_count();
  if (kind == TimeGridKind::kKarras) out << ", rho " << rho;
  if (!is_explicit()) {
    if (shift != 1.0) out << ", shift " << shift;
    if (start > 0) out << ", start " << start;
    out << ", eps " << eps;
  }
  out << ")";
  return out.str();
}

TimeGridKind TimeGrid::parse(const std::string& name) {
  if (name == "time") return TimeGridKind::kTime;
  if (name == "logsnr") return TimeGridKind::kLogSnr;
  if (name == "karras") return TimeGridKind::kKarras;
  throw InvalidArgument(detail::concat("unknown time grid '", name, "'; choose time, logsnr or karras"));
}

std::vector<std::string> TimeGrid::names() { return {"time", "logsnr", "karras"}; }

std::string TimeGrid::name(TimeGridKind kind) {
  switch (kind) {
    case TimeGridKind::kTime: return "time";
    case TimeGridKind::kLogSnr: return "logsnr";
    case TimeGridKind::kKarras: return "karras";
    case TimeGridKind::kTimes: return "times";
    case TimeGridKind::kSigmas: return "sigmas";
  }
  return "?";
}

double time_at_sigma(const Sde& sde, double sigma) {
  const double lambda = -std::log(sigma);
  const double lam_min = sde.log_snr(sde.t_max());
  SDE_CHECK(std::isfinite(sigma) && sigma > 0 && lambda >= lam_min, "sigma = ", sigma, " is above the ", sde.name(),
            " process's largest noise level sigma(T)/alpha(T) = ", std::exp(-lam_min),
            "; give sigmas at most that, or a process that reaches it");
  return sde.time_at_log_snr(lambda);
}

namespace {

// Inner times from the noise levels sigma~_1..sigma~_{N-1} (the end points are the caller's): the
// Karras formula and explicit sigmas go through this one conversion, so equal sigmas give equal times.
void fill_from_sigmas(const Sde& sde, const std::vector<double>& sigma, std::vector<double>& t) {
  for (size_t k = 1; k + 1 < sigma.size(); ++k) t[k] = time_at_sigma(sde, sigma[k]);
}

// t to 12 significant digits: the inverse log-SNR is exact to about 1e-13 only, and the end
// points of a sigma grid should be the times a user means (EDM's sigma 0.002 is t = 0.002).
double end_point(double t) {
  char text[32];
  std::snprintf(text, sizeof text, "%.11e", t);
  return std::strtod(text, nullptr);
}

std::vector<double> explicit_grid(const Sde& sde, const TimeGrid& grid) {
  const std::vector<double>& v = grid.values;
  std::vector<double> t(v.size());
  if (grid.kind == TimeGridKind::kTimes) {
    t = v;
  } else {
    const double first = time_at_sigma(sde, v.front());
    t.front() = std::abs(first - sde.t_max()) <= 1e-12 * sde.t_max() ? sde.t_max() : end_point(first);
    fill_from_sigmas(sde, v, t);
    t.back() = end_point(time_at_sigma(sde, v.back()));
  }
  SDE_CHECK(t.front() <= sde.t_max(), "time grid: the first time ", t.front(), " lies above the ", sde.name(),
            " process's end T = ", sde.t_max(), "; start at T or below");
  for (size_t k = 1; k < t.size(); ++k)
    SDE_CHECK(t[k] < t[k - 1] && t[k] > 0, "time grid: ", TimeGrid::name(grid.kind), " give the times t_", k - 1,
              " = ", t[k - 1], " and t_", k, " = ", t[k], " on the ", sde.name(),
              " process; they must decrease and stay above 0 (sigmas this close map to one time)");
  return t;
}

// A formula grid's first time (its start, or T), checked with its end eps.
double formula_start(const Sde& sde, const TimeGrid& grid) {
  check_fits_in_memory(8.0 * double(grid.steps), detail::concat("a time grid of steps = ", grid.steps), "take fewer steps");
  SDE_CHECK(grid.start <= sde.t_max(), "time grid: start time ", grid.start, " must lie in (eps, T] = (", grid.eps, ", ",
            sde.t_max(), "] (0 means T)");
  const double t_max = grid.start > 0 ? grid.start : sde.t_max();
  SDE_CHECK(grid.eps < t_max, "time grid: eps = ", grid.eps, " must lie in (0, ", grid.start > 0 ? "the start time" : "T",
            ") = (0, ", t_max, ")");
  return t_max;
}

// The Karras formula's noise levels: sigma~ = sigma / alpha = exp(-lambda), interpolated in sigma~^(1/rho).
std::vector<double> karras_sigmas(const Sde& sde, const TimeGrid& grid) {
  const double lam_max = sde.log_snr(grid.eps), lam_min = sde.log_snr(formula_start(sde, grid));
  const double a = std::exp(-lam_min / grid.rho), b = std::exp(-lam_max / grid.rho);
  std::vector<double> sigma(size_t(grid.steps) + 1);
  for (int64_t k = 0; k <= grid.steps; ++k) sigma[k] = std::pow(a + double(k) / double(grid.steps) * (b - a), grid.rho);
  return sigma;
}

}  // namespace

std::vector<double> make_time_grid(const Sde& sde, const TimeGrid& grid) {
  grid.validate();
  if (grid.is_explicit()) return explicit_grid(sde, grid);
  const int64_t steps = grid.steps;
  const double eps = grid.eps, t_max = formula_start(sde, grid);
  std::vector<double> t(size_t(steps) + 1);
  const double lam_max = sde.log_snr(eps), lam_min = sde.log_snr(t_max);
  SDE_CHECK(grid.kind == TimeGridKind::kTime || std::isfinite(lam_min), "time grid '", TimeGrid::name(grid.kind),
            "': the ", sde.name(), " process has log-SNR -inf at its start t = ", t_max,
            " (alpha = 0), so no grid is uniform in it; use the 'time' grid (with a shift > 1 for more steps at "
            "high noise), or start below it");
  if (grid.kind == TimeGridKind::kKarras) fill_from_sigmas(sde, karras_sigmas(sde, grid), t);
  for (int64_t k = 1; k < steps; ++k) {
    const double u = double(k) / double(steps);
    if (grid.kind == TimeGridKind::kTime) t[k] = t_max - u * (t_max - eps);
    if (grid.kind == TimeGridKind::kLogSnr) t[k] = sde.time_at_log_snr(lam_min + u * (lam_max - lam_min));
    if (grid.shift != 1.0) {
      const double shifted = sde.log_snr(t[k]) - std::log(grid.shift);
      SDE_CHECK(shifted > lam_min && shifted < lam_max, "time grid: shift = ", grid.shift, " moves t_", k, " = ", t[k],
                " outside (eps, start) = (", eps, ", ", t_max, ") on the ", sde.name(),
                " process (its log-SNR range is finite there); use a shift closer to 1");
      t[k] = sde.time_at_log_snr(shifted);
    }
  }
  t.front() = t_max;
  t.back() = eps;
  return t;
}

std::vector<double> make_sigma_grid(const Sde& sde, const TimeGrid& grid) {
  if (grid.kind == TimeGridKind::kSigmas) {
    make_time_grid(sde, grid);  // checks them
    return grid.values;
  }
  if (grid.kind == TimeGridKind::kKarras && grid.shift == 1.0) {
    grid.validate();
    return karras_sigmas(sde, grid);
  }
  std::vector<double> sigma;
  for (const double t : make_time_grid(sde, grid)) sigma.push_back(std::exp(-sde.log_snr(t)));
  return sigma;
}

}  // namespace sde
