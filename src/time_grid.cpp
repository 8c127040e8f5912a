#include "sde/time_grid.hpp"

#include <algorithm>
#include <cmath>

#include "sde/errors.hpp"
#include "sde/memory_limits.hpp"

namespace sde {

void TimeGrid::validate() const {
  SDE_CHECK(std::isfinite(rho) && rho > 0, "time grid option rho = ", rho,
            " must be finite and > 0 (Karras et al. use 7)");
  SDE_CHECK(std::isfinite(shift) && shift > 0, "time grid option shift = ", shift,
            " must be finite and > 0 (1 = no shift; SD3 uses 3)");
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
  }
  return "?";
}

std::vector<double> make_time_grid(const Sde& sde, double eps, int64_t steps, const TimeGrid& grid,
                                   double t_start) {
  grid.validate();
  SDE_CHECK(steps >= 1, "time grid: steps = ", steps, " must be >= 1");
  check_fits_in_memory(8.0 * double(steps), detail::concat("a time grid of steps = ", steps), "take fewer steps");
  SDE_CHECK(std::isfinite(t_start) && t_start >= 0 && t_start <= sde.t_max(), "time grid: start time ", t_start,
            " must lie in (eps, T] = (", eps, ", ", sde.t_max(), "] (0 means T)");
  const double t_max = t_start > 0 ? t_start : sde.t_max();
  SDE_CHECK(std::isfinite(eps) && eps > 0 && eps < t_max, "time grid: eps = ", eps,
            " must lie in (0, ", t_start > 0 ? "the start time" : "T", ") = (0, ", t_max, ")");
  std::vector<double> t(size_t(steps) + 1);
  const double lam_max = sde.log_snr(eps), lam_min = sde.log_snr(t_max);
  SDE_CHECK(grid.kind == TimeGridKind::kTime || std::isfinite(lam_min), "time grid '", TimeGrid::name(grid.kind),
            "': the ", sde.name(), " process has log-SNR -inf at its start t = ", t_max,
            " (alpha = 0), so no grid is uniform in it; use the 'time' grid (with a shift > 1 for more steps at "
            "high noise), or start below it");
  for (int64_t k = 1; k < steps; ++k) {
    const double u = double(k) / double(steps);
    switch (grid.kind) {
      case TimeGridKind::kTime:
        t[k] = t_max - u * (t_max - eps);
        break;
      case TimeGridKind::kLogSnr:
        t[k] = sde.time_at_log_snr(lam_min + u * (lam_max - lam_min));
        break;
      case TimeGridKind::kKarras: {
        // sigma~ = sigma / alpha = exp(-lambda), interpolated in sigma~^(1/rho).
        const double a = std::exp(-lam_min / grid.rho), b = std::exp(-lam_max / grid.rho);
        t[k] = sde.time_at_log_snr(-grid.rho * std::log(a + u * (b - a)));
        break;
      }
    }
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

}  // namespace sde
