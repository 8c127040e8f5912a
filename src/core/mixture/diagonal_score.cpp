#include "core/mixture/diagonal_score.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace sde::detail {
namespace {

constexpr double kLog2Pi = 1.8378770664093454836;  // log(2 pi)
constexpr int64_t kBlock = 128;                    // samples per block: a block's numbers stay in L1

// The constants of one time t: a mu_k, 1 / var_k and the log-normaliser
// log w_k - 1/2 (log det var_k + D log 2 pi), computed in float64 and stored in T. The same
// function serves a batch at one time and samples at their own times, so a sample's numbers do
// not depend on whether its batch shares its time.
template <typename T>
void time_terms(double a, double s, const T* mu, const T* lam, const T* log_w, int64_t k, int64_t d, T* alpha_mean,
                T* inverse_var, T* log_norm, int64_t stride) {
  for (int64_t i = 0; i < k; ++i) {
    // log det as the log of products of variances: one log per ~16 coordinates, not per coordinate.
    double log_det = 0, product = 1;
    for (int64_t j = 0; j < d; ++j) {
      const double var = a * a * double(lam[i * d + j]) + s * s;
      alpha_mean[(i * d + j) * stride] = T(a * double(mu[i * d + j]));
      inverse_var[(i * d + j) * stride] = T(1.0 / var);
      product *= var;
      if (product < 1e-150 || product > 1e150) {
        log_det += std::log(product);
        product = 1;
      }
    }
    log_norm[i * stride] = T(double(log_w[i]) - 0.5 * (log_det + std::log(product) + double(d) * kLog2Pi));
  }
}

// What a block of n samples needs: its coordinates as [D, n] and its time terms, either one set
// for the whole batch (stride 0 in the loops below) or one per sample ([K * D, n] and [K, n]).
template <typename T>
struct Block {
  std::vector<T> xt, alpha_mean, inverse_var, log_norm, acc;
  Block(int64_t k, int64_t d, bool per_sample)
      : xt(kBlock * d),
        alpha_mean(per_sample ? kBlock * k * d : 0),
        inverse_var(per_sample ? kBlock * k * d : 0),
        log_norm(per_sample ? kBlock * k : 0),
        acc(kBlock) {}
};

struct Problem {
  int64_t k, d;
  const double *alpha, *sigma;  // one, or one per sample
  bool per_sample;
};

template <typename T>
struct Constants {
  const T *mu, *lam, *log_w;
  // The batch's terms when it has one time.
  std::vector<T> alpha_mean, inverse_var, log_norm;
};

// Gathers samples [b0, b0 + n) into the block: coordinates transposed, per-sample terms.
template <typename T>
void load(const T* x, int64_t b0, int64_t n, const Problem& p, const Constants<T>& c, Block<T>& blk) {
  for (int64_t b = 0; b < n; ++b)
    for (int64_t j = 0; j < p.d; ++j) blk.xt[j * n + b] = x[(b0 + b) * p.d + j];
  if (p.per_sample)
    for (int64_t b = 0; b < n; ++b)
      time_terms(p.alpha[b0 + b], p.sigma[b0 + b], c.mu, c.lam, c.log_w, p.k, p.d, blk.alpha_mean.data() + b,
                 blk.inverse_var.data() + b, blk.log_norm.data() + b, n);
}

// The terms of component i, coordinate j for the block's samples: pointers with stride 1 over
// the samples, or 0 (one value for all). The stride is a template argument so that the loops over
// a batch at one time read their terms once, as scalars; the arithmetic is the same either way.
template <typename T>
struct Terms {
  const T *alpha_mean, *inverse_var;
};
template <bool PerSample, typename T>
Terms<T> terms_of(const Problem& p, const Constants<T>& c, const Block<T>& blk, int64_t n, int64_t i, int64_t j) {
  if (PerSample) return {blk.alpha_mean.data() + (i * p.d + j) * n, blk.inverse_var.data() + (i * p.d + j) * n};
  return {c.alpha_mean.data() + i * p.d + j, c.inverse_var.data() + i * p.d + j};
}

// Pass 1: shifted[i, b] = log w_i + log N_i(x_b) - max over the components (0 when that is
// infinite, as LibTorch's softmax), for a block; `shifted` is the block's [K, n] slice.
template <bool PerSample, typename T>
void log_joint(const T* x, int64_t b0, int64_t n, const Problem& p, const Constants<T>& c, Block<T>& blk, T* shifted) {
  constexpr int64_t step = PerSample ? 1 : 0;
  load(x, b0, n, p, c, blk);
  for (int64_t i = 0; i < p.k; ++i) {
    T* lj = shifted + i * n;
    std::fill(blk.acc.begin(), blk.acc.begin() + n, T(0));
    for (int64_t j = 0; j < p.d; ++j) {
      const Terms<T> t = terms_of<PerSample>(p, c, blk, n, i, j);
      const T* xj = blk.xt.data() + j * n;
      for (int64_t b = 0; b < n; ++b) {
        const T diff = xj[b] - t.alpha_mean[b * step];
        blk.acc[b] += diff * diff * t.inverse_var[b * step];
      }
    }
    const T* norm = PerSample ? blk.log_norm.data() + i * n : c.log_norm.data() + i;
    for (int64_t b = 0; b < n; ++b) lj[b] = norm[b * step] - T(0.5) * blk.acc[b];
  }
  std::fill(blk.acc.begin(), blk.acc.begin() + n, -std::numeric_limits<T>::infinity());
  for (int64_t i = 0; i < p.k; ++i)
    for (int64_t b = 0; b < n; ++b) blk.acc[b] = std::max(blk.acc[b], shifted[i * n + b]);
  for (int64_t b = 0; b < n; ++b)
    if (std::isinf(blk.acc[b])) blk.acc[b] = 0;
  for (int64_t i = 0; i < p.k; ++i)
    for (int64_t b = 0; b < n; ++b) shifted[i * n + b] -= blk.acc[b];
}

// Pass 2, given e = exp(shifted): s_j = -sum_i (e_i / sum e) (x_j - a mu_ij) / var_ij, as rows.
template <bool PerSample, typename T>
void score(const T* x, int64_t b0, int64_t n, const Problem& p, const Constants<T>& c, Block<T>& blk, T* e, T* out) {
  constexpr int64_t step = PerSample ? 1 : 0;
  load(x, b0, n, p, c, blk);
  std::fill(blk.acc.begin(), blk.acc.begin() + n, T(0));
  for (int64_t i = 0; i < p.k; ++i)
    for (int64_t b = 0; b < n; ++b) blk.acc[b] += e[i * n + b];
  for (int64_t i = 0; i < p.k; ++i)
    for (int64_t b = 0; b < n; ++b) e[i * n + b] /= blk.acc[b];
  for (int64_t j = 0; j < p.d; ++j) {
    const T* xj = blk.xt.data() + j * n;
    std::fill(blk.acc.begin(), blk.acc.begin() + n, T(0));
    for (int64_t i = 0; i < p.k; ++i) {
      const Terms<T> t = terms_of<PerSample>(p, c, blk, n, i, j);
      const T* r = e + i * n;
      for (int64_t b = 0; b < n; ++b) blk.acc[b] -= r[b] * (xj[b] - t.alpha_mean[b * step]) * t.inverse_var[b * step];
    }
    for (int64_t b = 0; b < n; ++b) out[(b0 + b) * p.d + j] = blk.acc[b];
  }
}

}  // namespace

