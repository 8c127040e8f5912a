#include "sde/solve/runge_kutta.hpp"

#include <boost/numeric/odeint/stepper/runge_kutta4.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_cash_karp54.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_dopri5.hpp>

#include "sde/core/errors.hpp"
#include "solve/ode/odeint_tensor.hpp"

namespace sde {

namespace odeint = boost::numeric::odeint;
using Algebra = odeint::vector_space_algebra;
using Operations = detail::TensorOperations;
using Dopri5 = odeint::runge_kutta_dopri5<torch::Tensor, double, torch::Tensor, double, Algebra, Operations>;
using CashKarp = odeint::runge_kutta_cash_karp54<torch::Tensor, double, torch::Tensor, double, Algebra, Operations>;
using Rk4 = odeint::runge_kutta4<torch::Tensor, double, torch::Tensor, double, Algebra, Operations>;

struct OdeintStages {
  Dopri5 dopri5;
  CashKarp cash_karp;
  Rk4 rk4;
  torch::Tensor error;  // the embedded methods' error estimate, rewritten every attempt
};

OdeMethod parse_ode_method(const std::string& name) {
  if (name == "dopri5") return OdeMethod::kDopri5;
  if (name == "cash-karp") return OdeMethod::kCashKarp;
  if (name == "rk4") return OdeMethod::kRk4;
  throw InvalidArgument("ODE method '" + name + "' is not one of: dopri5, cash-karp, rk4");
}

std::string ode_method_name(OdeMethod method) {
  switch (method) {
    case OdeMethod::kDopri5: return "dopri5";
    case OdeMethod::kCashKarp: return "cash-karp";
    case OdeMethod::kRk4: return "rk4";
  }
  return "?";
}

StepperTraits RungeKutta::traits() const {
  StepperTraits traits;
  traits.order = method_ == OdeMethod::kRk4 ? 4 : 5;
  traits.zero_signal_start = true;  // the probability-flow drift is finite at alpha = 0 (ReverseSde)
  if (method_ != OdeMethod::kRk4) {
    traits.error_estimate = traits.first_stage = true;
    traits.error_order = 4;
    traits.fsal = method_ == OdeMethod::kDopri5;
  }
  return traits;
}

torch::Tensor RungeKutta::first_stage(const SolveProblem& problem, const torch::Tensor& x, const StepTimes& times) const {
  torch::Tensor dxdt;
  problem.field(x, dxdt, times.t);
  return dxdt;
}

std::shared_ptr<OdeintStages> RungeKutta::init_state(const SolveProblem&, const torch::Tensor&) const {
  return std::make_shared<OdeintStages>();
}

StepOutcome RungeKutta::step_with(const SolveProblem& problem, const StepInput& in,
                                  std::shared_ptr<OdeintStages>& stages) const {
  SDE_CHECK(!in.times.per_sample(), ode_method_name(method_), " steps the whole batch at one time; it cannot take "
            "per-sample times");
  const auto system = [&problem](const torch::Tensor& x, torch::Tensor& dxdt, double t) { problem.field(x, dxdt, t); };
  const double t = in.times.t, dt = in.times.s - in.times.t;
  if (method_ == OdeMethod::kRk4) {
    torch::Tensor x = in.x;
    stages->rk4.do_step(system, x, t, dt);
    return {x};
  }
  StepOutcome out;
  out.x = torch::empty_like(in.x);
  if (method_ == OdeMethod::kDopri5) {
    out.next_first = torch::empty_like(in.first);
    stages->dopri5.do_step(system, in.x, in.first, t, out.x, out.next_first, dt, stages->error);
  } else {
    stages->cash_karp.do_step(system, in.x, in.first, t, out.x, dt, stages->error);
  }
  out.error = stages->error;
  return out;
}

}  // namespace sde
