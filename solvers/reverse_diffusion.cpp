#include "sde/solvers/reverse_diffusion.hpp"

namespace sde {

void ReverseDiffusion::step(ReverseSde& reverse, torch::Tensor& x, double t, double s,
                            const torch::Tensor& z, StepMemory&) const {
  const Transition tr = reverse.sde().transition(s, t);
  const torch::Tensor score = reverse.score(x, t);
  x.mul_(2.0 - tr.mean_coef).add_(score, tr.std * tr.std).add_(z, tr.std);
}

}  // namespace sde
