#include "sde/solvers/sde_adaptive.hpp"

#include "sde/reverse_sde.hpp"

namespace sde {

torch::Tensor SdeAdaptivePair::first_stage(ReverseSde& reverse, const torch::Tensor& x,
                                           const torch::Tensor& t) const {
  return reverse.drift(x, t);
}

namespace {

// The stochastic Heun step: x' = x - h b(x,t) + g(t) sqrt(h) z, kept (x' + x - h b(x',s) + g(s) sqrt(h) z) / 2.
EmbeddedPair::Solutions stochastic_heun(ReverseSde& reverse, const torch::Tensor& x, const torch::Tensor& b_t,
                                        const torch::Tensor& t, const torch::Tensor& s, const torch::Tensor& z) {
  const Sde& sde = reverse.sde();
  const torch::Tensor h = t - s, root_h = h.sqrt(), minus_h = per_sample(-h, x);
  torch::Tensor euler = x.addcmul(minus_h, b_t).addcmul_(per_sample(sde.diffusion(t) * root_h, x), z);
  torch::Tensor heun = x.addcmul(minus_h, reverse.drift(euler, s))
                           .addcmul_(per_sample(sde.diffusion(s) * root_h, x), z)
                           .add_(euler)
                           .mul_(0.5);
  return {std::move(euler), std::move(heun)};
}

}  // namespace

EmbeddedPair::Solutions SdeAdaptivePair::attempt(ReverseSde& reverse, const torch::Tensor& x,
                                                 const torch::Tensor& first, const torch::Tensor& t,
                                                 const torch::Tensor& s, const torch::Tensor& z) const {
  if (estimate_ == SdeErrorEstimate::kPaper) return stochastic_heun(reverse, x, first, t, s, z);
  // The same pair on the noise-free path (z = 0).
  const torch::Tensor minus_h = per_sample(s - t, x);
  torch::Tensor euler = x.addcmul(minus_h, first);
  torch::Tensor heun = x.addcmul(minus_h, reverse.drift(euler, s)).add_(euler).mul_(0.5);
  return {std::move(euler), std::move(heun)};
}

torch::Tensor SdeAdaptivePair::advance(ReverseSde& reverse, const torch::Tensor& x, const torch::Tensor& first,
                                       const torch::Tensor& t, const torch::Tensor& s, const torch::Tensor& z,
                                       const torch::Tensor& higher) const {
  if (estimate_ == SdeErrorEstimate::kPaper) return higher;
  return stochastic_heun(reverse, x, first, t, s, z).higher;
}

}  // namespace sde
