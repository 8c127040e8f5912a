// Gaussian mixtures: the problems whose score is known in closed form at every time.
//
// Under a linear SDE with kernel N(alpha x_0, sigma^2 I), data p_0 = sum_k w_k N(mu_k, Sigma_k)
// becomes p_t = sum_k w_k N(alpha mu_k, alpha^2 Sigma_k + sigma^2 I): exact score, exact
// log-density and exact samples at every t.
#pragma once

#include <Eigen/Core>
#include <torch/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sde/core/forward_sde.hpp"
#include "sde/core/guidance.hpp"
#include "sde/core/random.hpp"
#include "sde/core/score_model.hpp"

namespace sde {

/// A Gaussian mixture in float64 (Eigen): the reference path. Immutable value type.
class GaussianMixture {
 public:
  /// Validates: K >= 1, weights > 0 summing to 1 within 1e-6, all means of one length D >= 1,
  /// covariances D x D, symmetric (1e-9 relative) and positive definite. Messages name the entry.
  /// `labels` (optional): the class of each component, in [0, C), every class with a component;
  /// class y's data is then the sub-mixture of its components, p(x | y).
  GaussianMixture(std::vector<double> weights, std::vector<Eigen::VectorXd> means,
                  std::vector<Eigen::MatrixXd> covs, std::vector<int64_t> labels = {});

  /// Reads {"weights": [...], "means": [[...], ...], "covs": [[[...]], ...], "labels": [...]}
  /// ("labels" optional); other keys ignored.
  static GaussianMixture from_json(const std::string& text, const std::string& origin = "JSON");
  static GaussianMixture from_json_file(const std::string& path);
  /// The JSON that from_json reads back exactly (numbers with 17 significant digits).
  std::string to_json() const;

  int64_t dim() const { return means_.front().size(); }
  int64_t components() const { return int64_t(weights_.size()); }
  const std::vector<double>& weights() const { return weights_; }
  const std::vector<Eigen::VectorXd>& means() const { return means_; }
  const std::vector<Eigen::MatrixXd>& covs() const { return covs_; }
  /// The class of each component (empty: an unlabelled mixture).
  const std::vector<int64_t>& labels() const { return labels_; }
  /// C, the number of classes (0 when unlabelled).
  int64_t num_classes() const;
  /// The same mixture with component k in class labels[k] (validated as in the constructor).
  GaussianMixture with_labels(std::vector<int64_t> labels) const;
  /// p(y) = sum of the weights of class y's components.
  double class_weight(int64_t y) const;
  /// p(x | y): class y's components, weights renormalised (labels kept).
  GaussianMixture given_label(int64_t y) const;
  /// The posterior of the other coordinates given x[known[i]] = values[i] (inpainting's exact
  /// answer): components reweighted by w_k N(values; mu_kK, Sigma_kKK), means
  /// mu_kU + Sigma_kUK Sigma_kKK^{-1} (values - mu_kK), covariances the Schur complements
  /// Sigma_kUU - Sigma_kUK Sigma_kKK^{-1} Sigma_kKU. Coordinates keep their order. Labels kept.
  GaussianMixture conditioned(const std::vector<int64_t>& known, const Eigen::VectorXd& values) const;

  /// The mixture of alpha X + sigma Z: weights kept, means alpha mu_k, covs alpha^2 Sigma_k + sigma^2 I.
  GaussianMixture perturbed(double alpha, double sigma) const;
  /// log p(x) by Cholesky factors and log-sum-exp.
  double log_prob(const Eigen::VectorXd& x) const;
  /// grad log p(x) = sum_k r_k(x) Sigma_k^{-1} (mu_k - x), r the posterior responsibilities.
  Eigen::VectorXd score(const Eigen::VectorXd& x) const;
  /// Exact mean sum_k w_k mu_k.
  Eigen::VectorXd mean() const;
  /// Exact covariance sum_k w_k (Sigma_k + mu_k mu_k^T) - mean mean^T.
  Eigen::MatrixXd covariance() const;

