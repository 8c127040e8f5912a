#include "sde/ode_integrator.hpp"

#include <cmath>

#include <boost/numeric/odeint/stepper/controlled_runge_kutta.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta4.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_cash_karp54.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_dopri5.hpp>

#include "ode/odeint_tensor.hpp"
#include "sde/errors.hpp"

namespace sde {

void OdeOptions::validate() const {
  SDE_CHECK(method == "dopri5" || method == "cash-karp" || method == "rk4", "ODE method '", method,
            "' is not one of: dopri5, cash-karp, rk4");
  SDE_CHECK(std::isfinite(rtol) && rtol > 0, "ODE option rtol = ", rtol, " must be finite and > 0");
  SDE_CHECK(std::isfinite(atol) && atol > 0, "ODE option atol = ", atol, " must be finite and > 0");
  SDE_CHECK(std::isfinite(h_init) && h_init > 0 && h_init <= 1, "ODE option h_init = ", h_init,
            " must lie in (0, 1] (a fraction of the interval)");
  SDE_CHECK(max_steps >= 1, "ODE option max_steps = ", max_steps, " must be >= 1");
}

namespace {

namespace odeint = boost::numeric::odeint;
using Algebra = odeint::vector_space_algebra;
using Dopri5 = odeint::runge_kutta_dopri5<torch::Tensor, double, torch::Tensor, double, Algebra>;
using CashKarp = odeint::runge_kutta_cash_karp54<torch::Tensor, double, torch::Tensor, double, Algebra>;
using Rk4 = odeint::runge_kutta4<torch::Tensor, double, torch::Tensor, double, Algebra>;

// Odeint's error-checker interface with our two norms (its own computes the max norm entrywise
// through the algebra; this does it in a few tensor operations).
class ScaledErrorChecker {
 public:
  typedef double value_type;
  typedef Algebra algebra_type;
  typedef odeint::default_operations operations_type;

  ScaledErrorChecker(double atol = 1e-6, double rtol = 1e-6, OdeErrorNorm norm = OdeErrorNorm::kMax)
      : atol_(atol), rtol_(rtol), norm_(norm) {}

  template <class State, class Deriv, class Err, class Time>
  double error(algebra_type&, const State& x_old, const Deriv&, Err& x_err, Time) const {
    const torch::Tensor scaled = x_err.abs().div_(x_old.abs().mul(rtol_).add_(atol_));
    if (norm_ == OdeErrorNorm::kMax) return scaled.max().item<double>();
    if (norm_ == OdeErrorNorm::kBatchRms) return scaled.square().mean().sqrt().item<double>();
    const double entries = double(scaled.numel() / std::max<int64_t>(scaled.size(0), 1));
    return per_sample_squared_norm(scaled).div_(entries).sqrt_().max().item<double>();
  }
  template <class State, class Deriv, class Err, class Time>
  double error(const State& x_old, const Deriv& dxdt, Err& x_err, Time dt) const {
    algebra_type algebra;
    return error(algebra, x_old, dxdt, x_err, dt);
  }

 private:
  double atol_, rtol_;
  OdeErrorNorm norm_;
};

template <class Stepper>
OdeSolution run_controlled(const OdeRhs& rhs, torch::Tensor x, double t0, double t1, const OdeOptions& o) {
  odeint::controlled_runge_kutta<Stepper, ScaledErrorChecker> stepper(ScaledErrorChecker(o.atol, o.rtol, o.norm));
  auto system = [&rhs](const torch::Tensor& state, torch::Tensor& dxdt, double t) { rhs(state, dxdt, t); };
  OdeSolution solution;
  const double direction = t1 > t0 ? 1.0 : -1.0;
  double t = t0, dt = o.h_init * (t1 - t0);
  while (direction * (t1 - t) > 0) {
    if (solution.accepted + solution.rejected == o.max_steps) {
      solution.status = SampleStatus::kStepLimit;
      solution.message = detail::concat("no end after max_steps = ", o.max_steps, " steps (", solution.accepted,
                                        " accepted), at t = ", t, " on the way from ", t0, " to ", t1,
                                        "; raise max_steps or loosen rtol/atol");
      break;
    }
    // The last step is cut to end at t1 exactly, so F is never evaluated beyond it.
    const bool last = direction * (t + dt - t1) >= 0;
    if (last) dt = t1 - t;
    if (stepper.try_step(system, x, t, dt) != odeint::success) {
      ++solution.rejected;
      continue;
    }
    ++solution.accepted;
    if (last) t = t1;
    if (!all_finite(x)) {
      solution.status = SampleStatus::kNonFinite;
      solution.message = detail::concat("the state became non-finite at step ", solution.accepted, " (t = ", t, ")");
      break;
    }
  }
  solution.x = std::move(x);
  return solution;
}

}  // namespace

OdeSolution integrate_adaptive(const OdeRhs& rhs, const torch::Tensor& x, double t0, double t1,
                               const OdeOptions& options) {
  options.validate();
  SDE_CHECK(std::isfinite(t0) && std::isfinite(t1) && t0 != t1, "ODE integration needs finite t0 != t1, got ",
            t0, " and ", t1);
  SDE_CHECK(x.dim() >= 1, "an ODE state must have shape [B, ...], got ", x.sizes());
  if (options.method == "dopri5") return run_controlled<Dopri5>(rhs, x.clone(), t0, t1, options);
  SDE_CHECK(options.method == "cash-karp", "ODE method '", options.method,
            "' has fixed steps; use integrate_fixed");
  return run_controlled<CashKarp>(rhs, x.clone(), t0, t1, options);
}

OdeSolution integrate_fixed(const OdeRhs& rhs, const torch::Tensor& x, const std::vector<double>& times) {
  SDE_CHECK(times.size() >= 2, "fixed-step ODE integration needs at least two times, got ", times.size());
  Rk4 stepper;
  auto system = [&rhs](const torch::Tensor& state, torch::Tensor& dxdt, double t) { rhs(state, dxdt, t); };
  OdeSolution solution;
  solution.x = x.clone();
  for (size_t k = 0; k + 1 < times.size(); ++k) {
    stepper.do_step(system, solution.x, times[k], times[k + 1] - times[k]);
    ++solution.accepted;
    if (!all_finite(solution.x)) {
      solution.status = SampleStatus::kNonFinite;
      solution.message = detail::concat("the state became non-finite at step ", k + 1, " of ", times.size() - 1,
                                        " (t = ", times[k + 1], ")");
      break;
    }
  }
  return solution;
}

}  // namespace sde
