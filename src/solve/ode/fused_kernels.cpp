#include "solve/ode/fused_kernels.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace sde::detail {

namespace {

// LibTorch's own grain for elementwise work: below it one thread does the job.
constexpr int64_t kGrain = 32768;

bool plain(const torch::Tensor& t, const torch::Tensor& like) {
  return t.defined() && t.device().is_cpu() && t.is_contiguous() && !t.requires_grad() &&
         t.scalar_type() == like.scalar_type() && t.sizes() == like.sizes();
}

bool plain_type(const torch::Tensor& t) {
  return t.defined() && (t.scalar_type() == torch::kFloat32 || t.scalar_type() == torch::kFloat64);
}

// Overlapping but not identical storage would let a write reach a later read.
bool partly_overlaps(const torch::Tensor& a, const torch::Tensor& b) {
  const auto* pa = static_cast<const char*>(a.data_ptr());
  const auto* pb = static_cast<const char*>(b.data_ptr());
  if (pa == pb) return false;
  const size_t bytes_a = a.numel() * a.element_size(), bytes_b = b.numel() * b.element_size();
  return pa < pb + bytes_b && pb < pa + bytes_a;
}

// AVX2 code for the loops below where the processor has it (LibTorch's own kernels dispatch to it
// at run time; without it these loops are slower than LibTorch's). No FMA: the products are
// rounded as LibTorch rounds them, and the result does not depend on the machine.
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2")
#define SDE_FUSED_AVX2 1
#endif

constexpr int64_t kBlock = 512;

// buffer[i] = sum_k a[k] src[k][start + i], added left to right.
template <class T, size_t... K>
inline void block_sum(T* __restrict buffer, const T* const* src, const T* a, int64_t start, int64_t len,
                      std::index_sequence<K...>) {
  for (int64_t i = 0; i < len; ++i) buffer[i] = (... + (a[K] * src[K][start + i]));
}

// Each block is summed into a local buffer and then stored: the buffer aliases nothing, so the
// compiler vectorizes the sum, and `out` may be one of the inputs.
template <class T, size_t N>
void combine(T* out, const std::array<const T*, N>& in, const std::array<T, N>& a, int64_t begin, int64_t end) {
  alignas(64) T buffer[kBlock];
  for (int64_t start = begin; start < end; start += kBlock) {
    const int64_t len = std::min(kBlock, end - start);
    block_sum(buffer, in.data(), a.data(), start, len, std::make_index_sequence<N>());
    for (int64_t i = 0; i < len; ++i) out[start + i] = buffer[i];
  }
}

// What the norms need from err / (atol + rtol |x|) over some rows: the sum of its squares, the
// largest per-row sum of squares, the largest square.
struct SquareSums {
  double total = 0, largest_row = 0, largest = 0;
};

// Over rows [begin, end) of `width` entries each. The quotients are formed in T, as LibTorch would;
// the sums in double. `total` is NaN exactly when an entry is.
template <class T>
SquareSums row_norms(const T* err, const T* x, T atol, T rtol, int64_t width, int64_t begin, int64_t end) {
  alignas(64) T q[kBlock];
  SquareSums out;
  double row_sum = 0;  // of the current row so far, over its first `column` entries
  int64_t column = 0;
  for (int64_t first = begin * width; first < end * width; first += kBlock) {
    const int64_t len = std::min(kBlock, end * width - first);
    for (int64_t i = 0; i < len; ++i) {
      const T v = err[first + i] / (atol + rtol * std::abs(x[first + i]));
      q[i] = v * v;
    }
    for (int64_t i = 0; i < len; ++i) {
      row_sum += double(q[i]);
      out.largest = std::max(out.largest, double(q[i]));
      if (++column == width) {
        out.total += row_sum;
        out.largest_row = std::max(out.largest_row, row_sum);
        row_sum = 0;
        column = 0;
      }
    }
  }
  return out;
}

#ifdef SDE_FUSED_AVX2
#pragma GCC pop_options
#endif

bool vector_unit_ready() {
#ifdef SDE_FUSED_AVX2
  static const bool ready = __builtin_cpu_supports("avx2");
  return ready;
#else
  return true;
#endif
}

template <class T, size_t N>
void combine_all(torch::Tensor& out, const double* a, const torch::Tensor* const* in) {
  std::array<const T*, N> src;
  std::array<T, N> coeff;
  for (size_t k = 0; k < N; ++k) {
    src[k] = in[k]->data_ptr<T>();
    coeff[k] = T(a[k]);
  }
  T* dst = out.data_ptr<T>();
  at::parallel_for(0, out.numel(), kGrain, [&](int64_t begin, int64_t end) { combine<T, N>(dst, src, coeff, begin, end); });
}

template <class T>
void combine_typed(torch::Tensor& out, const double* a, const torch::Tensor* const* in, size_t n) {
  switch (n) {
    case 1: return combine_all<T, 1>(out, a, in);
    case 2: return combine_all<T, 2>(out, a, in);
    case 3: return combine_all<T, 3>(out, a, in);
    case 4: return combine_all<T, 4>(out, a, in);
    case 5: return combine_all<T, 5>(out, a, in);
    case 6: return combine_all<T, 6>(out, a, in);
    case 7: return combine_all<T, 7>(out, a, in);
    default: return combine_all<T, 8>(out, a, in);
  }
}

// Rows are taken in chunks fixed by the shape alone and the chunks' sums added in order, so the
// result does not depend on the number of threads.
template <class T>
SquareSums all_row_norms(const torch::Tensor& err, const torch::Tensor& x, double atol, double rtol) {
  const int64_t rows = err.size(0), width = err.numel() / rows;
  const int64_t chunk = std::max<int64_t>(1, kGrain / 2 / width), chunks = (rows + chunk - 1) / chunk;
  std::vector<SquareSums> parts(chunks);
  const T* e = err.data_ptr<T>();
  const T* s = x.data_ptr<T>();
  at::parallel_for(0, chunks, 2, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c)
      parts[c] = row_norms<T>(e, s, T(atol), T(rtol), width, c * chunk, std::min(rows, (c + 1) * chunk));
  });
  SquareSums all;
  for (const SquareSums& part : parts) {
    all.total += part.total;
    all.largest_row = std::max(all.largest_row, part.largest_row);
    all.largest = std::max(all.largest, part.largest);
  }
  return all;
}

}  // namespace

