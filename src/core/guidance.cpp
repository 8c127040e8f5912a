#include "sde/core/guidance.hpp"

#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>

#include "sde/core/errors.hpp"
#include "core/tensor_rows.hpp"

namespace sde {
using detail::per_row;

torch::Tensor classifier_gradient(const NoisyClassifier& classifier, const torch::Tensor& x, const torch::Tensor& t,
                                  const torch::Tensor& labels) {
  SDE_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == x.size(0),
            "classifier guidance needs one class label per sample: labels of shape [", x.size(0), "], got ",
            labels.defined() ? labels.sizes() : c10::IntArrayRef{});
  // Sampling runs under inference mode, whose tensors cannot enter an autograd graph: the input and
  // the times are copied out of it (the copies are ordinary tensors), and the gradient comes back.
  c10::InferenceMode normal(false);
  torch::AutoGradMode enabled(true);
  const torch::Tensor xg = x.detach().clone().requires_grad_(true);
  const torch::Tensor tg = t.detach().clone();
  const torch::Tensor log_probs = classifier.log_probs(xg, tg);
  SDE_CHECK(log_probs.dim() == 2 && log_probs.size(0) == x.size(0) && log_probs.size(1) == classifier.num_classes(),
            "the classifier returned log-probabilities of shape ", log_probs.sizes(), "; expected [B, C] = [",
            x.size(0), ", ", classifier.num_classes(), "]");
  const torch::Tensor y = labels.to(log_probs.device());
  const torch::Tensor known = y.ne(kUnconditional);
  // Rows without a class contribute nothing (their label is clamped to a valid index, then masked).
  const torch::Tensor picked = log_probs.gather(1, y.clamp_min(0).unsqueeze(1)).squeeze(1) * known.to(log_probs.dtype());
  torch::Tensor grad = torch::autograd::grad({picked.sum()}, {xg})[0];
  return grad.detach().to(x.options());
}

void ClassifierFreeGuidanceOptions::validate() const {
  SDE_CHECK(std::isfinite(scale), "classifier-free guidance: scale w = ", scale, " must be finite (0 = no guidance)");
  SDE_CHECK(sigma_min >= 0 && sigma_max > sigma_min, "classifier-free guidance: the interval [", sigma_min, ", ",
            sigma_max, "] must have 0 <= sigma_min < sigma_max (noise levels sigma / alpha; inf for no upper end)");
}

ClassifierFreeGuidance::ClassifierFreeGuidance(const ScoreModel& model, const Sde& sde,
                                               ClassifierFreeGuidanceOptions options)
    : ForwardingScoreModel(model), sde_(sde), options_(options) {
  options_.validate();
  SDE_CHECK(model.num_classes() > 0 || model.takes_condition_values(),
            "classifier-free guidance needs a conditional model (class labels or a condition tensor); this one takes "
            "none: train with --classes K and --label-dropout P, or load a class-conditional model");
}

torch::Tensor ClassifierFreeGuidance::guided(Call call, const torch::Tensor& x, const torch::Tensor& t,
                                             const Condition& c) const {
  check_condition(*this, c, x.size(0));
  if (c.empty() || options_.scale == 0) return (model().*call)(x, t, c);
  // Rows inside the interval of noise levels get both branches; the others the conditional alone.
  const torch::Tensor td = t.to(torch::kFloat64);
  const torch::Tensor level = sde_.sigma(td) / sde_.alpha(td);  // inf where alpha = 0
  const torch::Tensor inside = level.ge(options_.sigma_min).logical_and(level.le(options_.sigma_max));
  const int64_t n = x.size(0);
  const int64_t guided_rows = inside.sum().item<int64_t>();
  if (guided_rows == 0) return (model().*call)(x, t, c);
  Condition none = c;
  if (none.labels.defined()) none.labels = torch::full_like(c.labels, kUnconditional);
  // The null condition for a condition tensor is the model's business: zeros, as in training with dropout.
  if (none.values.defined()) none.values = torch::zeros_like(c.values);
  if (guided_rows == n) {
    const torch::Tensor both = (model().*call)(torch::cat({x, x}), torch::cat({t, t}), c.cat(none));
    const torch::Tensor conditional = both.narrow(0, 0, n), unconditional = both.narrow(0, n, n);
    return conditional + options_.scale * (conditional - unconditional);
  }
  const torch::Tensor rows = inside.nonzero().squeeze(1).to(x.device());
  const torch::Tensor xi = x.index_select(0, rows), ti = t.index_select(0, rows);
  const torch::Tensor both = (model().*call)(torch::cat({x, xi}), torch::cat({t, ti}), c.cat(none.select(rows)));
  torch::Tensor out = both.narrow(0, 0, n).clone();
  const torch::Tensor conditional = out.index_select(0, rows), unconditional = both.narrow(0, n, guided_rows);
  out.index_copy_(0, rows, conditional + options_.scale * (conditional - unconditional));
  return out;
}

torch::Tensor ClassifierFreeGuidance::conditional_score(const torch::Tensor& x, const torch::Tensor& t,
                                                        const Condition& c) const {
  return guided(&ScoreModel::conditional_score, x, t, c);
}

