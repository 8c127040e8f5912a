#include "sde/solve/ode_integrator.hpp"

#include <cmath>

#include "sde/core/errors.hpp"
#include "solve/fixed_grid.hpp"
#include "solve/solve.hpp"

namespace sde {

OdeErrorNorm parse_error_norm(const std::string& name) {
  if (name == "rms") return OdeErrorNorm::kPerSampleRms;
  if (name == "max") return OdeErrorNorm::kMax;
  if (name == "batch-rms") return OdeErrorNorm::kBatchRms;
  throw InvalidArgument("unknown ODE error norm '" + name + "'; known: rms, max, batch-rms");
}

namespace {

OdeSolution solution_of(SolveOutcome o) {
  OdeSolution s;
  s.x = std::move(o.x);
  s.accepted = std::llround(o.accepted);
  s.rejected = std::llround(o.rejected);
  s.nfe = o.nfe;
  s.status = o.status;
  s.message = std::move(o.message);
  return s;
}

}  // namespace

OdeSolution integrate_adaptive(const OdeRhs& rhs, const torch::Tensor& x, double t0, double t1,
                               const OdeOptions& options) {
  SDE_CHECK(options.method != OdeMethod::kRk4, "ODE method 'rk4' has fixed steps; use integrate_fixed");
  SDE_CHECK(std::isfinite(t0) && std::isfinite(t1) && t0 != t1, "ODE integration needs finite t0 != t1, got ",
            t0, " and ", t1);
  SDE_CHECK(x.dim() >= 1, "an ODE state must have shape [B, ...], got ", x.sizes());
  SharedStepControl control(options);
  const RungeKutta stepper(options.method);
  SolveSetup setup;
  setup.range = {0, x.size(0)};
  setup.observer = &options.observer;
  return solution_of(solve(stepper, control, SolveProblem(rhs), x, t0, t1, setup));
}

OdeSolution integrate_fixed(const OdeRhs& rhs, const torch::Tensor& x, const std::vector<double>& times) {
  SDE_CHECK(times.size() >= 2, "fixed-step ODE integration needs at least two times, got ", times.size());
  FixedGrid control(times);
  const RungeKutta stepper(OdeMethod::kRk4);
  return solution_of(solve(stepper, control, SolveProblem(rhs), x, times.front(), times.back()));
}

}  // namespace sde
