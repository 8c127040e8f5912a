#include "sde/nn/losses.hpp"

#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {

namespace {

// Sum or mean over each sample's entries.
torch::Tensor reduce_entries(const torch::Tensor& squares, bool reduce_mean) {
  const torch::Tensor flat = squares.reshape({squares.size(0), -1});
  return reduce_mean ? flat.mean(1) : flat.sum(1);
}

void check_discrete_inputs(const char* loss, int64_t n, const torch::Tensor& x0, const torch::Tensor& labels,
                           const torch::Tensor& z) {
  SDE_CHECK(x0.dim() >= 2, loss, ": x0 must have shape [B, ...], got ", x0.sizes());
  SDE_CHECK(z.sizes() == x0.sizes(), loss, ": the noise has shape ", z.sizes(), ", the data ", x0.sizes(),
            "; they must agree");
  SDE_CHECK(labels.dim() == 1 && labels.size(0) == x0.size(0) && !labels.is_floating_point(), loss,
            ": labels must be integer step indices of shape [", x0.size(0), "], got ", labels.sizes(), " ",
            labels.scalar_type());
  SDE_CHECK(labels.numel() == 0 || (labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < n), loss,
            ": labels must lie in [0, ", n, ")");
}

}  // namespace

torch::Tensor dsm_loss(const Sde& sde, const ScoreModel& model, const torch::Tensor& x0, const torch::Tensor& t,
                       const torch::Tensor& z, const DsmOptions& options, const Condition& condition) {
  check_score_inputs(model, x0, t);
  SDE_CHECK(z.sizes() == x0.sizes(), "dsm_loss: the noise has shape ", z.sizes(), ", the data ", x0.sizes(),
            "; they must agree");
  const torch::Tensor sigma = per_sample(sde.sigma(t), x0);
  const torch::Tensor x_t = per_sample(sde.alpha(t), x0) * x0 + sigma * z;
  // sigma s + z = sigma (s - grad log p(x_t | x_0)): the sigma^2-weighted residual, well scaled at
  // every t; the likelihood weighting multiplies its square by g^2 / sigma^2.
  const torch::Tensor score = condition.empty() ? model.score(x_t, t) : model.conditional_score(x_t, t, condition);
  const torch::Tensor residual = score * sigma + z;
  torch::Tensor loss = reduce_entries(residual.square(), options.reduce_mean);
  if (options.likelihood_weighting) {
    const torch::Tensor g = sde.diffusion(t).to(loss.dtype()), s = sde.sigma(t).to(loss.dtype());
    loss = loss * (g * g / (s * s));
  }
  return loss;
}

DdpmSchedule DdpmSchedule::of(const LinearBeta& beta, int64_t n) {
  beta.validate();
  SDE_CHECK(n >= 2, "a DDPM schedule needs n >= 2 steps, got ", n);
  const double nn = double(n);
  const torch::Tensor betas = torch::linspace(beta.beta_min / nn, beta.beta_max / nn, n, torch::kFloat64);
  const torch::Tensor alpha_bar = (1.0 - betas).cumprod(0);
  return {alpha_bar.sqrt(), (1.0 - alpha_bar).sqrt()};
}

torch::Tensor ddpm_loss(const Network& eps_net, const DdpmSchedule& schedule, const torch::Tensor& x0,
                        const torch::Tensor& labels, const torch::Tensor& z, bool reduce_mean) {
  check_discrete_inputs("ddpm_loss", schedule.sqrt_alpha_bar.size(0), x0, labels, z);
  const torch::Tensor a = per_sample(schedule.sqrt_alpha_bar.index_select(0, labels).to(x0.dtype()), x0);
  const torch::Tensor s = per_sample(schedule.sqrt_one_minus_alpha_bar.index_select(0, labels).to(x0.dtype()), x0);
  const torch::Tensor eps = eps_net(a * x0 + s * z, labels.to(x0.dtype()));
  SDE_CHECK(eps.sizes() == x0.sizes(), "ddpm_loss: the network returned ", eps.sizes(), " for x of shape ",
            x0.sizes());
  return reduce_entries((eps - z).square(), reduce_mean);
}

torch::Tensor smld_sigmas(const VeSchedule& ve, int64_t n) {
  ve.validate();
  SDE_CHECK(n >= 2, "SMLD needs n >= 2 noise levels, got ", n);
  return torch::linspace(std::log(ve.sigma_max), std::log(ve.sigma_min), n, torch::kFloat64).exp();
}

torch::Tensor smld_loss(const Network& score_net, const torch::Tensor& sigmas, const torch::Tensor& x0,
                        const torch::Tensor& labels, const torch::Tensor& z, bool reduce_mean) {
  check_discrete_inputs("smld_loss", sigmas.size(0), x0, labels, z);
  const torch::Tensor sigma = per_sample(sigmas.index_select(0, labels).to(x0.dtype()), x0);
  const torch::Tensor score = score_net(x0 + sigma * z, labels.to(x0.dtype()));
  SDE_CHECK(score.sizes() == x0.sizes(), "smld_loss: the network returned ", score.sizes(), " for x of shape ",
            x0.sizes());
  // sigma^2 || s + z / sigma ||^2 = || sigma s + z ||^2
  return reduce_entries((score * sigma + z).square(), reduce_mean);
}

}  // namespace sde