 private:
  std::vector<double> weights_;
  std::vector<Eigen::VectorXd> means_;
  std::vector<Eigen::MatrixXd> covs_;
  std::vector<int64_t> labels_;
};

/// The exact score of the perturbed mixture p_t under a given SDE, batched in LibTorch.
/// Each covariance is diagonalised once, Sigma_k = U_k diag(lambda_k) U_k^T, so that for any
/// per-sample (alpha, sigma) the perturbed covariance is U_k diag(alpha^2 lambda_k + sigma^2) U_k^T:
/// no factorisation per time step, and every sample may carry its own t. When every Sigma_k is
/// diagonal, U_k = I and the two changes of basis (two [K, D, D] x [K, D, B] products) are skipped.
class GaussianMixtureScore final : public ScoreModel {
 public:
  /// `dtype` is the precision of the computation. Unset (the default): the caller's, so a
  /// float32 sampler gets a float32 score (about 5x cheaper than float64 at D = 32) and a
  /// float64 caller the float64 ground truth. Set: always that dtype, inputs converted in and the
  /// result converted back (the accuracy tests that measure errors below float32's resolution
  /// pin float64). alpha(t) and sigma(t) are evaluated in float64 either way.
  GaussianMixtureScore(GaussianMixture mixture, std::shared_ptr<const Sde> sde,
                       c10::optional<torch::Dtype> dtype = c10::nullopt, torch::Device device = torch::kCPU);

  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override;
  std::vector<int64_t> sample_shape() const override { return {mixture_.dim()}; }
  /// A labelled mixture's classes: its conditional score is that of the class's sub-mixture.
  int64_t num_classes() const override { return mixture_.num_classes(); }
  /// grad log p_t(x | y) = the score of p_t restricted to class y's components (renormalised).
  torch::Tensor conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const override;
  torch::Tensor conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                            const Condition& c) const override;
  /// The exact noisy classifier: log p_t(y | x) for every class, [B, C] = logsumexp of class y's
  /// log w_k N_k(x) minus log p_t(x). Differentiable with respect to x. Needs a labelled mixture.
  torch::Tensor class_log_probs(const torch::Tensor& x, const torch::Tensor& t) const;
  bool has_data_prediction() const override { return true; }
  /// E[x_0 | x_t = x] = sum_k r_k(x) (mu_k + alpha Sigma_k (alpha^2 Sigma_k + sigma^2 I)^{-1} (x - alpha mu_k)):
  /// the posterior mean, finite where alpha = 0 (there r_k = w_k and it is the mixture's mean).
  torch::Tensor data_prediction(const torch::Tensor& x, const torch::Tensor& t) const override;

  /// Exact log p_t(x), shape [B], in the dtype of the computation (see the constructor);
  /// differentiable with respect to x.
  torch::Tensor log_prob(const torch::Tensor& x, const torch::Tensor& t) const;
  /// Exact samples of p_t for the samples in `range` (t = 0 gives p_0). Uses draws 0 (component),
  /// 1 (data noise) and 2 (forward noise) of `noise`, computed in float64 unless the constructor
  /// pinned float32; sample i depends only on (seed, i).
  torch::Tensor sample(const NoiseStream& noise, SampleRange range, double t,
                       const torch::TensorOptions& options = {}) const;

  const GaussianMixture& mixture() const { return mixture_; }
  const Sde& sde() const { return *sde_; }

 private:
  /// The mixture's constants in one dtype.
  struct Constants {
    torch::Tensor log_weights;  // [K]
    torch::Tensor means;        // [K, D]
    torch::Tensor basis;        // [K, D, D], columns eigenvectors U_k; undefined when all diagonal
    torch::Tensor basis_t;      // [K, D, D], U_k^T stored contiguously (see terms())
    torch::Tensor eigenvalues;  // [K, D]
    torch::Tensor cholesky;     // [K, D, D], lower factors of Sigma_k (for sampling)
  };
  struct Terms {
    torch::Tensor log_joint;  // [K, B]: log w_k + log N_k(x)
    torch::Tensor y;          // [K, D, B]: U_k^T (x - alpha mu_k) / var_k   (eigenbasis)
  };
  /// The dtype the computation runs in for an input of dtype `input`.
  torch::ScalarType compute_dtype(torch::ScalarType input) const;
  const Constants& constants(torch::ScalarType dtype) const;
  /// alpha(t) and sigma(t) in float64: of length 1 when every sample has the same t.
  std::pair<torch::Tensor, torch::Tensor> alpha_sigma(const torch::Tensor& t) const;
  Terms terms(const torch::Tensor& x, const torch::Tensor& t) const;
  /// Terms with components outside each sample's class removed (log_joint -inf there); rows
  /// labelled kUnconditional keep every component.
  Terms class_terms(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const;
  torch::Tensor score_from(const Terms& terms, const torch::Tensor& like) const;
  torch::Tensor data_prediction_from(const Terms& terms, const torch::Tensor& t, const torch::Tensor& like) const;

  GaussianMixture mixture_;
  std::shared_ptr<const Sde> sde_;
  c10::optional<torch::Dtype> dtype_;  // unset: the caller's
  torch::Device device_;
  Constants float64_, float32_;
  torch::Tensor component_labels_;  // [K] int64 on the device (undefined when unlabelled)
};

/// The exact time-dependent classifier of a labelled mixture, p_t(y | x) (class_log_probs): the
/// ground truth for classifier guidance. The model must outlive it.
class GaussianMixtureClassifier final : public NoisyClassifier {
 public:
  explicit GaussianMixtureClassifier(const GaussianMixtureScore& model);
  torch::Tensor log_probs(const torch::Tensor& x, const torch::Tensor& t) const override {
    return model_.class_log_probs(x, t);
  }
  int64_t num_classes() const override { return model_.num_classes(); }

 private:
  const GaussianMixtureScore& model_;
};

}  // namespace sde
