// Samples against the exact distribution of a Gaussian mixture, by two measures:
//  * sliced W2 to an independent exact sample set, against the noise floor measured the same way
//    (exact sets against each other): k = 3, one-sided, floor from 8 pairs;
//  * the mean exact log-density of the samples against that of an exact set: k = 4 for a difference
//    of two sample means, whose standard error is sd(log p) sqrt(2 / n).
#pragma once

#include "testing.hpp"

#include <string>
#include <vector>

#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/metrics.hpp"

namespace sde::testing {

struct MeanStd {
  double mean, std;
};

inline MeanStd mean_std(const std::vector<double>& v) {
  double mean = 0, var = 0;
  for (double x : v) mean += x / double(v.size());
  for (double x : v) var += (x - mean) * (x - mean) / double(v.size() - 1);
  return {mean, std::sqrt(var)};
}

struct Verdict {
  bool sw2_ok, loglik_ok;
  double nfe_mean;
  double mean_log_p, log_p_tolerance;  // of the samples, and the k = 4 tolerance of a difference of two
  double exact_log_p, distance;        // of the exact set, and the samples' sliced W2
};

/// `samples` [n, D] against p_0 of `target` (its exact samples at t = 0, seeds 999 and 1000..1007).
inline Verdict against_exact(const sde::GaussianMixtureScore& target, const torch::Tensor& samples,
                             const std::string& what, double nfe_mean = 0) {
  const int64_t n = samples.size(0);
  const auto reference = target.sample(sde::NoiseStream(999), {0, n}, 0.0);
  std::vector<double> floor;
  for (int p = 0; p < 8; ++p)
    floor.push_back(sde::sliced_w2(target.sample(sde::NoiseStream(1000 + p), {0, n}, 0.0), reference));
  const MeanStd f = mean_std(floor);
  const double distance = sde::sliced_w2(samples, reference);
  const auto t0 = torch::zeros({n}, torch::kFloat64);
  const auto ref_logp = target.log_prob(reference, t0);
  const double sample_logp = target.log_prob(samples.to(torch::kFloat64), t0).mean().item<double>();
  const double exact_logp = ref_logp.mean().item<double>();
  const double tolerance = 4.0 * ref_logp.std().item<double>() * std::sqrt(2.0 / double(n));
  MESSAGE(what << (nfe_mean > 0 ? " (mean NFE " + std::to_string(nfe_mean) + ")" : std::string()) << ": sliced W2 " << distance << " (floor " << f.mean << " +- " << f.std
               << "); mean log p " << sample_logp << " vs exact " << exact_logp << " +- " << tolerance);
  return {distance <= f.mean + 3.0 * f.std, std::abs(sample_logp - exact_logp) <= tolerance, nfe_mean,
          sample_logp, tolerance, exact_logp, distance};
}

}  // namespace sde::testing
