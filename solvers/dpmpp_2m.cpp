#include "sde/solvers/dpmpp_2m.hpp"

#include <cmath>

namespace sde {

void DpmSolverPP2M::step(ReverseSde& reverse, torch::Tensor& x, double t, double s,
                         const torch::Tensor&, StepMemory& memory) const {
  const Sde& sde = reverse.sde();
  const double lambda_t = sde.log_snr(t), lambda_s = sde.log_snr(s);
  const double h = lambda_s - lambda_t;
  const torch::Tensor x0 = reverse.denoise(x, t);
  const bool lower_order_final = memory.steps < 15 && memory.step == memory.steps - 1;
  torch::Tensor d = x0;
  if (!memory.data.empty() && !lower_order_final) {
    const double r = (lambda_t - memory.log_snr.back()) / h;
    d = x0 * (1.0 + 0.5 / r) - memory.data.back() * (0.5 / r);
  }
  x.mul_(sde.sigma(s) / sde.sigma(t)).add_(d, -sde.alpha(s) * std::expm1(-h));
  memory.data = {x0};  // two-step method: only the newest prediction is needed next
  memory.log_snr = {lambda_t};
}

}  // namespace sde
