// Sample statistics and distances between sample sets, in float64 (Eigen). Sample sets are
// tensors of shape [n, D] (any dtype or device; converted to float64 on the CPU).
#pragma once

#include <Eigen/Core>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "sde/core/gaussian_mixture.hpp"

namespace sde {

/// An [n, ...] tensor as an n x D float64 matrix (D = product of the trailing sizes).
Eigen::MatrixXd to_eigen(const torch::Tensor& samples);

/// Sample mean, length D.
Eigen::VectorXd sample_mean(const torch::Tensor& samples);
/// Unbiased sample covariance (divides by n - 1), D x D.
Eigen::MatrixXd sample_covariance(const torch::Tensor& samples);

/// Fréchet (Bures–Wasserstein) distance W2 between N(m1, C1) and N(m2, C2):
/// W2^2 = |m1 - m2|^2 + tr C1 + tr C2 - 2 tr (C1^1/2 C2 C1^1/2)^1/2.
double gaussian_w2(const Eigen::VectorXd& m1, const Eigen::MatrixXd& c1, const Eigen::VectorXd& m2,
                   const Eigen::MatrixXd& c2);
/// gaussian_w2 between the Gaussians fitted (mean, covariance) to two sample sets.
double gaussian_w2(const torch::Tensor& a, const torch::Tensor& b);

/// Sliced Wasserstein-2 distance: sqrt of the mean over `directions` unit vectors of the 1-D W2^2
/// between the projected sets (by sorting; sets of unequal size compare empirical quantiles at the
/// midpoints (i + 1/2) / m, m the larger size). The directions are the normalised normals of
/// NoiseStream(seed), so every call with the same seed uses the same directions.
double sliced_w2(const torch::Tensor& a, const torch::Tensor& b, int64_t directions = 256,
                 uint64_t seed = 0);

/// What sliced_w2 reaches for sets of n exact samples: the mean and standard deviation over
/// `draws` independent exact sets (draw(k) returns the k-th) of their sliced W2 to `reference`.
/// A sampler's n samples compare with the mean, give or take the spread: one exact set alone is a
/// poor yardstick (on a class of two opposite modes its distance varied sevenfold between seeds,
/// the modes' shares differing by chance). A reference several times larger than n keeps its own
/// noise out of both numbers.
struct W2Floor {
  double mean = 0;
  double std = 0;  ///< over the draws (the spread of one exact set's distance)
  int64_t draws = 0;
};
W2Floor sliced_w2_floor(const std::function<torch::Tensor(int64_t k)>& draw, const torch::Tensor& reference,
                        int64_t draws = 8);

/// Mean of log p(x_i) over the samples, under the mixture (float64 reference path).
double mean_log_likelihood(const torch::Tensor& samples, const GaussianMixture& mixture);

/// Least-squares slope of log y against log x: a measured convergence order (negated for errors
/// against steps). Throws sde::InvalidArgument for fewer than two points, unequal lengths or a
/// value that is not positive.
double log_log_slope(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace sde
