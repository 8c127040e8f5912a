#include "sde/solvers/heun.hpp"

namespace sde {

void Heun::step(ReverseSde& reverse, torch::Tensor& x, double t, double s, const torch::Tensor&,
                StepMemory&) const {
  const Sde& sde = reverse.sde();
  const double alpha_t = sde.alpha(t), alpha_s = sde.alpha(s);
  const double sig_t = sde.sigma(t) / alpha_t, sig_s = sde.sigma(s) / alpha_s;  // sigma~
  const double delta = sig_s - sig_t;
  // Written back in x = alpha x~, the two stages are linear combinations of x and the data
  // predictions, so each is a few fused passes without temporaries:
  //   x' = alpha_s [(1 + delta / sig_t) x / alpha_t - (delta / sig_t) D_t]
  //   x_s = alpha_s [(1 + delta / (2 sig_t)) x / alpha_t - delta / (2 sig_t) D_t
  //                  + delta / (2 sig_s) x' / alpha_s - delta / (2 sig_s) D_s]
  const torch::Tensor d_t = reverse.denoise(x, t);
  const torch::Tensor x_euler = (x * (alpha_s * (1.0 + delta / sig_t) / alpha_t)).add_(d_t, -alpha_s * delta / sig_t);
  const torch::Tensor d_s = reverse.denoise(x_euler, s);
  const double half = 0.5 * delta;
  x.mul_(alpha_s * (1.0 + half / sig_t) / alpha_t)
      .add_(d_t, -alpha_s * half / sig_t)
      .add_(x_euler, half / sig_s)
      .add_(d_s, -alpha_s * half / sig_s);
}

}  // namespace sde
