// Denoising score matching (Vincent 2011; Song et al. 2021, eq. 7): the training objective of
// score models, here as a function of the model, the data and the noise the caller drew.
#pragma once

#include <torch/types.h>

#include "sde/forward_sde.hpp"
#include "sde/score_model.hpp"

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
/// loss's minimum, which tests/unit/losses_test.cpp checks against the closed form.
torch::Tensor dsm_loss(const Sde& sde, const ScoreModel& model, const torch::Tensor& x0, const torch::Tensor& t,
                       const torch::Tensor& z, const DsmOptions& options = {});

}  // namespace sde
