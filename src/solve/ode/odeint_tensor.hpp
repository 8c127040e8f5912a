// torch::Tensor as a Boost.Odeint state (with vector_space_algebra). Private to the library: it
// brings in Boost, which the installed headers do not need.
//
// The one trap (measured: error 9e-6 in 106 steps instead of 6.6e-10 in 8): Odeint copies
// states with copy_impl, whose default is plain assignment. For tensors that shares storage, and
// an in-place right-hand side then corrupts Odeint's saved stages silently. copy_impl here deep-copies; a unit test pins it.
#pragma once

#include <torch/types.h>

#include <array>

#include <boost/numeric/odeint/algebra/default_operations.hpp>
#include <boost/numeric/odeint/algebra/vector_space_algebra.hpp>
#include <boost/numeric/odeint/util/copy.hpp>
#include <boost/numeric/odeint/util/is_resizeable.hpp>
#include <boost/numeric/odeint/util/resize.hpp>
#include <boost/numeric/odeint/util/same_size.hpp>

#include "solve/ode/fused_kernels.hpp"

namespace boost::numeric::odeint {

template <>
struct is_resizeable<torch::Tensor> {
  typedef boost::true_type type;
  static const bool value = type::value;
};

template <>
struct same_size_impl<torch::Tensor, torch::Tensor> {
  static bool same_size(const torch::Tensor& a, const torch::Tensor& b) {
    return a.defined() && b.defined() && a.sizes() == b.sizes() && a.dtype() == b.dtype() &&
           a.device() == b.device();
  }
};

template <>
struct resize_impl<torch::Tensor, torch::Tensor> {
  static void resize(torch::Tensor& to, const torch::Tensor& like) { to = torch::empty_like(like); }
};

template <>
struct copy_impl<torch::Tensor, torch::Tensor> {
  static void copy(const torch::Tensor& from, torch::Tensor& to) {
    if (to.defined() && to.sizes() == from.sizes() && to.dtype() == from.dtype() && !to.is_same(from))
      to.copy_(from);  // into Odeint's own buffer
    else
      to = from.clone();  // never an alias of the caller's tensor
  }
};

}  // namespace boost::numeric::odeint

namespace sde::detail {

/// out = sum_i a_i t_i in one pass where fused_linear_combination applies; otherwise as one
/// multiply and N - 1 fused multiply-adds, into out's own buffer when it has one that no input
/// shares (Odeint's default operations build every product and partial sum as a new tensor:
/// 2N - 1 passes and as many allocations per stage).
template <size_t N>
void linear_combination(torch::Tensor& out, const std::array<double, N>& a, const std::array<const torch::Tensor*, N>& t) {
  if (fused_linear_combination(out, a.data(), t.data(), N)) return;
  const torch::Tensor& first = *t[0];
  bool fresh = !out.defined() || out.sizes() != first.sizes() || out.scalar_type() != first.scalar_type();
  for (const torch::Tensor* input : t) fresh = fresh || out.is_same(*input);
  torch::Tensor result = fresh        ? first.mul(a[0])
                         : a[0] == 1.0 ? out.copy_(first)  // the usual first term: x itself
                                       : at::mul_out(out, first, torch::scalar_tensor(a[0], torch::kFloat64));
  for (size_t i = 1; i < N; ++i)
    if (a[i] != 0) result.add_(*t[i], a[i]);
  if (fresh) out = std::move(result);
}

template <size_t N>
struct FusedScaleSum {
  std::array<double, N> a;
  typedef void result_type;
  template <class Out, class... In>
  void operator()(Out& out, const In&... in) const {
    static_assert(sizeof...(In) == N, "one factor per input");
    linear_combination<N>(out, a, {&in...});
  }
};

/// Odeint's operations for tensor states: the scale sums the Runge–Kutta steppers use, fused.
/// Everything else (error operations we do not use) comes from default_operations.
struct TensorOperations : boost::numeric::odeint::default_operations {
  template <class F1 = double>
  struct scale_sum1 : FusedScaleSum<1> {
    scale_sum1(F1 a1) : FusedScaleSum<1>{{double(a1)}} {}
  };
  template <class F1 = double, class F2 = F1>
  struct scale_sum2 : FusedScaleSum<2> {
    scale_sum2(F1 a1, F2 a2) : FusedScaleSum<2>{{double(a1), double(a2)}} {}
  };
  template <class F1 = double, class F2 = F1, class F3 = F2>
  struct scale_sum3 : FusedScaleSum<3> {
    scale_sum3(F1 a1, F2 a2, F3 a3) : FusedScaleSum<3>{{double(a1), double(a2), double(a3)}} {}
  };
  template <class F1 = double, class F2 = F1, class F3 = F2, class F4 = F3>
  struct scale_sum4 : FusedScaleSum<4> {
    scale_sum4(F1 a1, F2 a2, F3 a3, F4 a4) : FusedScaleSum<4>{{double(a1), double(a2), double(a3), double(a4)}} {}
  };
  template <class F1 = double, class F2 = F1, class F3 = F2, class F4 = F3, class F5 = F4>
  struct scale_sum5 : FusedScaleSum<5> {
    scale_sum5(F1 a1, F2 a2, F3 a3, F4 a4, F5 a5)
        : FusedScaleSum<5>{{double(a1), double(a2), double(a3), double(a4), double(a5)}} {}
  };
  template <class F1 = double, class F2 = F1, class F3 = F2, class F4 = F3, class F5 = F4, class F6 = F5>
  struct scale_sum6 : FusedScaleSum<6> {
    scale_sum6(F1 a1, F2 a2, F3 a3, F4 a4, F5 a5, F6 a6)
        : FusedScaleSum<6>{{double(a1), double(a2), double(a3), double(a4), double(a5), double(a6)}} {}
  };
  template <class F1 = double, class F2 = F1, class F3 = F2, class F4 = F3, class F5 = F4, class F6 = F5, class F7 = F6>
  struct scale_sum7 : FusedScaleSum<7> {
    scale_sum7(F1 a1, F2 a2, F3 a3, F4 a4, F5 a5, F6 a6, F7 a7)
        : FusedScaleSum<7>{{double(a1), double(a2), double(a3), double(a4), double(a5), double(a6), double(a7)}} {}
  };
};

}  // namespace sde::detail
