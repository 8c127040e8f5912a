#include "sde/core/reverse_sde.hpp"

#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {

ReverseSde::ReverseSde(const Sde& sde, const ScoreModel& model, Condition c)
    : sde_(&sde), model_(&model), condition_(std::move(c)) {
  if (!condition_.empty()) check_condition(model, condition_, condition_.rows());
}

ReverseSde ReverseSde::on(const torch::Tensor& rows, std::function<void()> on_call) const {
  ReverseSde view = *this;
  if (rows.defined() && !condition_.empty()) view.condition_ = condition_.select(rows);
  view.on_call_ = std::move(on_call);
  return view;
}

Condition ReverseSde::rows_of(int64_t rows, const torch::Tensor& subset) const {
  Condition c = subset.defined() ? condition_.select(subset) : condition_;
  SDE_CHECK(c.rows() == rows, "internal: a score call on ", rows, " samples under a condition of ", c.rows(),
            " rows (the solve loop must hand each call a view on() the rows it evaluates)");
  return c;
}

torch::Tensor ReverseSde::model_score(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& subset) const {
  if (on_call_) on_call_();
  if (condition_.empty()) return model_->score(x, t);
  return model_->conditional_score(x, t, rows_of(x.size(0), subset));
}

torch::Tensor ReverseSde::model_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                                const torch::Tensor& subset) const {
  if (on_call_) on_call_();
  if (condition_.empty()) return model_->data_prediction(x, t);
  return model_->conditional_data_prediction(x, t, rows_of(x.size(0), subset));
}

torch::Tensor ReverseSde::score(const torch::Tensor& x, double t) const {
  return model_score(x, torch::full({x.size(0)}, t, x.options()));
}

torch::Tensor ReverseSde::drift_with_weight(const torch::Tensor& x, double t, double score_weight) const {
  const double g = sde_->diffusion(t);
  // f(t) x - w g^2 s, as one allocation plus one fused multiply-add.
  return (x * sde_->drift_coef(t)).add_(score(x, t), -score_weight * g * g);
}

torch::Tensor ReverseSde::drift(const torch::Tensor& x, double t) const {
  return drift_with_weight(x, t, 1.0);
}

torch::Tensor ReverseSde::probability_flow_drift(const torch::Tensor& x, double t) const {
  if (sde_->alpha(t) != 0) return drift_with_weight(x, t, 0.5);
  // alpha = 0: f x - 1/2 g^2 s = (sigma'/sigma) x + (alpha' - alpha sigma'/sigma) x0_hat, with alpha = 0.
  const double log_sigma_rate = sde_->sigma_derivative(t) / sde_->sigma(t);
  return denoise(x, t).mul_(sde_->alpha_derivative(t)).add_(x, log_sigma_rate);
}

void ReverseSde::euler_maruyama_step(torch::Tensor& x, double t, double h, const torch::Tensor& z) const {
  const double g = sde_->diffusion(t);
  const torch::Tensor s = score(x, t);
  x.mul_(1.0 - sde_->drift_coef(t) * h).add_(s, g * g * h).add_(z, g * std::sqrt(h));
}

torch::Tensor ReverseSde::denoise(const torch::Tensor& x, double t) const {
  const double alpha = sde_->alpha(t), sigma = sde_->sigma(t);
  if (alpha == 0) return model_data_prediction(x, torch::full({x.size(0)}, t, x.options()));
  return x.add(score(x, t), sigma * sigma).div_(alpha);
}

torch::Tensor ReverseSde::score(const torch::Tensor& x, const torch::Tensor& t) const {
  return model_score(x, t.to(x.dtype()));
}

torch::Tensor ReverseSde::drift(const torch::Tensor& x, const torch::Tensor& t) const {
  const torch::Tensor g = sde_->diffusion(t);
  return sde_->drift(x, t).sub_(score(x, t) * per_sample(g * g, x));
}

torch::Tensor ReverseSde::denoise(const torch::Tensor& x, const torch::Tensor& t) const {
  const torch::Tensor alpha = sde_->alpha(t), sigma = sde_->sigma(t);
  torch::Tensor d = x.add(score(x, t) * per_sample(sigma * sigma, x)).div_(per_sample(alpha, x));
  // Rows at alpha = 0 (see denoise above) exist only where alpha(T) = 0 (flow); elsewhere the search
  // (a reduction and a sync per call, on the adaptive solvers' hot path) is skipped.
  if (sde_->alpha(sde_->t_max()) != 0) return d;
  const torch::Tensor zero_signal = (alpha == 0).nonzero().squeeze(1);
  if (zero_signal.numel() > 0) {  // one more call, for those rows
    d.index_copy_(0, zero_signal, model_data_prediction(x.index_select(0, zero_signal),
                                                        t.index_select(0, zero_signal).to(x.dtype()), zero_signal));
  }
  return d;
}

}  // namespace sde