torch::Tensor diagonal_mixture_score(const torch::Tensor& x, const torch::Tensor& alpha, const torch::Tensor& sigma,
                                     const torch::Tensor& means, const torch::Tensor& eigenvalues,
                                     const torch::Tensor& log_weights) {
  const int64_t batch = x.size(0), d = x.size(1), k = means.size(0);
  const auto a = alpha.contiguous(), s = sigma.contiguous();
  const Problem p{k, d, a.data_ptr<double>(), s.data_ptr<double>(), a.numel() > 1};
  torch::Tensor out = torch::empty_like(x);
  // Block after block of K x n exponents: the exponentials between the two passes are LibTorch's
  // (vectorised and elementwise, so the same in any batch), ~10x faster than one exp call each.
  torch::Tensor e = torch::empty({batch * k}, x.options());
  const int64_t blocks = (batch + kBlock - 1) / kBlock;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "diagonal_mixture_score", [&] {
    Constants<scalar_t> c{means.data_ptr<scalar_t>(), eigenvalues.data_ptr<scalar_t>(),
                          log_weights.data_ptr<scalar_t>(), {}, {}, {}};
    if (!p.per_sample) {
      c.alpha_mean.resize(k * d);
      c.inverse_var.resize(k * d);
      c.log_norm.resize(k);
      time_terms(p.alpha[0], p.sigma[0], c.mu, c.lam, c.log_w, k, d, c.alpha_mean.data(), c.inverse_var.data(),
                 c.log_norm.data(), 1);
    }
    const scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* ep = e.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    // Blocks are independent: any split over threads gives the same numbers.
    const auto for_each_block = [&](const auto& pass) {
      at::parallel_for(0, blocks, 4, [&](int64_t first, int64_t last) {
        Block<scalar_t> blk(k, d, p.per_sample);
        for (int64_t block = first; block < last; ++block) {
          const int64_t b0 = block * kBlock;
          pass(b0, std::min(kBlock, batch - b0), blk);
        }
      });
    };
    for_each_block([&](int64_t b0, int64_t n, Block<scalar_t>& blk) {
      p.per_sample ? log_joint<true>(xp, b0, n, p, c, blk, ep + b0 * k)
                   : log_joint<false>(xp, b0, n, p, c, blk, ep + b0 * k);
    });
    e.exp_();
    for_each_block([&](int64_t b0, int64_t n, Block<scalar_t>& blk) {
      p.per_sample ? score<true>(xp, b0, n, p, c, blk, ep + b0 * k, op)
                   : score<false>(xp, b0, n, p, c, blk, ep + b0 * k, op);
    });
  });
  return out;
}

}  // namespace sde::detail
