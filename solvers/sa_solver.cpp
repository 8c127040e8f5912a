// SA-Solver (Xue, Yi, Zhao, Li, Liu & Ma 2023, "SA-Solver: Stochastic Adams Solver for Fast
// Sampling of Diffusion Models", Alg. 1, data prediction): a stochastic Adams predictor and
// corrector on the variance-controlled reverse SDE. Registered as sa-solver.

#include <algorithm>
#include <cmath>

#include "exponential_integrator.hpp"
#include "gauss_legendre.hpp"
#include "sde/core/errors.hpp"
#include "sde/solve/registration.hpp"
#include "sde/solve/stepper.hpp"

namespace sde {

struct SaSolverOptions {
  double tau = 1.0;                ///< stochasticity: 0 the ODE, 1 the reverse SDE
  int64_t predictor_order = 3;     ///< Adams–Bashforth points of the predictor (1-4)
  int64_t corrector_order = 4;     ///< Adams–Moulton points of the corrector, the new one included (0: none, 1-4)
  int64_t lower_order_final = 10;  ///< lower-order final steps when N < this (0: never)
  /// Throws unless tau >= 0, 1 <= predictor_order <= 4, 0 <= corrector_order <= 4 and
  /// lower_order_final >= 0.
  void validate() const;
};

/// With eta = tau^2, h = lambda_s - lambda_t and the data prediction D(lambda) replaced by the
/// Lagrange polynomial through some of its values D_j at log-SNRs lambda_j:
///   x_s = (sigma_s / sigma_t) e^{-eta h} x_t + alpha_s sum_j b_j D_j + sigma_s sqrt(1 - e^{-2 eta h}) z,
///   b_j = int_{lambda_t}^{lambda_s} (1 + eta) e^{-(1 + eta)(lambda_s - lambda)} l_j(lambda) d lambda,
/// (the linear part and the noise exact; tau = 0 is the deterministic exponential Adams method,
/// and order 1 with tau = 1 is DDIM with eta = 1). The predictor uses the newest
/// predictor_order points up to t; at the next grid time the call that step needs anyway gives
/// D_s, and the corrector redoes the step with the corrector_order points up to s, with the same
/// z. The b_j are integrated numerically (16-node Gauss–Legendre; one point: in closed form).
/// Orders at step k: min(order, k + 1), and at most N - k when N < lower_order_final. A point at
/// log-SNR -inf (flow's T = 1) never enters a polynomial and its step is not corrected.
struct SaSolverState {
  DataHistory history;
  torch::Tensor previous_x, previous_noise;  ///< x at the previous grid time and that step's z
  double previous_t = 0;
};

class SaSolver final : public StepperWith<SaSolverState> {
 public:
  explicit SaSolver(SaSolverOptions options);
  StepperTraits traits() const override;

 protected:
  SaSolverState init_state(const SolveProblem&, const torch::Tensor&) const override { return {}; }
  StepOutcome step_with(const SolveProblem& problem, const StepInput& in, SaSolverState& state) const override;

