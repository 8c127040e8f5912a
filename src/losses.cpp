#include "sde/losses.hpp"

#include "sde/errors.hpp"

namespace sde {

torch::Tensor dsm_loss(const Sde& sde, const ScoreModel& model, const torch::Tensor& x0, const torch::Tensor& t,
                       const torch::Tensor& z, const DsmOptions& options) {
  check_score_inputs(model, x0, t);
  SDE_CHECK(z.sizes() == x0.sizes(), "dsm_loss: the noise has shape ", z.sizes(), ", the data ", x0.sizes(),
            "; they must agree");
  const torch::Tensor sigma = per_sample(sde.sigma(t), x0);
  const torch::Tensor x_t = per_sample(sde.alpha(t), x0) * x0 + sigma * z;
  // sigma s + z = sigma (s - grad log p(x_t | x_0)): the sigma^2-weighted residual, well scaled at
  // every t; the likelihood weighting multiplies its square by g^2 / sigma^2.
  const torch::Tensor residual = model.score(x_t, t) * sigma + z;
  torch::Tensor loss = residual.square().reshape({x0.size(0), -1});
  loss = options.reduce_mean ? loss.mean(1) : loss.sum(1);
  if (options.likelihood_weighting) {
    const torch::Tensor g = sde.diffusion(t).to(loss.dtype()), s = sde.sigma(t).to(loss.dtype());
    loss = loss * (g * g / (s * s));
  }
  return loss;
}

}  // namespace sde
