// torch::Tensor as a Boost.Odeint state (with vector_space_algebra). Private to the library: it
// brings in Boost, which the installed headers do not need.
//
// The one trap (measured, see ../shared/TOOLCHAIN.md): Odeint copies states with copy_impl, whose
// default is plain assignment. For tensors that shares storage, and an in-place right-hand side
// then corrupts Odeint's saved stages silently. copy_impl here deep-copies; a unit test pins it.
#pragma once

#include <torch/types.h>

#include <boost/numeric/odeint/algebra/vector_space_algebra.hpp>
#include <boost/numeric/odeint/util/copy.hpp>
#include <boost/numeric/odeint/util/is_resizeable.hpp>
#include <boost/numeric/odeint/util/resize.hpp>
#include <boost/numeric/odeint/util/same_size.hpp>

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

template <>
struct vector_space_norm_inf<torch::Tensor> {
  typedef double result_type;
  double operator()(const torch::Tensor& x) const { return x.abs().max().item<double>(); }
};

}  // namespace boost::numeric::odeint
