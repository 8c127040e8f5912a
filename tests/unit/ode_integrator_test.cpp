// Boost.Odeint with tensor states: the deep-copy pin, the methods' accuracy on dx/dt = -x, and the
// failure statuses.
#include "testing.hpp"

#include <boost/numeric/odeint/stepper/runge_kutta_dopri5.hpp>

#include "ode/odeint_tensor.hpp"
#include "sde/errors.hpp"
#include "sde/ode_integrator.hpp"
#include "sde/random.hpp"

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
      options.method = method;
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
  CHECK(limited.status == sde::SampleStatus::kStepLimit);
  CHECK(limited.message.find("no end after max_steps = 3 steps") != std::string::npos);
  const sde::OdeRhs blow_up = [](const torch::Tensor& x, torch::Tensor& dxdt, double t) {
    dxdt = t > 0.5 ? torch::full_like(x, INFINITY) : x.clone();
  };
  const auto broken = sde::integrate_adaptive(blow_up, x0, 0.0, 1.0, sde::OdeOptions{});
  CHECK(broken.status == sde::SampleStatus::kNonFinite);
  CHECK(broken.message.find("non-finite at step") != std::string::npos);
  sde::OdeOptions bad;
  bad.method = "euler";
  CHECK_THROWS_WITH_AS(sde::integrate_adaptive(kDecay, x0, 0.0, 1.0, bad),
                       doctest::Contains("ODE method 'euler' is not one of: dopri5, cash-karp, rk4"), sde::InvalidArgument);
}
