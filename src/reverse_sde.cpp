#include "sde/reverse_sde.hpp"

#include <cmath>

namespace sde {

torch::Tensor ReverseSde::score(const torch::Tensor& x, double t) {
  ++nfe_;
  return model_.score(x, torch::full({x.size(0)}, t, x.options()));
}

torch::Tensor ReverseSde::drift_with_weight(const torch::Tensor& x, double t, double score_weight) {
  const double g = sde_.diffusion(t);
  // f(t) x - w g^2 s, as one allocation plus one fused multiply-add.
  return (x * sde_.drift_coef(t)).add_(score(x, t), -score_weight * g * g);
}

torch::Tensor ReverseSde::drift(const torch::Tensor& x, double t) {
  return drift_with_weight(x, t, 1.0);
}

torch::Tensor ReverseSde::probability_flow_drift(const torch::Tensor& x, double t) {
  return drift_with_weight(x, t, 0.5);
}

void ReverseSde::euler_maruyama_step(torch::Tensor& x, double t, double h, const torch::Tensor& z) {
  const double g = sde_.diffusion(t);
  const torch::Tensor s = score(x, t);
  x.mul_(1.0 - sde_.drift_coef(t) * h).add_(s, g * g * h).add_(z, g * std::sqrt(h));
}

torch::Tensor ReverseSde::denoise(const torch::Tensor& x, double t) {
  const double sigma = sde_.sigma(t);
  return x.add(score(x, t), sigma * sigma).div_(sde_.alpha(t));
}

torch::Tensor ReverseSde::score(const torch::Tensor& x, const torch::Tensor& t) {
  ++nfe_;
  return model_.score(x, t.to(x.dtype()));
}

torch::Tensor ReverseSde::drift(const torch::Tensor& x, const torch::Tensor& t) {
  const torch::Tensor g = sde_.diffusion(t);
  return sde_.drift(x, t).sub_(score(x, t) * per_sample(g * g, x));
}

torch::Tensor ReverseSde::denoise(const torch::Tensor& x, const torch::Tensor& t) {
  const torch::Tensor sigma = sde_.sigma(t);
  return x.add(score(x, t) * per_sample(sigma * sigma, x)).div_(per_sample(sde_.alpha(t), x));
}

}  // namespace sde
