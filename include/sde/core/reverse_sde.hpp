// The reverse-time SDE and the probability-flow ODE (Song et al. 2021, eqs. 6 and 13): the one
// place where the forward SDE's f and g meet the score s.
#pragma once

#include <torch/types.h>

#include <functional>

#include "sde/core/forward_sde.hpp"
#include "sde/core/score_model.hpp"

namespace sde {

/// Reverse-time view of a forward SDE with a score model, integrated from T down to eps:
///   dx = [f(x,t) - g(t)^2 s(x,t)] dt + g(t) dw_bar   (reverse SDE)
///   dx/dt = f(x,t) - 1/2 g(t)^2 s(x,t)              (probability-flow ODE)
/// An immutable value: the process, the model, the condition of the samples it concerns, and
/// where its model calls are reported. The solve loop hands each stepper call a view on() the
/// rows it concerns, so a condition follows its samples and every call is counted by the loop,
/// once. The SDE and the model must outlive it.
class ReverseSde {
 public:
  /// c holds one row per sample of the solve (checked against the model here); empty: unconditional.
  ReverseSde(const Sde& sde, const ScoreModel& model, Condition c = {});

  const Sde& sde() const { return *sde_; }
  const ScoreModel& model() const { return *model_; }
  /// The same process and model for the samples `rows` (positions in this view's samples;
  /// undefined: all of them), the condition's rows with them, each model call reported to
  /// `on_call` (the solve loop's counter).
  ReverseSde on(const torch::Tensor& rows, std::function<void()> on_call) const;

  /// s(x, t) with every sample at time t (t is passed to the model in x's dtype).
  torch::Tensor score(const torch::Tensor& x, double t) const;
  /// f(x,t) - g(t)^2 s(x,t): the reverse SDE's drift (one score call).
  torch::Tensor drift(const torch::Tensor& x, double t) const;
  /// g(t), the reverse SDE's diffusion.
  double diffusion(double t) const { return sde_->diffusion(t); }
  /// f(x,t) - 1/2 g(t)^2 s(x,t): the probability-flow drift (one score call). Where alpha(t) = 0
  /// (flow matching at T = 1: f and g are infinite there, the drift is not) it is evaluated in
  /// data-prediction form, (sigma'/sigma) x + (alpha' - alpha sigma'/sigma) x0_hat, with the
  /// model's own data prediction.
  torch::Tensor probability_flow_drift(const torch::Tensor& x, double t) const;
  /// One Euler–Maruyama step of the reverse SDE from t to t - h, in place (one score call):
  ///   x <- x - [f(x,t) - g(t)^2 s(x,t)] h + g(t) sqrt(h) z = (1 - f(t) h) x + g^2 h s + g sqrt(h) z.
  /// Three passes over x and no temporary besides the score: the hot loop of the SDE solvers.
  void euler_maruyama_step(torch::Tensor& x, double t, double h, const torch::Tensor& z) const;
  /// Tweedie's formula x0_hat = (x + sigma(t)^2 s(x,t)) / alpha(t) = E[x_0 | x_t] (one score call).
  /// Where alpha(t) = 0 this is 0/0: there the model's own data prediction is used
  /// (ScoreModel::data_prediction; it throws, naming the fix, for a model without one).
  torch::Tensor denoise(const torch::Tensor& x, double t) const;

  // ---- Every sample at its own time: t has shape [B] (the adaptive solvers). ----
  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const;
  torch::Tensor drift(const torch::Tensor& x, const torch::Tensor& t) const;
  torch::Tensor denoise(const torch::Tensor& x, const torch::Tensor& t) const;

 private:
  torch::Tensor drift_with_weight(const torch::Tensor& x, double t, double score_weight) const;
  /// The model's score (or data prediction) at x [rows, ...] and t [rows], under the condition's
  /// rows `subset` of them (undefined: all). Reports one call.
  torch::Tensor model_score(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& subset = {}) const;
  torch::Tensor model_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                      const torch::Tensor& subset = {}) const;
  /// The condition's rows for a call on `rows` samples.
  Condition rows_of(int64_t rows, const torch::Tensor& subset) const;

  const Sde* sde_;
  const ScoreModel* model_;
  Condition condition_;
  std::function<void()> on_call_;
};

}  // namespace sde