 private:
  SaSolverOptions options_;
};

namespace {

using Points = std::vector<std::pair<torch::Tensor, double>>;  // (D_j, lambda_j)

// One stochastic Adams update from (x, t) to s through `points` (see the header); z may be
// undefined when eta = 0.
torch::Tensor adams_update(const Sde& sde, double eta, const torch::Tensor& x, double t, double s, const Points& points,
                           const torch::Tensor& z) {
  const double lambda_t = sde.log_snr(t), lambda_s = sde.log_snr(s), h = lambda_s - lambda_t, c = 1.0 + eta;
  const double alpha_s = sde.alpha(s), sigma_s = sde.sigma(s);
  torch::Tensor out = x * (sigma_s / sde.sigma(t) * (eta > 0 ? std::exp(-eta * h) : 1.0));
  std::vector<double> lambdas;
  for (const auto& p : points) lambdas.push_back(p.second);
  for (size_t j = 0; j < points.size(); ++j) {
    const double b = points.size() == 1 ? -std::expm1(-c * h)  // int of the weight alone, exact
                                        : detail::integrate(lambda_t, lambda_s, [&](double lambda) {
                                            return c * std::exp(-c * (lambda_s - lambda)) * detail::lagrange_basis(lambdas, j, lambda);
                                          });
    out.add_(points[j].first, alpha_s * b);
  }
  if (eta > 0) out.add_(z, sigma_s * std::sqrt(-std::expm1(-2.0 * eta * h)));
  return out;
}

}  // namespace

void SaSolverOptions::validate() const {
  SDE_CHECK(std::isfinite(tau) && tau >= 0, "sa-solver: tau = ", tau, " must be >= 0 (0: the ODE, 1: the reverse SDE)");
  SDE_CHECK(predictor_order >= 1 && predictor_order <= 4, "sa-solver: predictor_order = ", predictor_order, " must be 1-4");
  SDE_CHECK(corrector_order >= 0 && corrector_order <= 4, "sa-solver: corrector_order = ", corrector_order,
            " must be 0-4 (0: no corrector)");
  SDE_CHECK(lower_order_final >= 0, "sa-solver: lower_order_final = ", lower_order_final, " must be >= 0 (0: never)");
}

SaSolver::SaSolver(SaSolverOptions options) : options_(options) { options_.validate(); }

StepperTraits SaSolver::traits() const {
  StepperTraits traits;
  traits.order = int(std::max(options_.predictor_order, options_.corrector_order));
  traits.zero_signal_start = true;
  return traits;
}

StepOutcome SaSolver::step_with(const SolveProblem& problem, const StepInput& in, SaSolverState& state) const {
  const ReverseSde& reverse = problem.reverse();
  const Sde& sde = reverse.sde();
  const double t = in.times.t, s = in.times.s, lambda_t = sde.log_snr(t), eta = options_.tau * options_.tau;
  const int64_t k = in.times.index, steps = in.times.steps;
  const torch::Tensor d = reverse.denoise(in.x, t);
  DataHistory& history = state.history;
  // The newest `count` stored points with a finite log-SNR, oldest first.
  const auto stored = [&](int64_t count) {
    Points points;
    for (size_t i = history.data.size(); i-- > 0 && int64_t(points.size()) < count;)
      if (std::isfinite(history.log_snr[i])) points.insert(points.begin(), {history.data[i], history.log_snr[i]});
    return points;
  };
  torch::Tensor x = in.x;
  if (options_.corrector_order > 0 && state.previous_x.defined() && std::isfinite(history.log_snr.back())) {
    Points points = stored(options_.corrector_order - 1);  // up to the previous time, then D_t
    points.push_back({d, lambda_t});
    x = adams_update(sde, eta, state.previous_x, state.previous_t, t, points, state.previous_noise);
  }
  history.push(d, lambda_t, size_t(std::max(options_.predictor_order, options_.corrector_order)));
  const int64_t order = multistep_order(options_.predictor_order, k, steps, options_.lower_order_final);
  const Points points = std::isfinite(lambda_t) ? stored(order) : Points{{d, lambda_t}};
  state.previous_x = x;
  state.previous_t = t;
  state.previous_noise = eta > 0 ? in.noise() : torch::Tensor();
  return {adams_update(sde, eta, x, t, s, points, state.previous_noise)};
}

SolverEntry sa_solver_solver() {
  using O = SaSolverOptions;
  return solver_entry<O>(
      "sa-solver", "SA-Solver: stochastic Adams predictor-corrector, exact linear part and noise (Xue et al. 2023; 1 NFE per step)",
      {number_option<O>("tau", [](O& o) -> double& { return o.tau; }, "stochasticity: 0 the ODE, 1 the reverse SDE"),
       integer_option<O>("predictor_order", [](O& o) -> int64_t& { return o.predictor_order; }, "1-4"),
       integer_option<O>("corrector_order", [](O& o) -> int64_t& { return o.corrector_order; }, "0 (none) to 4"),
       lower_order_final_option<O>()},
      [](const std::string& name, const O& p) {
        return std::make_unique<StepperSampler>(name, std::make_unique<SaSolver>(p));
      });
}

}  // namespace sde
