#include "annealed_langevin_corrector.hpp"

#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {

AnnealedLangevinCorrector::AnnealedLangevinCorrector(double snr, int64_t n_steps)
    : snr_(snr), n_steps_(n_steps) {
  SDE_CHECK(std::isfinite(snr) && snr > 0, "ald corrector: snr = ", snr, " must be > 0");
  SDE_CHECK(n_steps >= 1, "ald corrector: corrector_steps = ", n_steps, " must be >= 1");
}

void AnnealedLangevinCorrector::correct(const ReverseSde& reverse, torch::Tensor& x, double t, double s,
                                        const std::function<torch::Tensor(int64_t)>& noise) const {
  const Sde& sde = reverse.sde();
  const double ratio = sde.transition(s, t).mean_coef;
  const double noise_scale = snr_ * sde.sigma(t);
  const double e = 2.0 * ratio * ratio * noise_scale * noise_scale;
  for (int64_t j = 0; j < n_steps_; ++j) {
    const torch::Tensor grad = reverse.score(x, t);
    x.add_(grad, e).add_(noise(j), std::sqrt(2.0 * e));
  }
}

}  // namespace sde
