// The first-order exponential-integrator step in data prediction (DPM-Solver-1 = DDIM with eta = 0;
// Lu et al. 2022, DPM-Solver++, eq. 9), which the DPM-Solver++ steppers build on.
#pragma once

#include <torch/types.h>

#include <cmath>
#include <vector>

#include "sde/core/forward_sde.hpp"

namespace sde {

/// A step from t to s in the log-SNR, h = lambda_s - lambda_t, with phi1 = e^{-h} - 1:
///   x_s = (sigma_s / sigma_t) x - alpha_s phi1 D.
struct ExponentialStep {
  double alpha_s;      ///< alpha at the end of the step
  double sigma_ratio;  ///< sigma_s / sigma_t
  double h;            ///< the log-SNR step
  double phi1() const { return std::expm1(-h); }
  /// The first-order step applied to x in place, with the data prediction d at the start.
  torch::Tensor& first_order(torch::Tensor& x, const torch::Tensor& d) const {
    return x.mul_(sigma_ratio).add_(d, -alpha_s * phi1());
  }
};

/// The step from t to s (lambda_t given, as the caller has it), or to the time s whose log-SNR is
/// lambda_t + h exactly.
inline ExponentialStep exponential_step(const Sde& sde, double t, double s, double h) {
  return {sde.alpha(s), sde.sigma(s) / sde.sigma(t), h};
}

/// The order a multistep method of order `order` takes at step k of a grid of N steps:
/// min(order, k + 1) while its history fills (warm-up), and at most N - k when N < lower_order_final
/// (lower-order final steps, which stabilise few-step sampling; dpm-solver's rule with 10).
inline int64_t multistep_order(int64_t order, int64_t k, int64_t steps, int64_t lower_order_final) {
  int64_t q = order < k + 1 ? order : k + 1;
  if (steps < lower_order_final && steps - k < q) q = steps - k;
  return q;
}

/// What the multistep exponential integrators remember: data predictions at earlier grid times
/// with their log-SNRs, newest last.
struct DataHistory {
  std::vector<torch::Tensor> data;  ///< D = x0_hat at earlier grid times
  std::vector<double> log_snr;      ///< their log-SNRs
  /// Appends (d, lambda) and keeps the `keep` newest entries.
  void push(torch::Tensor d, double lambda, size_t keep) {
    data.push_back(std::move(d));
    log_snr.push_back(lambda);
    while (data.size() > keep) {
      data.erase(data.begin());
      log_snr.erase(log_snr.begin());
    }
  }
};

}  // namespace sde
