#include "sde/solvers/heun.hpp"

namespace sde {

void Heun::step(ReverseSde& reverse, torch::Tensor& x, double t, double s, const torch::Tensor&,
                StepMemory&) const {
  const Sde& sde = reverse.sde();
  const double alpha_t = sde.alpha(t), alpha_s = sde.alpha(s);
  const double sig_t = sde.sigma(t) / alpha_t, sig_s = sde.sigma(s) / alpha_s;  // sigma~
  const torch::Tensor xt = x / alpha_t;                                            // x~
  const torch::Tensor d1 = (xt - reverse.denoise(x, t)) / sig_t;
  const torch::Tensor xs = xt + d1 * (sig_s - sig_t);
  const torch::Tensor d2 = (xs - reverse.denoise(xs * alpha_s, s)) / sig_s;
  x = (xt + (d1 + d2) * (0.5 * (sig_s - sig_t))).mul_(alpha_s);
}

}  // namespace sde
