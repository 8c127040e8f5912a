// Guidance: score-model wrappers that steer sampling towards a condition, so every solver gets them
// without knowing (DESIGN: conditioning never touches a solver).
//
//  * Classifier-free guidance (Ho & Salimans 2022): s_w(x, t | y) = (1 + w) s(x, t | y) - w s(x, t),
//    from one conditional model that also answers unconditionally (label dropout, the null class).
//    Both branches are evaluated in one batched call of twice the rows. Optionally only for noise
//    levels in an interval (Kynkaanniemi et al. 2024, "Applying guidance in a limited interval").
//  * Classifier guidance (Song et al. 2021, sec. 5 and app. I; Dhariwal & Nichol 2021):
//    s(x, t | y) = s(x, t) + scale grad_x log p_t(y | x), with a time-dependent (noisy) classifier
//    differentiated by autograd.
//
// Each is a ForwardingScoreModel: it changes the conditional answers and passes every other call on,
// as a guidance rule of the user's own does (examples/10_own_solver_and_guidance.cpp).
//
// A guided model counts as one model call per evaluation (what the solvers' NFE reports); each
// costs two network passes (classifier-free: one call on 2B rows; classifier: score + classifier
// backward).
#pragma once

#include <torch/types.h>

#include <functional>
#include <limits>
#include <vector>

#include "sde/core/forward_sde.hpp"
#include "sde/core/forwarding_score_model.hpp"
#include "sde/core/score_model.hpp"

namespace sde {

/// A time-dependent classifier p_t(y | x_t): trained on noisy samples, it classifies at every noise
/// level. Implementations: the exact classifier of a labelled Gaussian mixture
/// (GaussianMixtureClassifier), networks.
class NoisyClassifier {
 public:
  virtual ~NoisyClassifier() = default;
  NoisyClassifier() = default;
  NoisyClassifier(const NoisyClassifier&) = delete;
  NoisyClassifier& operator=(const NoisyClassifier&) = delete;

  /// log p_t(y | x) for every class y: [B, C] for x [B, ...] and t [B]; differentiable in x.
  virtual torch::Tensor log_probs(const torch::Tensor& x, const torch::Tensor& t) const = 0;
  /// C.
  virtual int64_t num_classes() const = 0;
};

/// grad_x log p_t(y_b | x_b) for each row (rows labelled kUnconditional get 0), by autograd, also
/// when called under inference mode (the sampler's): [B, ...] like x.
torch::Tensor classifier_gradient(const NoisyClassifier& classifier, const torch::Tensor& x, const torch::Tensor& t,
                                  const torch::Tensor& labels);

/// Options of classifier-free guidance.
struct ClassifierFreeGuidanceOptions {
  double scale = 1.0;  ///< w: 0 is the conditional model itself; 1..7 typical (s = (1 + w) s_c - w s_u)
  /// Guidance applies where the noise level sigma(t) / alpha(t) (EDM's sigma) lies in
  /// [sigma_min, sigma_max]; elsewhere the conditional score alone. Kynkaanniemi et al. 2024 found
  /// e.g. (0.28, 5.42] best for EDM2 on ImageNet-512. The default: every noise level.
  double sigma_min = 0;
  double sigma_max = std::numeric_limits<double>::infinity();
  void validate() const;
};

/// Classifier-free guidance around a conditional model (num_classes() > 0 or a condition tensor).
/// Unconditional calls (score(), labels kUnconditional) pass through unguided.
class ClassifierFreeGuidance final : public ForwardingScoreModel {
 public:
  /// `model` and `sde` must outlive this wrapper.
  ClassifierFreeGuidance(const ScoreModel& model, const Sde& sde, ClassifierFreeGuidanceOptions options);

  /// (1 + w) s(x, t | c) - w s(x, t) on the rows inside the interval, s(x, t | c) elsewhere.
  torch::Tensor conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const override;
  /// The same combination of data predictions (affine in the score at fixed t).
  torch::Tensor conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                            const Condition& c) const override;

