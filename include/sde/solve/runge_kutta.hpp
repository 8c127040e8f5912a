// Explicit Runge–Kutta methods on dx/dt = F(x, t) (the probability-flow ODE when sampling), with
// Boost.Odeint doing the stage arithmetic on tensor states: Dormand–Prince 5(4) (FSAL), Cash–Karp
// 5(4) and the classical fourth-order method.
#pragma once

#include <memory>
#include <string>

#include "sde/solve/stepper.hpp"

namespace sde {

enum class OdeMethod {
  kDopri5,    ///< Dormand–Prince 5(4), first same as last: 6 evaluations per step (Odeint runge_kutta_dopri5)
  kCashKarp,  ///< Cash–Karp 5(4): 6 evaluations per attempt (Odeint runge_kutta_cash_karp54)
  kRk4,       ///< classical Runge–Kutta 4, no error estimate: 4 evaluations per step
};

/// "dopri5", "cash-karp" or "rk4"; throws naming the value and the choices.
OdeMethod parse_ode_method(const std::string& name);
std::string ode_method_name(OdeMethod method);

struct OdeintStages;  // Odeint's stepper object and its buffers (private: Boost stays in the library)

/// The first stage of the embedded methods is F(x, t), kept across a rejection (and, for dopri5,
/// taken from the previous step's last stage).
class RungeKutta final : public StepperWith<std::shared_ptr<OdeintStages>> {
 public:
  explicit RungeKutta(OdeMethod method) : method_(method) {}
  StepperTraits traits() const override;
  torch::Tensor first_stage(const SolveProblem& problem, const torch::Tensor& x, const StepTimes& times) const override;

 protected:
  std::shared_ptr<OdeintStages> init_state(const SolveProblem&, const torch::Tensor&) const override;
  StepOutcome step_with(const SolveProblem& problem, const StepInput& in,
                        std::shared_ptr<OdeintStages>& stages) const override;

 private:
  OdeMethod method_;
};

}  // namespace sde
