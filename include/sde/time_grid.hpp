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
  /// SD3's time shift (Esser et al. 2024, eq. 23), for any kind and any process: every inner time
  /// moves to the time whose log-SNR is lambda(t) - log(shift). On the flow process that is
  /// t -> shift t / (1 + (shift - 1) t). shift > 1 spends more steps at high noise; 1 = none.
  double shift = 1.0;

  /// Throws unless rho and shift are finite and > 0.
  void validate() const;
  /// "time", "logsnr" or "karras"; throws naming the value and the choices.
  static TimeGridKind parse(const std::string& name);
  static std::string name(TimeGridKind kind);
  static std::vector<std::string> names();  ///< every kind's name
};

/// The grid t_0 = T > t_1 > ... > t_N = eps (endpoints exact, inner times from the index, never
/// accumulated). Log-SNR and Karras grids are mapped back to t with Sde::time_at_log_snr; they
/// need a finite log-SNR at the start (not flow's T = 1: use the time grid, with a shift). A start
/// time t_start in (eps, T] replaces T (SDEdit); 0 means T.
std::vector<double> make_time_grid(const Sde& sde, double eps, int64_t steps, const TimeGrid& grid,
                                   double t_start = 0);

}  // namespace sde