 private:
  using Call = torch::Tensor (ScoreModel::*)(const torch::Tensor&, const torch::Tensor&, const Condition&) const;
  torch::Tensor guided(Call call, const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const;

  const Sde& sde_;
  ClassifierFreeGuidanceOptions options_;
};

/// Classifier guidance: s(x, t | y) = s_model(x, t) + scale grad_x log p_t(y | x). With scale 1,
/// the exact classifier and the exact unconditional score this is the exact conditional score
/// (Bayes' rule); larger scales sharpen towards the class (Dhariwal & Nichol 2021).
class ClassifierGuidance final : public ForwardingScoreModel {
 public:
  /// `model_takes_labels`: give the labels to the model as well, s_model(x, t | y) (ADM guides a
  /// class-conditional model with a classifier; classifier-free guidance wrapped in classifier
  /// guidance needs it). Otherwise the model's unconditional score. All references must outlive this.
  ClassifierGuidance(const ScoreModel& model, const NoisyClassifier& classifier, const Sde& sde, double scale,
                     bool model_takes_labels = false);

  int64_t num_classes() const override { return classifier_.num_classes(); }
  bool takes_condition_values() const override { return false; }  ///< the classifier reads labels only
  torch::Tensor conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const override;
  /// x0_hat + scale (sigma^2 / alpha) grad log p_t(y | x) (0 where alpha = 0: there p_t(y | x) = p(y)).
  torch::Tensor conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                            const Condition& c) const override;

 private:
  /// What the model is asked: the condition when it takes the labels, nothing otherwise.
  Condition for_model(const Condition& c) const;

  const NoisyClassifier& classifier_;
  const Sde& sde_;
  double scale_;
  bool model_takes_labels_;
};

/// Options of diffusion posterior sampling.
struct PosteriorSamplingOptions {
  double scale = 1.0;       ///< zeta: 1 is DPS's approximation p(y | x_t) ~ N(y; A x0_hat(x_t), noise_std^2 I)
  double noise_std = 0.05;  ///< the measurement noise's std (> 0; small for noise-free measurements)
  void validate() const;
};

/// Diffusion posterior sampling (DPS, Chung et al. 2023) as a score-model wrapper, so every solver
/// gets it: for a measurement y = A x_0 + n, n ~ N(0, noise_std^2 I), with A's orthonormal rows given
/// by the projector P = A^T A (the same for every sample) and each sample's lifted observation A^T y
/// as the condition tensor (Condition::values),
///   s(x, t | y) = s(x, t) - scale grad_x ||P (A^T y - x0_hat(x, t))||^2 / (2 noise_std^2),
/// x0_hat = (x + sigma^2 s) / alpha (Tweedie), differentiated through the model. The approximation
/// ignores Cov[x_0 | x_t], so the result is biased (docs/guidance.md measures it); scale trades
/// fidelity to y against that bias, as the paper's step size does.
class PosteriorSampling final : public ForwardingScoreModel {
 public:
  using Projection = std::function<torch::Tensor(const torch::Tensor& x)>;
  /// `model` (unconditional; differentiable in x) and `sde` must outlive this.
  PosteriorSampling(const ScoreModel& model, const Sde& sde, Projection project, PosteriorSamplingOptions options);

  /// Its guided score has no data-prediction form: unconditional calls only (as a score model
  /// without one, it is refused where alpha = 0).
  bool has_data_prediction() const override { return false; }
  bool takes_condition_values() const override { return true; }
  /// c.values: A^T y per row (required).
  torch::Tensor conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const override;
  /// No guided data prediction (ScoreModel's default: unconditional rows only, which it refuses here).
  torch::Tensor conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                            const Condition& c) const override {
    return ScoreModel::conditional_data_prediction(x, t, c);
  }

 private:
  const Sde& sde_;
  Projection project_;
  PosteriorSamplingOptions options_;
};

}  // namespace sde
