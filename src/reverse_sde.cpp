#include "sde/reverse_sde.hpp"

#include <cmath>

#include "sde/errors.hpp"

namespace sde {

void ReverseSde::condition_on(Condition c) {
  if (!c.empty()) check_condition(model_, c, c.rows());
  condition_ = std::move(c);
  focused_ = condition_;
}

void ReverseSde::focus(const torch::Tensor& rows) {
  if (condition_.empty()) return;
  focused_ = rows.defined() ? condition_.select(rows) : condition_;
}

Condition ReverseSde::focused(int64_t rows, const torch::Tensor& subset) const {
  Condition c = subset.defined() ? focused_.select(subset) : focused_;
  SDE_CHECK(c.rows() == rows, "internal: a score call on ", rows, " samples under a condition of ", c.rows(),
            " rows (the solve loop must focus the ReverseSde on the rows it evaluates)");
  return c;
}

torch::Tensor ReverseSde::model_score(const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& subset) {
  ++nfe_;
  if (condition_.empty()) return model_.score(x, t);
  return model_.conditional_score(x, t, focused(x.size(0), subset));
}

torch::Tensor ReverseSde::model_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                                const torch::Tensor& subset) {
  ++nfe_;
  if (condition_.empty()) return model_.data_prediction(x, t);
  return model_.conditional_data_prediction(x, t, focused(x.size(0), subset));
}

torch::Tensor ReverseSde::score(const torch::Tensor& x, double t) {
  return model_score(x, torch::full({x.size(0)}, t, x.options()));
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
  if (sde_.alpha(t) != 0) return drift_with_weight(x, t, 0.5);
  // alpha = 0: f x - 1/2 g^2 s = (sigma'/sigma) x + (alpha' - alpha sigma'/sigma) x0_hat, with alpha = 0.
  const double log_sigma_rate = sde_.sigma_derivative(t) / sde_.sigma(t);
  return denoise(x, t).mul_(sde_.alpha_derivative(t)).add_(x, log_sigma_rate);
}

void ReverseSde::euler_maruyama_step(torch::Tensor& x, double t, double h, const torch::Tensor& z) {
  const double g = sde_.diffusion(t);
  const torch::Tensor s = score(x, t);
  x.mul_(1.0 - sde_.drift_coef(t) * h).add_(s, g * g * h).add_(z, g * std::sqrt(h));
}

torch::Tensor ReverseSde::denoise(const torch::Tensor& x, double t) {
  const double alpha = sde_.alpha(t), sigma = sde_.sigma(t);
  if (alpha == 0) return model_data_prediction(x, torch::full({x.size(0)}, t, x.options()));
  return x.add(score(x, t), sigma * sigma).div_(alpha);
}

torch::Tensor ReverseSde::score(const torch::Tensor& x, const torch::Tensor& t) {
  return model_score(x, t.to(x.dtype()));
}

torch::Tensor ReverseSde::drift(const torch::Tensor& x, const torch::Tensor& t) {
  const torch::Tensor g = sde_.diffusion(t);
  return sde_.drift(x, t).sub_(score(x, t) * per_sample(g * g, x));
}

torch::Tensor ReverseSde::denoise(const torch::Tensor& x, const torch::Tensor& t) {
  const torch::Tensor alpha = sde_.alpha(t), sigma = sde_.sigma(t);
  torch::Tensor d = x.add(score(x, t) * per_sample(sigma * sigma, x)).div_(per_sample(alpha, x));
  // Rows at alpha = 0 (see denoise above) exist only where alpha(T) = 0 (flow); elsewhere the search
  // (a reduction and a sync per call, on the adaptive solvers' hot path) is skipped.
  if (sde_.alpha(sde_.t_max()) != 0) return d;
  const torch::Tensor zero_signal = (alpha == 0).nonzero().squeeze(1);
  if (zero_signal.numel() > 0) {  // one more call, for those rows
    d.index_copy_(0, zero_signal, model_data_prediction(x.index_select(0, zero_signal),
                                                        t.index_select(0, zero_signal).to(x.dtype()), zero_signal));
  }
  return d;
}

}  // namespace sde
