#include "sde/solvers/dpmpp_2s.hpp"

#include <cmath>

namespace sde {

void DpmSolverPP2S::step(ReverseSde& reverse, torch::Tensor& x, double t, double s,
                         const torch::Tensor&, StepMemory&) const {
  const Sde& sde = reverse.sde();
  const double lambda_t = sde.log_snr(t), h = sde.log_snr(s) - lambda_t;
  const double u = sde.time_at_log_snr(lambda_t + 0.5 * h);
  const torch::Tensor dt = reverse.denoise(x, t);
  const torch::Tensor xu = (x * (sde.sigma(u) / sde.sigma(t))).add_(dt, -sde.alpha(u) * std::expm1(-0.5 * h));
  const torch::Tensor du = reverse.denoise(xu, u);
  x.mul_(sde.sigma(s) / sde.sigma(t)).add_(du, -sde.alpha(s) * std::expm1(-h));
}

}  // namespace sde
