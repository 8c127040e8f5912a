// Time grids of fixed-step reverse-time solvers, as a value: N + 1 decreasing times from the start
// (T, or below it) down to eps, given by a named formula or explicitly (the times themselves, or
// the noise levels sigma~ = sigma / alpha in k-diffusion's sense).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sde/core/forward_sde.hpp"

namespace sde {

enum class TimeGridKind {
  kTime,    ///< uniform in t: t_k = t_0 - k (t_0 - eps) / N
  kLogSnr,  ///< uniform in the log-SNR lambda = log(alpha / sigma) (DPM-Solver's choice)
  kKarras,  ///< Karras et al. 2022 (EDM), eq. 5: uniform in sigma~^(1/rho), sigma~ = sigma/alpha
  kTimes,   ///< explicit times t_0 > t_1 > ... > t_N (values)
  kSigmas,  ///< explicit noise levels sigma~_0 > ... > sigma~_N (values), sigma~ = sigma / alpha = exp(-lambda)
};

/// Where a fixed-step solve steps. A formula (kind kTime, kLogSnr or kKarras: steps, eps, start,
/// rho, shift) or explicit values (kTimes, kSigmas: the first entry is where the solve starts and
/// the last where it ends; steps, eps and start are then not used). Adaptive solvers take only
/// the end points of a formula grid.
struct TimeGrid {
  TimeGridKind kind = TimeGridKind::kTime;
  int64_t steps = 1000;  ///< N, the number of steps (formulas)
  double eps = 1e-3;     ///< the final time (formulas); sampling integrates from the start down to eps
  /// The first time (formulas): 0 means T. Below T the solve starts from a given state there
  /// (SDEdit), or from the prior's draw as if it were at T (an approximation, as k-diffusion's
  /// sigma_max below the process's).
  double start = 0;
  double rho = 7.0;  ///< Karras' exponent (kKarras only)
  /// SD3's time shift (Esser et al. 2024, eq. 23), for every formula and process: every inner time
  /// moves to the time whose log-SNR is lambda(t) - log(shift). On the flow process that is
  /// t -> shift t / (1 + (shift - 1) t). shift > 1 spends more steps at high noise; 1 = none.
  double shift = 1.0;
  std::vector<double> values;  ///< kTimes: the times; kSigmas: the noise levels; decreasing

  /// A formula grid of `steps` steps down to eps.
  static TimeGrid formula(TimeGridKind kind, int64_t steps, double eps = 1e-3);
  /// Explicit times t_0 > ... > t_N: t_0 in (0, T] is where the solve starts, t_N > 0 where it ends.
  static TimeGrid times(std::vector<double> t);
  /// Explicit noise levels sigma~_0 > ... > sigma~_N > 0, mapped to times through the process's
  /// inverse log-SNR: t_k = lambda^-1(-log sigma~_k). On VE and EDM sigma~ is sigma itself. The
  /// inverse is exact to about 1e-13, so the end points are rounded: t_0 to T when within 1e-12 of
  /// it, else t_0 and t_N to 12 significant digits (EDM's sigma 0.002 ends at t = 0.002).
  static TimeGrid sigmas(std::vector<double> sigma);

  bool is_explicit() const { return kind == TimeGridKind::kTimes || kind == TimeGridKind::kSigmas; }
  /// N: steps, or the number of explicit values less one.
  int64_t step_count() const;
  /// Throws sde::InvalidArgument naming the bad value and the fix (without the process: the
  /// ranges that depend on it are checked by make_time_grid).
  void validate() const;
  /// The same grid's steps a..b of its N (0 <= a < b <= N) as explicit times, from its times on `sde`:
  /// RePaint's segments, which must step through exactly the grid's own times.
  TimeGrid slice(const Sde& sde, int64_t a, int64_t b) const;
  /// For summaries and messages: "karras (N = 20, rho 7, eps 0.001)", "times (N = 3)".
  std::string describe() const;

  /// The formula's name, "time", "logsnr" or "karras"; throws naming the value and the choices.
  static TimeGridKind parse(const std::string& name);
  static std::string name(TimeGridKind kind);
  static std::vector<std::string> names();  ///< every formula's name
};

/// The grid's times t_0 > t_1 > ... > t_N on `sde`. Formulas: t_0 = start (or T), t_N = eps exactly,
/// inner times from the index, never accumulated; log-SNR and Karras grids are mapped back to t
/// through Sde::time_at_log_snr and need a finite log-SNR at the start (not flow's T = 1: use the
/// time grid, with a shift). Explicit grids: checked to decrease and to lie in (0, T], sigmas within
/// the process's range; every failure names the value and the fix.
std::vector<double> make_time_grid(const Sde& sde, const TimeGrid& grid);

/// The grid's noise levels sigma~_k = sigma(t_k) / alpha(t_k) = exp(-lambda(t_k)), k = 0..N: the
/// Karras formula's own values (before they are mapped to times) and explicit sigmas as given, so
/// TimeGrid::sigmas of these gives the same times; exp(-lambda(t_k)) for the other grids.
std::vector<double> make_sigma_grid(const Sde& sde, const TimeGrid& grid);

/// The time whose noise level sigma(t) / alpha(t) is `sigma` (sigma~ = exp(-lambda)), through the
/// process's inverse log-SNR; throws naming the process's range for a sigma it never reaches.
double time_at_sigma(const Sde& sde, double sigma);

}  // namespace sde
