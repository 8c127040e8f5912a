// Boost.Odeint with tensor states: the deep-copy pin, the fused stage sums and error norm against
// LibTorch's arithmetic, the methods' accuracy on dx/dt = -x, and the failure statuses.
#include "testing.hpp"

#include <ATen/Parallel.h>
#include <boost/numeric/odeint/stepper/runge_kutta_dopri5.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "solve/ode/fused_kernels.hpp"
#include "solve/ode/odeint_tensor.hpp"
#include "sde/core/errors.hpp"
#include "sde/solve/ode_integrator.hpp"
#include "sde/core/random.hpp"

namespace {

// dx/dt = -x, written in place into Odeint's derivative buffer when it has one: the kind of
// right-hand side that a shallow copy_impl silently breaks.
const sde::OdeRhs kDecay = [](const torch::Tensor& x, torch::Tensor& dxdt, double) {
  if (dxdt.defined() && dxdt.sizes() == x.sizes()) dxdt.copy_(x).neg_();
  else dxdt = -x;
};

}  // namespace

TEST_CASE("Odeint's copies of tensor states never share storage") {
  const auto a = sde::NoiseStream(1).normal({0, 4}, {3}, 0, torch::kFloat64);
  torch::Tensor b;
  boost::numeric::odeint::copy(a, b);
  CHECK(torch::equal(a, b));
  CHECK_FALSE(b.is_same(a));
  CHECK(b.data_ptr() != a.data_ptr());
  torch::Tensor c = torch::zeros_like(a);
  const void* buffer = c.data_ptr();
  boost::numeric::odeint::copy(a, c);
  CHECK(c.data_ptr() == buffer);  // into the existing buffer
  c.add_(1.0);
  CHECK(torch::equal(b, a));  // writing one copy leaves the other alone
}

TEST_CASE("fused stage sums equal LibTorch's, in place too, and decline what they cannot do") {
  for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
    CAPTURE(dtype);
    // 40000 entries: more than one thread's grain, and not a multiple of the block.
    std::vector<torch::Tensor> in;
    for (uint32_t k = 0; k < 8; ++k) in.push_back(sde::NoiseStream(2).normal({0, 20000}, {2}, k, dtype));
    const std::vector<double> a = {1.0, -0.3, 0.25, 1e-3, -2.0, 0.5, 0.125, 3.0};
    // Rounding: float sums of 8 terms of size ~1 agree to a few float ulps; double to 1e-15.
    const double tol = dtype == torch::kFloat32 ? 1e-5 : 1e-13;
    for (const size_t n : {1, 2, 5, 7, 8}) {
      CAPTURE(n);
      torch::Tensor expected = in[0].to(torch::kFloat64) * a[0];
      for (size_t k = 1; k < n; ++k) expected += in[k].to(torch::kFloat64) * a[k];
      std::vector<const torch::Tensor*> ptr;
      for (size_t k = 0; k < n; ++k) ptr.push_back(&in[k]);
      torch::Tensor out;  // undefined: allocated
      REQUIRE(sde::detail::fused_linear_combination(out, a.data(), ptr.data(), n));
      CHECK(bool(out.scalar_type() == dtype));
      CHECK((out.to(torch::kFloat64) - expected).abs().max().item<double>() < tol);
      // Into one of its own inputs (Odeint's x = x + h sum b_i k_i), with the input read first.
      torch::Tensor alias = in[n - 1].clone();
      std::vector<const torch::Tensor*> aliased = ptr;
      aliased[n - 1] = &alias;
      REQUIRE(sde::detail::fused_linear_combination(alias, a.data(), aliased.data(), n));
      CHECK((alias.to(torch::kFloat64) - expected).abs().max().item<double>() < tol);
    }
  }
  const auto x = sde::NoiseStream(3).normal({0, 6}, {2}, 0, torch::kFloat64);
  const double a[2] = {1.0, 2.0};
  torch::Tensor out;
  const torch::Tensor transposed = x.t(), needs_grad = x.clone().requires_grad_(true), floats = x.to(torch::kFloat32);
  for (const torch::Tensor* other : {&transposed, &needs_grad, &floats}) {
    const torch::Tensor* ptr[2] = {&x, other};
    CHECK_FALSE(sde::detail::fused_linear_combination(out, a, ptr, 2));
  }
  // The Odeint operation takes LibTorch's path then, with the same result.
  torch::Tensor via_odeint;
  sde::detail::TensorOperations::scale_sum2<>(1.0, 2.0)(via_odeint, x, needs_grad.detach().t().t());
  CHECK(torch::allclose(via_odeint, x * 3.0, 1e-15, 0));
}