torch::Tensor ClassifierFreeGuidance::conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                                                  const Condition& c) const {
  return guided(&ScoreModel::conditional_data_prediction, x, t, c);
}

ClassifierGuidance::ClassifierGuidance(const ScoreModel& model, const NoisyClassifier& classifier, const Sde& sde,
                                       double scale, bool model_takes_labels)
    : ForwardingScoreModel(model), classifier_(classifier), sde_(sde), scale_(scale), model_takes_labels_(model_takes_labels) {
  SDE_CHECK(std::isfinite(scale_) && scale_ >= 0, "classifier guidance: scale = ", scale_,
            " must be finite and >= 0 (1 = Bayes' rule; larger sharpens towards the class)");
  SDE_CHECK(classifier_.num_classes() > 0, "classifier guidance: the classifier has no classes");
  SDE_CHECK(!model_takes_labels_ || model.num_classes() == classifier_.num_classes(),
            "classifier guidance: the model has ", model.num_classes(), " classes but the classifier ",
            classifier_.num_classes(), "; use a classifier trained on the same classes");
}

Condition ClassifierGuidance::for_model(const Condition& c) const { return model_takes_labels_ ? c : Condition{}; }

torch::Tensor ClassifierGuidance::conditional_score(const torch::Tensor& x, const torch::Tensor& t,
                                                    const Condition& c) const {
  check_condition(*this, c, x.size(0));
  torch::Tensor s = model().conditional_score(x, t, for_model(c));
  if (!c.labels.defined() || scale_ == 0) return s;
  return s.add_(classifier_gradient(classifier_, x, t, c.labels), scale_);
}

torch::Tensor ClassifierGuidance::conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                                              const Condition& c) const {
  check_condition(*this, c, x.size(0));
  torch::Tensor d = model().conditional_data_prediction(x, t, for_model(c));
  if (!c.labels.defined() || scale_ == 0) return d;
  // Tweedie: x0_hat moves by (sigma^2 / alpha) times the change of the score; alpha = 0 rows get none.
  const torch::Tensor td = t.to(torch::kFloat64);
  const torch::Tensor alpha = sde_.alpha(td), sigma = sde_.sigma(td);
  const torch::Tensor factor = torch::where(alpha.gt(0), sigma.square() / alpha.clamp_min(1e-300), torch::zeros_like(alpha));
  return d.add_(classifier_gradient(classifier_, x, t, c.labels) * per_row(factor * scale_, x));
}

void PosteriorSamplingOptions::validate() const {
  SDE_CHECK(std::isfinite(scale) && scale >= 0, "posterior sampling: scale = ", scale, " must be finite and >= 0");
  SDE_CHECK(std::isfinite(noise_std) && noise_std > 0, "posterior sampling: noise_std = ", noise_std,
            " must be finite and > 0 (a small value such as 0.05 for a noise-free measurement)");
}

PosteriorSampling::PosteriorSampling(const ScoreModel& model, const Sde& sde, Projection project,
                                     PosteriorSamplingOptions options)
    : ForwardingScoreModel(model), sde_(sde), project_(std::move(project)), options_(options) {
  options_.validate();
  SDE_CHECK(static_cast<bool>(project_), "posterior sampling needs the measurement's projection P = A^T A");
}

torch::Tensor PosteriorSampling::conditional_score(const torch::Tensor& x, const torch::Tensor& t,
                                                   const Condition& c) const {
  SDE_CHECK(c.values.defined() && c.values.sizes() == x.sizes(), "posterior sampling needs each sample's observation "
            "A^T y as the condition tensor, of x's shape ", x.sizes(), "; got ",
            c.values.defined() ? c.values.sizes() : c10::IntArrayRef{});
  // The model's score with its graph, reused for the returned score: one network pass and its
  // backward. Outside the sampler's inference mode (see classifier_gradient).
  c10::InferenceMode normal(false);
  torch::AutoGradMode enabled(true);
  const torch::Tensor xg = x.detach().clone().requires_grad_(true);
  const torch::Tensor tg = t.detach().clone();
  const torch::Tensor s = model().score(xg, tg);
  const torch::Tensor td = tg.to(torch::kFloat64);
  const torch::Tensor alpha = sde_.alpha(td), sigma = sde_.sigma(td);
  // Rows at alpha = 0 (flow's T) carry no information about x_0 through x: no guidance there.
  const torch::Tensor live = alpha.gt(0);
  const torch::Tensor x0 = (xg + s * per_row(sigma.square(), xg)) / per_row(torch::where(live, alpha, torch::ones_like(alpha)), xg);
  const torch::Tensor residual = project_(c.values.to(x.options()) - x0);
  const torch::Tensor log_likelihood =
      -(residual.square().reshape({x.size(0), -1}).sum(1) * live.to(residual.options())).sum() /
      (2 * options_.noise_std * options_.noise_std);
  const torch::Tensor grad = torch::autograd::grad({log_likelihood}, {xg})[0];
  return (s.detach() + options_.scale * grad.detach()).to(x.options());
}

}  // namespace sde
