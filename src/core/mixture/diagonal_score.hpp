// The exact score of a mixture of diagonal Gaussians, one sample at a time, without LibTorch
// operations (private to the library).
//
// s(x) = -sum_k r_k(x) (x - a mu_k) / var_k,  var_k = a^2 lambda_k + s^2 (per coordinate),
// r = softmax_k(log w_k - 1/2 sum_d [(x_d - a mu_kd)^2 / var_kd + log var_kd] - D/2 log 2 pi).
//
// Why a second evaluation of what GaussianMixtureScore computes with LibTorch operations: those
// make ~10 passes over a [K, D, B] tensor (20 MB at K = 8, D = 32, B = 20000) per call, and the
// exact score is then the bulk of an exact-score sampling run; this loop keeps a sample's K x D
// numbers in cache and runs over blocks of samples in vector registers (measured in
// docs/benchmarks.md). It has no autograd: the caller uses it when no gradient is asked for, and
// a unit test holds the two evaluations to the same numbers. Each sample's arithmetic is the same
// in any batch, and the same whether the batch shares its time or not.
#pragma once

#include <torch/types.h>

namespace sde::detail {

/// x [B, D] contiguous in T (float or double); alpha, sigma float64 of length 1 (one time for
/// the batch) or B; means, eigenvalues (the diagonals) [K, D] and log_weights [K] contiguous in T.
/// Returns [B, D].
torch::Tensor diagonal_mixture_score(const torch::Tensor& x, const torch::Tensor& alpha, const torch::Tensor& sigma,
                                     const torch::Tensor& means, const torch::Tensor& eigenvalues,
                                     const torch::Tensor& log_weights);

}  // namespace sde::detail
