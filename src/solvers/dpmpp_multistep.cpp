#include "sde/solvers/dpmpp_multistep.hpp"
#include "sde/solvers/registration.hpp"

#include <algorithm>
#include <cmath>

#include "sde/errors.hpp"
#include "sde/solvers/exponential_integrator.hpp"

namespace sde {

DpmSolverPPMultistep::DpmSolverPPMultistep(int order) : order_(order) {
  SDE_CHECK(order == 2 || order == 3, "DPM-Solver++ multistep: order = ", order, " must be 2 or 3");
}

StepperTraits DpmSolverPPMultistep::traits() const {
  StepperTraits traits;
  traits.order = order_;
  return traits;
}

StepOutcome DpmSolverPPMultistep::step_with(const SolveProblem& problem, const StepInput& in,
                                            DataHistory& memory) const {
  ReverseSde& reverse = problem.reverse();
  const Sde& sde = reverse.sde();
  const double t = in.times.t, s = in.times.s;
  const int64_t k = in.times.index, steps = in.times.steps;
  const double lambda_t = sde.log_snr(t), h = sde.log_snr(s) - lambda_t;
  int order = std::min<int64_t>(order_, k + 1);
  if (steps < 15) order = std::min<int64_t>(order, steps - k);
  const torch::Tensor d0 = reverse.denoise(in.x, t);
  const ExponentialStep step = exponential_step(sde, t, s, h);
  const double alpha_s = step.alpha_s, phi1 = step.phi1();
  // Every order is x_s = (sigma_s / sigma_t) x + c0 D_0 + c1 D_1 + c2 D_2: the divided differences
  // are folded into scalar coefficients, so a step is one pass per term and no temporaries.
  double c0 = -alpha_s * phi1, c1 = 0, c2 = 0;
  const auto& lam = memory.log_snr;  // lam.back() belongs to D_1, lam[size - 2] to D_2
  if (order == 2) {
    const double r0 = (lambda_t - lam.back()) / h;  // D1_0 = (D_0 - D_1) / r0
    c0 += -0.5 * alpha_s * phi1 / r0;
    c1 = 0.5 * alpha_s * phi1 / r0;
  } else if (order == 3) {
    const double r0 = (lambda_t - lam.back()) / h, r1 = (lam.back() - lam[lam.size() - 2]) / h;
    const double phi2 = phi1 / h + 1.0, phi3 = phi2 / h - 0.5;
    // alpha phi2 D1 - 2 alpha phi3 D2 = u D1_0 - v D1_1 (factor 2: see the header)
    const double a2 = alpha_s * phi2, b2 = -2.0 * alpha_s * phi3, q = 1.0 / (r0 + r1);
    const double v = (a2 * r0 + b2) * q, u = a2 + v;
    c0 += u / r0;
    c1 = -u / r0 - v / r1;
    c2 = v / r1;
  }
  torch::Tensor x = in.x;
  x.mul_(step.sigma_ratio).add_(d0, c0);
  if (c1 != 0) x.add_(memory.data.back(), c1);
  if (c2 != 0) x.add_(memory.data[memory.data.size() - 2], c2);
  memory.data.push_back(d0);
  memory.log_snr.push_back(lambda_t);
  if (int64_t(memory.data.size()) > order_ - 1) {  // keep the order - 1 newest predictions
    memory.data.erase(memory.data.begin());
    memory.log_snr.erase(memory.log_snr.begin());
  }
  return {x};
}

namespace {

SolverEntry multistep_solver(int order) {
  return solver_entry<NoOptions>(
      order == 2 ? "dpmpp-2m" : "dpmpp-3m",
      detail::concat("DPM-Solver++(", order, "M): multistep data prediction (order ", order, ", 1 NFE per step)"), {},
      [order](const std::string& name, const SamplerOptions& o, const NoOptions&) {
        return std::make_unique<StepperSampler>(name, o, std::make_unique<DpmSolverPPMultistep>(order));
      });
}

}  // namespace

SolverEntry dpmpp_2m_solver() { return multistep_solver(2); }
SolverEntry dpmpp_3m_solver() { return multistep_solver(3); }

}  // namespace sde
