// Denoising score matching (Vincent 2011; Song et al. 2021, eq. 7): the training objective of
// score models, here as a function of the model, the data and the noise the caller drew.
#pragma once

#include <torch/types.h>

#include "sde/core/forward_sde.hpp"
#include "sde/core/parameterized_score.hpp"
#include "sde/core/score_model.hpp"
#include "sde/core/ve_sde.hpp"
#include "sde/core/vp_sde.hpp"

namespace sde {

struct DsmOptions {
  /// Weighting lambda(t) of ||s(x_t, t) - grad log p(x_t | x_0)||^2:
  /// false: lambda = sigma(t)^2, the loss is ||sigma s + z||^2 (Song et al.'s default);
  /// true:  lambda = g(t)^2, the likelihood weighting (Song et al. 2021b), ||s + z / sigma||^2 g^2.
  bool likelihood_weighting = false;
  /// Mean over a sample's entries (true) or their sum (false), as the reference's reduce_mean.
  bool reduce_mean = false;
};

/// Per-sample continuous DSM loss [B] at times t [B] with noise z (x0's shape):
/// x_t = alpha(t) x0 + sigma(t) z, loss_i = lambda(t_i) || s(x_t, t_i) + z_i / sigma(t_i) ||^2
/// (summed or averaged over entries). Differentiable in the model's parameters. With the exact
/// score its expectation at time t is lambda(t) (E||z||^2 / sigma^2 - E||grad log p_t||^2): the
/// loss's minimum, which tests/unit/nn/losses_test.cpp checks against the closed form. Under a
/// condition (one row per sample) the model's conditional score is trained, s(x_t, t | c).
torch::Tensor dsm_loss(const Sde& sde, const ScoreModel& model, const torch::Tensor& x0, const torch::Tensor& t,
                       const torch::Tensor& z, const DsmOptions& options = {}, const Condition& condition = {});

/// DDPM's discrete schedule (Ho et al. 2020) as score_sde builds it for a VP SDE: n betas
/// linspace(beta_min / n, beta_max / n, n), alpha_bar_i = prod_{j <= i} (1 - beta_j). Float64.
struct DdpmSchedule {
  torch::Tensor sqrt_alpha_bar;            ///< [n]
  torch::Tensor sqrt_one_minus_alpha_bar;  ///< [n]
  static DdpmSchedule of(const LinearBeta& beta, int64_t n = 1000);
};

/// Per-sample DDPM loss [B] (Ho et al. 2020; score_sde's get_ddpm_loss_fn): with
/// x_i = sqrt(alpha_bar_i) x0 + sqrt(1 - alpha_bar_i) z, loss = || eps_net(x_i, i) - z ||^2 (summed
/// or averaged over entries). `labels` are step indices [B] in [0, n); the network sees them as
/// floats, i.e. as the `999t` labels of a continuous-time VP model (for n = 1000).
torch::Tensor ddpm_loss(const Network& eps_net, const DdpmSchedule& schedule, const torch::Tensor& x0,
                        const torch::Tensor& labels, const torch::Tensor& z, bool reduce_mean = false);

/// SMLD's noise levels (Song & Ermon 2019) in score_sde's training order: sigma_i =
/// sigma_max (sigma_min / sigma_max)^(i / (n - 1)), i = 0 the largest. Float64 [n].
torch::Tensor smld_sigmas(const VeSchedule& ve, int64_t n = 1000);

/// Per-sample SMLD loss [B] (score_sde's get_smld_loss_fn): with x_i = x0 + sigma_i z,
/// loss = sigma_i^2 || score_net(x_i, i) + z / sigma_i ||^2 (summed or averaged over entries). The
/// network sees the index i; as a continuous-time VE model its label is `smld` (see
/// TimeConditioning).
torch::Tensor smld_loss(const Network& score_net, const torch::Tensor& sigmas, const torch::Tensor& x0,
                        const torch::Tensor& labels, const torch::Tensor& z, bool reduce_mean = false);

}  // namespace sde