TEST_CASE("the fused scaled error norm equals LibTorch's, carries NaN, and ignores the thread count") {
  using sde::OdeErrorNorm;
  const double atol = 1e-4, rtol = 1e-3;
  for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
    for (const int64_t width : {1, 2, 700}) {  // 700: a row wider than a block comes in parts
      CAPTURE(dtype);
      CAPTURE(width);
      const int64_t rows = 40000 / width;
      const auto err = sde::NoiseStream(4).normal({0, rows}, {width}, 0, dtype) * 1e-3;
      const auto x = sde::NoiseStream(4).normal({0, rows}, {width}, 1, dtype);
      const auto q = (err.to(torch::kFloat64) / (x.to(torch::kFloat64).abs() * rtol + atol)).square();
      const std::vector<std::pair<OdeErrorNorm, double>> expected = {
          {OdeErrorNorm::kMax, q.max().sqrt().item<double>()},
          {OdeErrorNorm::kBatchRms, q.mean().sqrt().item<double>()},
          {OdeErrorNorm::kPerSampleRms, (q.sum(1).max() / double(width)).sqrt().item<double>()}};
      for (const auto& [norm, value] : expected) {
        CAPTURE(int(norm));
        double fused = 0;
        REQUIRE(sde::detail::fused_scaled_error_norm(fused, err, x, atol, rtol, norm));
        CHECK(std::abs(fused / value - 1) < (dtype == torch::kFloat32 ? 1e-5 : 1e-12));
        // Same number, bit for bit, on one thread and on two.
        const int threads = at::get_num_threads();
        at::set_num_threads(threads == 1 ? 2 : 1);
        double other = 0;
        sde::detail::fused_scaled_error_norm(other, err, x, atol, rtol, norm);
        at::set_num_threads(threads);
        CHECK(other == fused);
      }
    }
  }
  auto err = torch::full({5, 2}, 1e-6, torch::kFloat64);
  const auto x = torch::ones({5, 2}, torch::kFloat64);
  double value = 0;
  for (const auto norm : {OdeErrorNorm::kMax, OdeErrorNorm::kBatchRms, OdeErrorNorm::kPerSampleRms}) {
    err[3][1] = std::numeric_limits<double>::quiet_NaN();
    REQUIRE(sde::detail::fused_scaled_error_norm(value, err, x, atol, rtol, norm));
    CHECK(std::isnan(value));
    err[3][1] = std::numeric_limits<double>::infinity();
    REQUIRE(sde::detail::fused_scaled_error_norm(value, err, x, atol, rtol, norm));
    CHECK(std::isinf(value));
  }
  CHECK_FALSE(sde::detail::fused_scaled_error_norm(value, err.t(), x, atol, rtol, OdeErrorNorm::kMax));
}

TEST_CASE("an in-place right-hand side integrates correctly, and the caller's state is untouched") {
  const auto x0 = torch::full({8, 2}, 1.0, torch::kFloat64);
  sde::OdeOptions options;
  options.rtol = options.atol = 1e-10;
  const auto solution = sde::integrate_adaptive(kDecay, x0, 0.0, 1.0, options);
  REQUIRE(solution.ok());
  // Measured with a shallow copy (TOOLCHAIN.md): error 9e-6 after 106 steps instead of 6.6e-10.
  CHECK((solution.x - std::exp(-1.0)).abs().max().item<double>() < 1e-8);
  CHECK(torch::equal(x0, torch::full({8, 2}, 1.0, torch::kFloat64)));
  CHECK(solution.x.data_ptr() != x0.data_ptr());
}

TEST_CASE("dopri5 and cash-karp meet their tolerance both ways; rk4 converges at order 4") {
  const auto x0 = torch::linspace(-2, 2, 16, torch::kFloat64).reshape({8, 2});
  for (const std::string method : {"dopri5", "cash-karp"}) {
    for (const auto norm : {sde::OdeErrorNorm::kMax, sde::OdeErrorNorm::kPerSampleRms, sde::OdeErrorNorm::kBatchRms}) {
      CAPTURE(method);
      CAPTURE(int(norm));
      sde::OdeOptions options;
      options.method = sde::parse_ode_method(method);
      options.norm = norm;
      options.rtol = options.atol = 1e-7;
      const auto forward = sde::integrate_adaptive(kDecay, x0, 0.0, 2.0, options);
      REQUIRE(forward.ok());
      CHECK((forward.x - x0 * std::exp(-2.0)).abs().max().item<double>() < 1e-5);
      const auto back = sde::integrate_adaptive(kDecay, forward.x, 2.0, 0.0, options);
      REQUIRE(back.ok());
      CHECK((back.x - x0).abs().max().item<double>() < 1e-5);
    }
  }
  std::vector<double> steps, errors;
  for (int n : {4, 8, 16, 32}) {
    std::vector<double> times;
    for (int k = 0; k <= n; ++k) times.push_back(2.0 * k / n);
    const auto solution = sde::integrate_fixed(kDecay, x0, times);
    steps.push_back(n);
    errors.push_back((solution.x - x0 * std::exp(-2.0)).abs().max().item<double>());
  }
  const double order = -sde::testing::log_log_slope(steps, errors);
  CAPTURE(order);
  CHECK(sde::testing::within(order, 4.0, 0.2));
}

TEST_CASE("running out of steps and non-finite states stop with a status") {
  const auto x0 = torch::ones({2, 2}, torch::kFloat64);
  sde::OdeOptions options;
  options.max_steps = 3;
  options.rtol = options.atol = 1e-12;
  const auto limited = sde::integrate_adaptive(kDecay, x0, 0.0, 1.0, options);
  CHECK(limited.status == sde::SolveStatus::kStepLimit);
  CHECK(limited.message.find("no end after max_steps = 3 steps") != std::string::npos);
  const sde::OdeRhs blow_up = [](const torch::Tensor& x, torch::Tensor& dxdt, double t) {
    dxdt = t > 0.5 ? torch::full_like(x, INFINITY) : x.clone();
  };
  const auto broken = sde::integrate_adaptive(blow_up, x0, 0.0, 1.0, sde::OdeOptions{});
  CHECK(broken.status == sde::SolveStatus::kNonFinite);
  CHECK(broken.message.find("non-finite at step") != std::string::npos);
  CHECK_THROWS_WITH_AS(sde::parse_ode_method("euler"),
                       doctest::Contains("ODE method 'euler' is not one of: dopri5, cash-karp, rk4"), sde::InvalidArgument);
}