bool fused_linear_combination(torch::Tensor& out, const double* a, const torch::Tensor* const* in, size_t n) {
  if (!vector_unit_ready() || n < 1 || n > 8 || !plain_type(*in[0])) return false;
  for (size_t k = 0; k < n; ++k)
    if (!plain(*in[k], *in[0])) return false;
  if (!plain(out, *in[0])) out = torch::empty_like(*in[0], torch::MemoryFormat::Contiguous);
  for (size_t k = 0; k < n; ++k)
    if (partly_overlaps(out, *in[k])) return false;
  if (in[0]->scalar_type() == torch::kFloat32) combine_typed<float>(out, a, in, n);
  else combine_typed<double>(out, a, in, n);
  return true;
}

bool fused_scaled_error_norm(double& result, const torch::Tensor& err, const torch::Tensor& x, double atol,
                             double rtol, OdeErrorNorm norm) {
  if (!vector_unit_ready() || !plain_type(err) || err.dim() < 1 || !plain(err, err) || !plain(x, err) ||
      err.numel() == 0)
    return false;
  const SquareSums sums = err.scalar_type() == torch::kFloat32 ? all_row_norms<float>(err, x, atol, rtol)
                                                                 : all_row_norms<double>(err, x, atol, rtol);
  const double width = double(err.numel()) / double(err.size(0));
  if (std::isnan(sums.total)) result = sums.total;
  else if (norm == OdeErrorNorm::kMax) result = std::sqrt(sums.largest);
  else if (norm == OdeErrorNorm::kBatchRms) result = std::sqrt(sums.total / double(err.numel()));
  else result = std::sqrt(sums.largest_row / width);
  return true;
}

}  // namespace sde::detail
