#include "sde/solvers/ancestral.hpp"

namespace sde {

void Ancestral::step(ReverseSde& reverse, torch::Tensor& x, double t, double s,
                     const torch::Tensor& z, StepMemory&) const {
  const Sde& sde = reverse.sde();
  const Transition tr = sde.transition(s, t);
  const torch::Tensor score = reverse.score(x, t);
  const double noise_std = sde.sigma(s) * tr.std / sde.sigma(t);
  x.add_(score, tr.std * tr.std).div_(tr.mean_coef).add_(z, noise_std);
}

}  // namespace sde
