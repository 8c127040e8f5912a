// One-pass loops for the arithmetic an embedded Runge–Kutta step does between right-hand sides.
//
// Why: at the sizes the samplers run (batch 20000, D = 2: 40000 entries) one LibTorch operation
// costs ~4 us whatever it computes, and a Dormand–Prince step does ~45 of them (six stage sums of
// 2-7 terms, the error estimate, the scaled norm). Fused, each stage sum and the norm is one pass
// over memory with no temporaries. Private to the library.
//
// Every function returns false (and touches nothing) where the loop does not apply: a tensor not
// on the CPU, not contiguous, not float or double, needing gradients, or of another shape or type.
// The callers then take LibTorch's path, which computes the same thing.
#pragma once

#include <torch/types.h>

#include <cstddef>

#include "sde/solve/shared_step_control.hpp"

namespace sde::detail {

/// out = sum_k a[k] * in[k] entrywise, k < n (1 <= n <= 8). `out` may be one of the inputs
/// (entrywise aliasing is fine); it is (re)allocated when it does not match in[0].
bool fused_linear_combination(torch::Tensor& out, const double* a, const torch::Tensor* const* in, size_t n);

/// The norm of err / (atol + rtol |x|) by `norm`, without forming the quotient; NaN when any entry
/// of it is NaN. The per-sample sums are added in a fixed order: the result does not depend on the
/// number of threads.
bool fused_scaled_error_norm(double& result, const torch::Tensor& err, const torch::Tensor& x, double atol,
                             double rtol, OdeErrorNorm norm);

}  // namespace sde::detail
