#include "sde/solve/probability_flow.hpp"

#include "sde/core/errors.hpp"

namespace sde {
namespace {

// Integrates the probability flow from t0 to t1 and packs the outcome as a SampleResult.
SampleResult flow(const Sde& sde, const ScoreModel& model, const torch::Tensor& x, double t0, double t1,
                  const OdeOptions& ode, const Condition& condition, const std::string& what) {
  check_score_inputs(model, x, torch::zeros({x.size(0)}, x.options()));
  SDE_CHECK(std::isfinite(t0) && std::isfinite(t1) && t0 > 0 && t1 > 0 && t0 <= sde.t_max() && t1 <= sde.t_max(),
            what, ": times must lie in (0, T]; got ", t0, " and ", t1);
  SDE_CHECK(all_finite(x), what, ": the input contains NaN or infinite values");
  const ReverseSde reverse(sde, model, condition.for_range({0, x.size(0)}));
  const OdeRhs drift = [&reverse](const torch::Tensor& state, torch::Tensor& dxdt, double t) {
    dxdt = reverse.probability_flow_drift(state, t);
  };
  const OdeSolution solution = integrate_adaptive(drift, x, t0, t1, ode);
  SampleResult result;
  result.samples = solution.x;
  result.status = solution.status;
  if (!solution.ok()) result.message = what + ": " + solution.message;
  result.nfe = solution.nfe;
  result.nfe_mean = double(result.nfe);
  result.accepted_steps = double(solution.accepted);
  result.rejected_steps = double(solution.rejected);
  return result;
}

}  // namespace

SampleResult encode(const Sde& sde, const ScoreModel& model, const torch::Tensor& x, double eps,
                    const OdeOptions& ode, const Condition& condition) {
  return flow(sde, model, x, eps, sde.t_max(), ode, condition, "encode");
}

SampleResult decode(const Sde& sde, const ScoreModel& model, const torch::Tensor& z, double eps,
                    const OdeOptions& ode, const Condition& condition) {
  return flow(sde, model, z, sde.t_max(), eps, ode, condition, "decode");
}

}  // namespace sde
