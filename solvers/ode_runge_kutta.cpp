// The probability-flow ODE under Boost.Odeint's explicit Runge–Kutta methods, registered as
// ode-dopri5 and ode-cash-karp (adaptive, under the shared step-size controller) and ode-rk4 (on the
// time grid). The stepper that runs them is the engine's RungeKutta (sde/solve/runge_kutta.hpp),
// which the likelihood's integrator uses too.
#include "sde/solve/registration.hpp"
#include "sde/solve/runge_kutta.hpp"

namespace sde {

namespace {

struct OdeSolverOptions {
  SharedStepOptions control;
};

SolverEntry adaptive_ode_solver(OdeMethod method, const std::string& summary) {
  using O = OdeSolverOptions;
  return solver_entry<O>("ode-" + ode_method_name(method), summary,
                         shared_control_fields<O>([](O& o) -> SharedStepOptions& { return o.control; }),
                         [method](const std::string& name, const O& ode) {
                           SolverControl control;
                           control.kind = SolverControl::Kind::kSharedSteps;
                           control.shared = ode.control;
                           return std::make_unique<StepperSampler>(name, std::make_unique<RungeKutta>(method), control);
                         },
      Steps::kAdaptive);
}

}  // namespace

SolverEntry dopri5_solver() {
  return adaptive_ode_solver(OdeMethod::kDopri5, "probability-flow ODE, Dormand–Prince 5(4) with step control "
                                                 "(Boost.Odeint); ignores --steps");
}

SolverEntry cash_karp_solver() {
  return adaptive_ode_solver(OdeMethod::kCashKarp, "probability-flow ODE, Cash–Karp 5(4) with step control "
                                                   "(Boost.Odeint); ignores --steps");
}

SolverEntry rk4_solver() {
  return solver_entry<NoOptions>(
      "ode-rk4", "probability-flow ODE, classical Runge–Kutta 4 on the time grid (4 NFE per step)", {},
      [](const std::string& name, const NoOptions&) {
        return std::make_unique<StepperSampler>(name, std::make_unique<RungeKutta>(OdeMethod::kRk4));
      });
}

}  // namespace sde
