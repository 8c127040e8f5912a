#include "langevin_corrector.hpp"

#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {
namespace {

// Euclidean norm of each sample: [B, ...] -> [B].
torch::Tensor per_sample_norm(const torch::Tensor& v) { return per_sample_squared_norm(v).sqrt_(); }

}  // namespace

LangevinCorrector::LangevinCorrector(double snr, int64_t n_steps, bool batch_mean)
    : snr_(snr), n_steps_(n_steps), batch_mean_(batch_mean) {
  SDE_CHECK(std::isfinite(snr) && snr > 0, "langevin corrector: snr = ", snr,
            " must be > 0 (the reference uses 0.16 for VE, 0.01-0.17 for VP)");
  SDE_CHECK(n_steps >= 1, "langevin corrector: corrector_steps = ", n_steps, " must be >= 1");
}

void LangevinCorrector::correct(const ReverseSde& reverse, torch::Tensor& x, double t, double s,
                                const std::function<torch::Tensor(int64_t)>& noise) const {
  const double ratio = reverse.sde().transition(s, t).mean_coef;
  const double a = ratio * ratio;
  for (int64_t j = 0; j < n_steps_; ++j) {
    const torch::Tensor grad = reverse.score(x, t);
    const torch::Tensor z = noise(j);
    torch::Tensor grad_norm = per_sample_norm(grad), noise_norm = per_sample_norm(z);
    if (batch_mean_) {
      grad_norm = grad_norm.mean();
      noise_norm = noise_norm.mean();
    }
    // A zero score (x at a mode) would divide by zero: take no Langevin step there.
    const torch::Tensor step = (snr_ * noise_norm / grad_norm).square_().mul_(2.0 * a).nan_to_num_(0.0, 0.0, 0.0);
    if (batch_mean_) {
      const double e = step.item<double>();
      x.add_(grad, e).add_(z, std::sqrt(2.0 * e));
    } else {
      x.addcmul_(per_sample(step, x), grad).addcmul_(per_sample(step.mul(2.0).sqrt_(), x), z);
    }
  }
}

}  // namespace sde
