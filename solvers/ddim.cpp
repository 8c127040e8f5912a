#include "sde/solvers/ddim.hpp"

#include <cmath>

#include "sde/errors.hpp"

namespace sde {

Ddim::Ddim(double eta) : eta_(eta) {
  SDE_CHECK(std::isfinite(eta) && eta >= 0 && eta <= 1, "ddim: eta = ", eta,
            " must lie in [0, 1] (0: deterministic DDIM, 1: ancestral)");
}

void Ddim::step(ReverseSde& reverse, torch::Tensor& x, double t, double s, const torch::Tensor& z,
                StepMemory&) const {
  const Sde& sde = reverse.sde();
  const double alpha_t = sde.alpha(t), sigma_t = sde.sigma(t);
  const double alpha_s = sde.alpha(s), sigma_s = sde.sigma(s);
  const double h = sde.log_snr(s) - sde.log_snr(t);
  const double c = eta_ * sigma_s * std::sqrt(-std::expm1(-2.0 * h));
  const double keep = std::sqrt(std::max(sigma_s * sigma_s - c * c, 0.0));
  const torch::Tensor x0 = reverse.denoise(x, t);
  // x_s = alpha_s x0 + keep (x - alpha_t x0) / sigma_t + c z
  x.mul_(keep / sigma_t).add_(x0, alpha_s - keep * alpha_t / sigma_t);
  if (c > 0) x.add_(z, c);
}

}  // namespace sde
