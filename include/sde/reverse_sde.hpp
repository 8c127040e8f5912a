// The reverse-time SDE and the probability-flow ODE (Song et al. 2021, eqs. 6 and 13): the one
// place where the forward SDE's f and g meet the score s.
#pragma once

#include <torch/types.h>

#include "sde/forward_sde.hpp"
#include "sde/score_model.hpp"

namespace sde {

/// Reverse-time view of a forward SDE with a score model, integrated from T down to eps:
///   dx = [f(x,t) - g(t)^2 s(x,t)] dt + g(t) dw_bar   (reverse SDE)
///   dx/dt = f(x,t) - 1/2 g(t)^2 s(x,t)              (probability-flow ODE)
/// It counts every score call: nfe() is the NFE a solver reports. One instance per solve;
/// it holds references, so the SDE and the model must outlive it.
class ReverseSde {
 public:
  ReverseSde(const Sde& sde, const ScoreModel& model) : sde_(sde), model_(model) {}

  const Sde& sde() const { return sde_; }
  const ScoreModel& model() const { return model_; }
  /// Number of score-model calls made through this object so far.
  int64_t nfe() const { return nfe_; }

  /// Every score call from now on is s(x, t | c) (ScoreModel::conditional_score) with c's rows for
  /// the samples being evaluated: c holds one row per sample of the solve (checked against the
  /// model here). An empty c: unconditional.
  void condition_on(Condition c);
  /// The samples the next calls are about: positions in the solve's batch (undefined: all of
  /// them). The solve loop sets it before each evaluation of a subset of rows (per-sample step
  /// control, a rejected attempt's stale first stages), so a condition follows its samples.
  void focus(const torch::Tensor& rows);

  /// s(x, t) with every sample at time t (t is passed to the model in x's dtype).
  torch::Tensor score(const torch::Tensor& x, double t);
  /// f(x,t) - g(t)^2 s(x,t): the reverse SDE's drift (one score call).
  torch::Tensor drift(const torch::Tensor& x, double t);
  /// g(t), the reverse SDE's diffusion.
  double diffusion(double t) const { return sde_.diffusion(t); }
  /// f(x,t) - 1/2 g(t)^2 s(x,t): the probability-flow drift (one score call). Where alpha(t) = 0
  /// (flow matching at T = 1: f and g are infinite there, the drift is not) it is evaluated in
  /// data-prediction form, (sigma'/sigma) x + (alpha' - alpha sigma'/sigma) x0_hat, with the
  /// model's own data prediction.
  torch::Tensor probability_flow_drift(const torch::Tensor& x, double t);
  /// One Euler–Maruyama step of the reverse SDE from t to t - h, in place (one score call):
  ///   x <- x - [f(x,t) - g(t)^2 s(x,t)] h + g(t) sqrt(h) z = (1 - f(t) h) x + g^2 h s + g sqrt(h) z.
  /// Three passes over x and no temporary besides the score: the hot loop of the SDE solvers.
  void euler_maruyama_step(torch::Tensor& x, double t, double h, const torch::Tensor& z);
  /// Tweedie's formula x0_hat = (x + sigma(t)^2 s(x,t)) / alpha(t) = E[x_0 | x_t] (one score call).
  /// Where alpha(t) = 0 this is 0/0: there the model's own data prediction is used
  /// (ScoreModel::data_prediction; it throws, naming the fix, for a model without one).
  torch::Tensor denoise(const torch::Tensor& x, double t);

  // ---- Every sample at its own time: t has shape [B] (the adaptive solvers). ----
  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t);
  torch::Tensor drift(const torch::Tensor& x, const torch::Tensor& t);
  torch::Tensor denoise(const torch::Tensor& x, const torch::Tensor& t);

 private:
  torch::Tensor drift_with_weight(const torch::Tensor& x, double t, double score_weight);
  /// The model's score (or data prediction) at x [rows, ...] and t [rows], under the focused
  /// condition's rows `subset` of them (undefined: all). Counts one call.
  torch::Tensor model_score(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& subset = {});
  torch::Tensor model_data_prediction(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& subset = {});
  /// The focused condition's rows for a call on `rows` samples.
  Condition focused(int64_t rows, const torch::Tensor& subset) const;

  const Sde& sde_;
  const ScoreModel& model_;
  int64_t nfe_ = 0;
  Condition condition_, focused_;
};

}  // namespace sde
