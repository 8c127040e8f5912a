// Time grids for fixed-step reverse-time solvers: N + 1 decreasing times from T to eps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sde/forward_sde.hpp"

namespace sde {

enum class TimeGridKind {
  kTime,    ///< uniform in t: t_k = T - k (T - eps) / N
  kLogSnr,  ///< uniform in the log-SNR lambda = log(alpha / sigma) (DPM-Solver's choice)
  kKarras,  ///< Karras et al. 2022 (EDM), eq. 5: uniform in sigma~^(1/rho), sigma~ = sigma/alpha
};

struct TimeGrid {
  TimeGridKind kind = TimeGridKind::kTime;
  double rho = 7.0;  ///< Karras' exponent (used by kKarras only)

  /// Throws unless rho is finite and > 0.
  void validate() const;
  /// "time", "logsnr" or "karras"; throws naming the value and the choices.
  static TimeGridKind parse(const std::string& name);
  static std::string name(TimeGridKind kind);
  static std::vector<std::string> names();  ///< every kind's name
};

/// The grid t_0 = T > t_1 > ... > t_N = eps (endpoints exact, inner times from the index, never
/// accumulated). Log-SNR and Karras grids are mapped back to t with Sde::time_at_log_snr. A start
/// time t_start in (eps, T] replaces T (SDEdit); 0 means T.
std::vector<double> make_time_grid(const Sde& sde, double eps, int64_t steps, const TimeGrid& grid,
                                   double t_start = 0);

}  // namespace sde
