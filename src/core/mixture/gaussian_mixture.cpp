#include "sde/core/gaussian_mixture.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/json_integers.hpp"
#include "core/mixture/diagonal_score.hpp"
#include "sde/core/errors.hpp"

namespace sde {
namespace {

constexpr double kLog2Pi = 1.8378770664093454836;  // log(2 pi)

double log_sum_exp(const Eigen::VectorXd& v) {
  const double m = v.maxCoeff();
  return m + std::log((v.array() - m).exp().sum());
}

// LibTorch's float32 reductions over an outer dimension change their order of summation with the
// size of the inner (batch) dimension, so sample i would depend on the batch it is in (DESIGN:
// it must not). These reduce a short dimension (K components or D coordinates) by elementwise
// operations in a fixed order, which give every sample the same arithmetic in any batch.
torch::Tensor ordered_sum(const torch::Tensor& v, int64_t dim) {
  if (v.size(dim) == 1) return v.select(dim, 0);
  torch::Tensor acc = v.select(dim, 0) + v.select(dim, 1);
  for (int64_t i = 2; i < v.size(dim); ++i) acc.add_(v.select(dim, i));
  return acc;
}

torch::Tensor ordered_max(const torch::Tensor& v, int64_t dim) {
  torch::Tensor acc = v.select(dim, 0);
  for (int64_t i = 1; i < v.size(dim); ++i) acc = torch::maximum(acc, v.select(dim, i));
  return acc;
}

// softmax and log-sum-exp over dimension 0, shifted by the maximum as LibTorch's (an infinite
// maximum is replaced by 0, so that all -inf gives log-sum-exp -inf).
torch::Tensor shifted_max(const torch::Tensor& v) {
  const torch::Tensor m = ordered_max(v, 0);
  return m.masked_fill(m.isinf(), 0);
}

torch::Tensor ordered_softmax(const torch::Tensor& v) {
  const torch::Tensor e = (v - shifted_max(v)).exp();  // out of place: the likelihood differentiates it
  return e / ordered_sum(e, 0);
}

torch::Tensor ordered_logsumexp(const torch::Tensor& v) {
  const torch::Tensor m = shifted_max(v);
  return ordered_sum((v - m).exp(), 0).log() + m;
}

}  // namespace

// ---------------------------------------------------------------- GaussianMixture (float64)

GaussianMixture::GaussianMixture(std::vector<double> weights, std::vector<Eigen::VectorXd> means,
                                 std::vector<Eigen::MatrixXd> covs, std::vector<int64_t> labels)
    : weights_(std::move(weights)), means_(std::move(means)), covs_(std::move(covs)), labels_(std::move(labels)) {
  const size_t k = weights_.size();
  SDE_CHECK(k >= 1, "Gaussian mixture: needs at least one component, got none");
  SDE_CHECK(means_.size() == k && covs_.size() == k, "Gaussian mixture: ", k,
            " weights but ", means_.size(), " means and ", covs_.size(),
            " covariances; give one mean and one covariance per weight");
  double total = 0;
  for (size_t i = 0; i < k; ++i) {
    SDE_CHECK(std::isfinite(weights_[i]) && weights_[i] > 0, "Gaussian mixture: weights[", i,
              "] = ", weights_[i], " must be finite and > 0");
    total += weights_[i];
  }
  SDE_CHECK(std::abs(total - 1.0) <= 1e-6, "Gaussian mixture: weights sum to ", total,
            ", not 1 (within 1e-6); normalise them");
  const int64_t d = means_[0].size();
  SDE_CHECK(d >= 1, "Gaussian mixture: means[0] is empty; means need D >= 1 numbers");
  for (size_t i = 0; i < k; ++i) {
    SDE_CHECK(means_[i].size() == d, "Gaussian mixture: means[", i, "] has ", means_[i].size(),
              " numbers but means[0] has ", d, "; every mean needs D = ", d);
    SDE_CHECK(means_[i].allFinite(), "Gaussian mixture: means[", i, "] has a non-finite entry");
    const Eigen::MatrixXd& c = covs_[i];
    SDE_CHECK(c.rows() == d && c.cols() == d, "Gaussian mixture: covs[", i, "] is ", c.rows(), "x",
              c.cols(), " but D = ", d, "; every covariance must be D x D");
    SDE_CHECK(c.allFinite(), "Gaussian mixture: covs[", i, "] has a non-finite entry");
    const double scale = std::max(c.cwiseAbs().maxCoeff(), 1e-300);
    for (int64_t r = 0; r < d; ++r)
      for (int64_t s = r + 1; s < d; ++s)
        SDE_CHECK(std::abs(c(r, s) - c(s, r)) <= 1e-9 * scale, "Gaussian mixture: covs[", i,
                  "] is not symmetric: entry (", r, ",", s, ") = ", c(r, s), " but (", s, ",", r,
                  ") = ", c(s, r));
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(c, Eigen::EigenvaluesOnly);
    SDE_CHECK(eig.eigenvalues().minCoeff() > 0, "Gaussian mixture: covs[", i,
              "] is not positive definite (smallest eigenvalue ", eig.eigenvalues().minCoeff(),
              "); use a symmetric positive definite matrix");
  }
  if (labels_.empty()) return;
  SDE_CHECK(labels_.size() == k, "Gaussian mixture: ", labels_.size(), " labels for ", k,
            " components; give one class label per component");
  // Every class needs a component, so a label is below the number of components (checked before
  // num_classes() adds 1 to the largest: INT64_MAX would wrap).
  for (size_t i = 0; i < k; ++i)
    SDE_CHECK(labels_[i] >= 0 && labels_[i] < int64_t(k), "Gaussian mixture: labels[", i, "] = ", labels_[i],
              " must be a class in [0, C), and C is at most the ", k, " components (every class needs one)");
  const int64_t classes = num_classes();
  std::vector<bool> seen(size_t(classes), false);
  for (size_t i = 0; i < k; ++i) seen[size_t(labels_[i])] = true;
  for (int64_t y = 0; y < classes; ++y)
    SDE_CHECK(seen[size_t(y)], "Gaussian mixture: class ", y, " has no component (labels run to ", classes - 1,
              "); number the classes 0, 1, ..., C - 1 without gaps");
}

int64_t GaussianMixture::num_classes() const {
  return labels_.empty() ? 0 : *std::max_element(labels_.begin(), labels_.end()) + 1;
}

GaussianMixture GaussianMixture::with_labels(std::vector<int64_t> labels) const {
  return GaussianMixture(weights_, means_, covs_, std::move(labels));
}

double GaussianMixture::class_weight(int64_t y) const {
  SDE_CHECK(y >= 0 && y < num_classes(), "Gaussian mixture: class ", y, " is not one of its ", num_classes(),
            " classes", labels_.empty() ? " (the mixture has no labels)" : "");
  double w = 0;
  for (size_t k = 0; k < labels_.size(); ++k)
    if (labels_[k] == y) w += weights_[k];
  return w;
}

GaussianMixture GaussianMixture::given_label(int64_t y) const {
  const double total = class_weight(y);
  std::vector<double> weights;
  std::vector<Eigen::VectorXd> means;
  std::vector<Eigen::MatrixXd> covs;
  for (size_t k = 0; k < labels_.size(); ++k) {
    if (labels_[k] != y) continue;
    weights.push_back(weights_[k] / total);
    means.push_back(means_[k]);
    covs.push_back(covs_[k]);
  }
  // Relabelled 0: the sub-mixture is one class of its own.
  const size_t kept = weights.size();
  return GaussianMixture(std::move(weights), std::move(means), std::move(covs), std::vector<int64_t>(kept, 0));
}

std::string GaussianMixture::to_json() const {
  nlohmann::json j;
  j["weights"] = weights_;
  for (size_t k = 0; k < means_.size(); ++k) {
    j["means"].push_back(std::vector<double>(means_[k].data(), means_[k].data() + means_[k].size()));
    nlohmann::json cov;
    for (int64_t r = 0; r < covs_[k].rows(); ++r) {
      std::vector<double> row(size_t(covs_[k].cols()));
      for (int64_t c = 0; c < covs_[k].cols(); ++c) row[size_t(c)] = covs_[k](r, c);
      cov.push_back(row);
    }
    j["covs"].push_back(cov);
  }
  if (!labels_.empty()) j["labels"] = labels_;
  return j.dump() + "\n";
}

GaussianMixture GaussianMixture::from_json(const std::string& text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw FileError(detail::concat(origin, ": not valid JSON (", e.what(), ")"));
  }
  auto field = [&](const char* key) -> const nlohmann::json& {
    if (!j.is_object() || !j.contains(key))
      throw FileError(detail::concat(origin, ": missing key \"", key,
                                     "\"; expected {\"weights\": [...], \"means\": [[...]], "
                                     "\"covs\": [[[...]]]}"));
    return j.at(key);
  };
  const nlohmann::json& jw = field("weights");
  const nlohmann::json& jm = field("means");
  const nlohmann::json& jc = field("covs");
  try {
    std::vector<double> weights = jw.get<std::vector<double>>();
    std::vector<Eigen::VectorXd> means;
    for (size_t i = 0; i < jm.size(); ++i) {
      const auto v = jm.at(i).get<std::vector<double>>();
      means.push_back(Eigen::Map<const Eigen::VectorXd>(v.data(), Eigen::Index(v.size())));
    }
    std::vector<Eigen::MatrixXd> covs;
    for (size_t i = 0; i < jc.size(); ++i) {
      const auto rows = jc.at(i).get<std::vector<std::vector<double>>>();
      Eigen::MatrixXd m(rows.size(), rows.empty() ? 0 : rows[0].size());
      for (size_t r = 0; r < rows.size(); ++r) {
        if (Eigen::Index(rows[r].size()) != m.cols())
          throw FileError(detail::concat(origin, ": covs[", i, "] row ", r, " has ",
                                         rows[r].size(), " numbers, row 0 has ", m.cols()));
        for (size_t c = 0; c < rows[r].size(); ++c) m(r, c) = rows[r][c];
      }
      covs.push_back(m);
    }
    std::vector<int64_t> labels;
    if (j.contains("labels")) labels = detail::json_integers(j.at("labels"), "labels");
    return GaussianMixture(std::move(weights), std::move(means), std::move(covs), std::move(labels));
  } catch (const nlohmann::json::exception& e) {
    throw FileError(detail::concat(origin, ": weights must be a list of numbers, means a list of ",
                                   "lists, covs a list of matrices (", e.what(), ")"));
  } catch (const InvalidArgument& e) {
    throw FileError(detail::concat(origin, ": ", e.what()));
  }
}

GaussianMixture GaussianMixture::from_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileError(detail::concat("cannot open mixture file '", path, "'; check the path"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return from_json(buffer.str(), path);
}

GaussianMixture GaussianMixture::perturbed(double alpha, double sigma) const {
  std::vector<Eigen::VectorXd> means;
  std::vector<Eigen::MatrixXd> covs;
  const Eigen::MatrixXd noise = sigma * sigma * Eigen::MatrixXd::Identity(dim(), dim());
  for (size_t k = 0; k < weights_.size(); ++k) {
    means.push_back(alpha * means_[k]);
    covs.push_back(alpha * alpha * covs_[k] + noise);
  }
  return GaussianMixture(weights_, std::move(means), std::move(covs), labels_);
}

double GaussianMixture::log_prob(const Eigen::VectorXd& x) const {
  Eigen::VectorXd terms(components());
  for (int64_t k = 0; k < components(); ++k) {
    const Eigen::LLT<Eigen::MatrixXd> llt(covs_[k]);
    const Eigen::VectorXd w = llt.matrixL().solve(x - means_[k]);
    const double log_det = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
    terms(k) = std::log(weights_[k]) - 0.5 * (w.squaredNorm() + log_det + double(dim()) * kLog2Pi);
  }
  return log_sum_exp(terms);
}

Eigen::VectorXd GaussianMixture::score(const Eigen::VectorXd& x) const {
  Eigen::VectorXd terms(components());
  std::vector<Eigen::VectorXd> scores;
  for (int64_t k = 0; k < components(); ++k) {
    const Eigen::LLT<Eigen::MatrixXd> llt(covs_[k]);
    const Eigen::VectorXd w = llt.matrixL().solve(x - means_[k]);
    const double log_det = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
    terms(k) = std::log(weights_[k]) - 0.5 * (w.squaredNorm() + log_det + double(dim()) * kLog2Pi);
    scores.push_back(-llt.solve(x - means_[k]));
  }
  const Eigen::VectorXd r = (terms.array() - log_sum_exp(terms)).exp();
  Eigen::VectorXd s = Eigen::VectorXd::Zero(dim());
  for (int64_t k = 0; k < components(); ++k) s += r(k) * scores[k];
  return s;
}

GaussianMixture GaussianMixture::conditioned(const std::vector<int64_t>& known, const Eigen::VectorXd& values) const {
  const int64_t d = dim();
  SDE_CHECK(int64_t(known.size()) == values.size(), "conditioning a mixture: ", known.size(), " known coordinates but ",
            values.size(), " values; give one value per coordinate");
  std::vector<bool> is_known(size_t(d), false);
  for (const int64_t i : known) {
    SDE_CHECK(i >= 0 && i < d && !is_known[size_t(i)], "conditioning a mixture: coordinate ", i,
              " is outside [0, ", d, ") or given twice");
    is_known[size_t(i)] = true;
  }
  std::vector<int64_t> unknown;
  for (int64_t i = 0; i < d; ++i)
    if (!is_known[size_t(i)]) unknown.push_back(i);
  SDE_CHECK(!unknown.empty(), "conditioning a mixture: every coordinate is known; leave at least one free");
  auto block = [](const Eigen::MatrixXd& m, const std::vector<int64_t>& rows, const std::vector<int64_t>& cols) {
    Eigen::MatrixXd out(rows.size(), cols.size());
    for (size_t r = 0; r < rows.size(); ++r)
      for (size_t c = 0; c < cols.size(); ++c) out(Eigen::Index(r), Eigen::Index(c)) = m(rows[r], cols[c]);
    return out;
  };
  auto part = [](const Eigen::VectorXd& v, const std::vector<int64_t>& idx) {
    Eigen::VectorXd out(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) out(Eigen::Index(i)) = v(idx[i]);
    return out;
  };
  Eigen::VectorXd log_w(components());
  std::vector<Eigen::VectorXd> means;
  std::vector<Eigen::MatrixXd> covs;
  for (int64_t k = 0; k < components(); ++k) {
    const Eigen::MatrixXd skk = block(covs_[k], known, known), suk = block(covs_[k], unknown, known);
    const Eigen::LLT<Eigen::MatrixXd> llt(skk);
    const Eigen::VectorXd r = values - part(means_[k], known);
    const Eigen::VectorXd w = llt.matrixL().solve(r);
    const double log_det = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
    log_w(k) = std::log(weights_[k]) - 0.5 * (w.squaredNorm() + log_det + double(known.size()) * kLog2Pi);
    means.push_back(part(means_[k], unknown) + suk * llt.solve(r));
    Eigen::MatrixXd cov = block(covs_[k], unknown, unknown) - suk * llt.solve(Eigen::MatrixXd(suk.transpose()));
    covs.push_back(0.5 * (cov + cov.transpose()));
  }
  // A component the values rule out keeps a weight of 1e-300 rather than 0 (weights must be > 0).
  const Eigen::VectorXd weights = (log_w.array() - log_sum_exp(log_w)).exp().max(1e-300);
  return GaussianMixture(std::vector<double>(weights.data(), weights.data() + weights.size()), std::move(means),
                         std::move(covs), labels_);
}

Eigen::VectorXd GaussianMixture::mean() const {
  Eigen::VectorXd m = Eigen::VectorXd::Zero(dim());
  for (int64_t k = 0; k < components(); ++k) m += weights_[k] * means_[k];
  return m;
}

Eigen::MatrixXd GaussianMixture::covariance() const {
  const Eigen::VectorXd m = mean();
  Eigen::MatrixXd c = -m * m.transpose();
  for (int64_t k = 0; k < components(); ++k)
    c += weights_[k] * (covs_[k] + means_[k] * means_[k].transpose());
  return c;
}

// ---------------------------------------------------------------- GaussianMixtureScore (batched)

GaussianMixtureScore::GaussianMixtureScore(GaussianMixture mixture, std::shared_ptr<const Sde> sde,
                                           c10::optional<torch::Dtype> dtype, torch::Device device)
    : mixture_(std::move(mixture)), sde_(std::move(sde)), dtype_(dtype), device_(device) {
  SDE_CHECK(sde_ != nullptr, "GaussianMixtureScore: the SDE must not be null");
  SDE_CHECK(!dtype_ || *dtype_ == torch::kFloat64 || *dtype_ == torch::kFloat32,
            "GaussianMixtureScore: dtype must be float32 or float64 (or unset: the caller's), got ", *dtype_);
  const int64_t k = mixture_.components(), d = mixture_.dim();
  bool diagonal = true;
  for (const Eigen::MatrixXd& c : mixture_.covs())
    diagonal = diagonal && (c - Eigen::MatrixXd(c.diagonal().asDiagonal())).cwiseAbs().maxCoeff() == 0;
  auto log_w = torch::empty({k}, torch::kFloat64);
  auto mu = torch::empty({k, d}, torch::kFloat64);
  auto basis = torch::empty({k, d, d}, torch::kFloat64);
  auto lam = torch::empty({k, d}, torch::kFloat64);
  auto chol = torch::empty({k, d, d}, torch::kFloat64);
  for (int64_t i = 0; i < k; ++i) {
    log_w[i] = std::log(mixture_.weights()[i]);
    const Eigen::MatrixXd& cov = mixture_.covs()[i];
    // A diagonal covariance is its own eigendecomposition (U = I), kept in the diagonal's order.
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov, diagonal ? Eigen::EigenvaluesOnly
                                                                          : Eigen::ComputeEigenvectors);
    const Eigen::VectorXd eigenvalues = diagonal ? Eigen::VectorXd(cov.diagonal()) : eig.eigenvalues();
    const Eigen::MatrixXd lower = Eigen::LLT<Eigen::MatrixXd>(cov).matrixL();
    // Whole copies: entry by entry, each assignment through a tensor view cost ~10 us, 3 minutes
    // at D = 3000. Eigen stores columns, so its data read as rows is the transpose.
    auto matrix = [d](const Eigen::MatrixXd& m) {
      return torch::from_blob(const_cast<double*>(m.data()), {d, d}, torch::kFloat64).t();
    };
    auto vector = [d](const Eigen::VectorXd& v) {
      return torch::from_blob(const_cast<double*>(v.data()), {d}, torch::kFloat64);
    };
    mu[i].copy_(vector(mixture_.means()[i]));
    lam[i].copy_(vector(eigenvalues));
    if (!diagonal) basis[i].copy_(matrix(eig.eigenvectors()));
    chol[i].copy_(matrix(lower));
  }
  const auto on_device = torch::TensorOptions().dtype(torch::kFloat64).device(device_);
  const torch::Tensor u = diagonal ? torch::Tensor() : basis.to(on_device);
  float64_ = {log_w.to(on_device), mu.to(on_device), u, diagonal ? u : u.transpose(1, 2).contiguous(),
              lam.to(on_device), chol.to(on_device)};
  auto cast = [](const torch::Tensor& v) { return v.defined() ? v.to(torch::kFloat32) : v; };
  if (!mixture_.labels().empty())
    component_labels_ = torch::tensor(mixture_.labels(), torch::kInt64).to(device_);
  float32_ = {cast(float64_.log_weights), cast(float64_.means), cast(float64_.basis), cast(float64_.basis_t),
              cast(float64_.eigenvalues), cast(float64_.cholesky)};
}

torch::ScalarType GaussianMixtureScore::compute_dtype(torch::ScalarType input) const {
  if (dtype_) return *dtype_;
  return input == torch::kFloat32 ? torch::kFloat32 : torch::kFloat64;
}

const GaussianMixtureScore::Constants& GaussianMixtureScore::constants(torch::ScalarType dtype) const {
  return dtype == torch::kFloat32 ? float32_ : float64_;
}

std::pair<torch::Tensor, torch::Tensor> GaussianMixtureScore::alpha_sigma(const torch::Tensor& t) const {
  auto tc = t.to(device_, torch::kFloat64);
  // Samplers call with one time for the whole batch: then alpha, sigma and the variances are
  // computed once and broadcast.
  if (tc.numel() > 1) {
    const auto [lo, hi] = torch::aminmax(tc);
    if (lo.item<double>() == hi.item<double>()) tc = tc.narrow(0, 0, 1);
  }
  // In float64 whatever the dtype of the computation: sigma^2 = 1 - alpha^2 cancels near t = 0.
  return {sde_->alpha(tc), sde_->sigma(tc)};
}

// Layout [K, D, B]: the batch is the innermost dimension, so every reduction over D or K runs
// along whole rows of B contiguous numbers (LibTorch's reductions over a short innermost
// dimension are ~30x slower: a sum over D = 2 of [8, 20000, 2] costs 3.7 ms, over [8, 2, 20000]
// ~0.1 ms).
namespace {

// factor [K, D, D] (a transposed view) times v [K, D, B]: each column's arithmetic must not depend
// on B. OpenBLAS's dgemm gives that; its sgemm does not on every CPU (an AMD EPYC here: 3.8e-6
// between the last 700 columns of a batch of 1000 and the same 700 alone), so float32 products
// run in float64 (a K x D x D factor: the conversion is cheap next to the B columns).
torch::Tensor change_of_basis(const torch::Tensor& factor, const torch::Tensor& v) {
  if (v.scalar_type() == torch::kFloat64) return torch::bmm(factor, v);
  return torch::bmm(factor.to(torch::kFloat64), v.to(torch::kFloat64)).to(v.scalar_type());
}

}  // namespace

GaussianMixtureScore::Terms GaussianMixtureScore::terms(const torch::Tensor& x,
                                                        const torch::Tensor& t) const {
  check_score_inputs(*this, x, t);
  const torch::ScalarType dtype = compute_dtype(x.scalar_type());
  const Constants& c = constants(dtype);
  const auto xt = x.to(device_, dtype).t().contiguous().unsqueeze(0);  // [1, D, B]
  const auto [alpha, sigma] = alpha_sigma(t);
  const auto a = alpha.to(dtype).view({1, 1, -1});
  const auto s = sigma.to(dtype).view({1, 1, -1});
  const auto diff = xt - a * c.means.unsqueeze(2);                                     // [K, D, B]
  // Both changes of basis take a transposed view as their first factor: OpenBLAS's dgemm then
  // gives every column (sample) the same arithmetic in any batch, which it does not with a
  // contiguous first factor (measured; the unit test on batch invariance pins it).
  const auto z = c.basis.defined() ? change_of_basis(c.basis.transpose(1, 2), diff) : diff;  // U^T diff
  const auto var = a.square() * c.eigenvalues.unsqueeze(2) + s.square();                // [K, D, B or 1]
  const auto y = z / var;
  const double d = double(mixture_.dim());
  const auto log_normal = -0.5 * (ordered_sum(z * y, 1) + ordered_sum(var.log(), 1) + d * kLog2Pi);
  return {log_normal + c.log_weights.unsqueeze(1), y};
}

torch::Tensor GaussianMixtureScore::score(const torch::Tensor& x, const torch::Tensor& t) const {
  // Diagonal covariances, no gradient asked for, on the CPU: the fused loops
  // (mixture/diagonal_score.hpp).
  const torch::ScalarType dtype = compute_dtype(x.scalar_type());
  const Constants& c = constants(dtype);
  if (!c.basis.defined() && device_.is_cpu() && x.device().is_cpu() &&
      !(torch::GradMode::is_enabled() && x.requires_grad())) {
    check_score_inputs(*this, x, t);
    const auto [alpha, sigma] = alpha_sigma(t);
    return detail::diagonal_mixture_score(x.to(dtype).contiguous(), alpha, sigma, c.means, c.eigenvalues,
                                          c.log_weights)
        .to(x.scalar_type());
  }
  return score_from(terms(x, t), x);
}

torch::Tensor GaussianMixtureScore::score_from(const Terms& terms_, const torch::Tensor& like) const {
  const torch::Tensor& basis_t = constants(terms_.y.scalar_type()).basis_t;
  const auto r = ordered_softmax(terms_.log_joint).unsqueeze(1);  // responsibilities [K, 1, B]
  const auto ry = r * terms_.y;  // not in place: the likelihood differentiates the score
  const auto s = ordered_sum(basis_t.defined() ? change_of_basis(basis_t.transpose(1, 2), ry) : ry, 0).neg();  // U ry: [D, B]
  return s.t().to(like.options()).contiguous();
}

torch::Tensor GaussianMixtureScore::data_prediction(const torch::Tensor& x, const torch::Tensor& t) const {
  return data_prediction_from(terms(x, t), t, x);
}

torch::Tensor GaussianMixtureScore::data_prediction_from(const Terms& terms_, const torch::Tensor& t,
                                                         const torch::Tensor& like) const {
  const Constants& c = constants(terms_.y.scalar_type());
  const auto a = alpha_sigma(t).first.to(terms_.y.scalar_type()).view({1, 1, -1});
  const auto r = ordered_softmax(terms_.log_joint).unsqueeze(1);                 // [K, 1, B]
  const auto pulled = r * terms_.y * c.eigenvalues.unsqueeze(2) * a;             // r alpha Lambda y, eigenbasis
  const auto back = c.basis_t.defined() ? change_of_basis(c.basis_t.transpose(1, 2), pulled) : pulled;  // U (...)
  const auto d = ordered_sum(back + r * c.means.unsqueeze(2), 0);                // [D, B]
  return d.t().to(like.options()).contiguous();
}

GaussianMixtureScore::Terms GaussianMixtureScore::class_terms(const torch::Tensor& x, const torch::Tensor& t,
                                                              const Condition& c) const {
  check_condition(*this, c, x.size(0));
  Terms out = terms(x, t);
  if (!c.labels.defined() || num_classes() == 0) return out;  // unlabelled: the check let only "no class" through
  const auto labels = c.labels.to(device_).unsqueeze(0);                         // [1, B]
  const auto member = component_labels_.unsqueeze(1).eq(labels).logical_or(labels.eq(kUnconditional));  // [K, B]
  out.log_joint = out.log_joint.masked_fill(member.logical_not(), -std::numeric_limits<double>::infinity());
  return out;
}

torch::Tensor GaussianMixtureScore::conditional_score(const torch::Tensor& x, const torch::Tensor& t,
                                                      const Condition& c) const {
  if (!c.labels.defined() || num_classes() == 0) {  // nothing to mask: the (possibly fused) unconditional path
    check_condition(*this, c, x.size(0));
    return score(x, t);
  }
  return score_from(class_terms(x, t, c), x);
}

torch::Tensor GaussianMixtureScore::conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                                                const Condition& c) const {
  return data_prediction_from(class_terms(x, t, c), t, x);
}

torch::Tensor GaussianMixtureScore::class_log_probs(const torch::Tensor& x, const torch::Tensor& t) const {
  SDE_CHECK(num_classes() > 0, "the mixture has no class labels, so no classifier; give its JSON a \"labels\" list");
  const Terms terms_ = terms(x, t);
  const auto total = ordered_logsumexp(terms_.log_joint);                        // [B]
  std::vector<torch::Tensor> per_class;
  for (int64_t y = 0; y < num_classes(); ++y) {
    const auto member = component_labels_.eq(y).unsqueeze(1);                   // [K, 1]
    per_class.push_back(ordered_logsumexp(terms_.log_joint.masked_fill(member.logical_not(),
                                                                       -std::numeric_limits<double>::infinity())) - total);
  }
  return torch::stack(per_class, 1).to(x.scalar_type());
}

torch::Tensor GaussianMixtureScore::log_prob(const torch::Tensor& x, const torch::Tensor& t) const {
  return ordered_logsumexp(terms(x, t).log_joint);
}

torch::Tensor GaussianMixtureScore::sample(const NoiseStream& noise, SampleRange range, double t,
                                           const torch::TensorOptions& options) const {
  const int64_t d = mixture_.dim(), k = mixture_.components();
  const torch::ScalarType dtype = dtype_.value_or(torch::kFloat64);
  const Constants& c = constants(dtype);
  const auto compute = torch::TensorOptions().dtype(dtype).device(device_);
  // Component from one uniform per sample against the cumulative weights (float64).
  const auto u = noise.uniform(range, {1}, /*draw=*/0).to(device_);
  auto cumulative = torch::empty({std::max<int64_t>(k - 1, 1)}, torch::kFloat64);
  double acc = 0;
  for (int64_t i = 0; i + 1 < k; ++i) cumulative[i] = (acc += mixture_.weights()[i]);
  if (k == 1) cumulative[0] = 2.0;  // never exceeded
  const auto component = (u > cumulative.to(device_).unsqueeze(0)).sum(1);  // [B]
  const auto z0 = noise.normal(range, {d}, /*draw=*/1, compute).unsqueeze(-1);  // [B, D, 1]
  // x0 = mean + L z per sample, through each sample's own copy of its factor L (the same
  // arithmetic for a row in any batch). The copies are made for a block of rows at a time, at most
  // 2^25 entries: at D = 3000 all rows at once took 72 MB each.
  auto x0 = c.means.index_select(0, component);
  const int64_t block = std::max<int64_t>(1, (int64_t(1) << 25) / std::max<int64_t>(d * d, 1));
  for (int64_t first = 0; first < range.count; first += block) {
    const int64_t rows = std::min(block, range.count - first);
    x0.narrow(0, first, rows) +=
        torch::bmm(c.cholesky.index_select(0, component.narrow(0, first, rows)), z0.narrow(0, first, rows)).squeeze(-1);
  }
  const auto zt = noise.normal(range, {d}, /*draw=*/2, compute);
  const auto xt = x0 * sde_->alpha(t) + zt * sde_->sigma(t);
  return xt.to(torch::TensorOptions()
                   .dtype(options.has_dtype() ? options.dtype() : compute.dtype())
                   .device(options.has_device() ? options.device() : compute.device()));
}

GaussianMixtureClassifier::GaussianMixtureClassifier(const GaussianMixtureScore& model) : model_(model) {
  SDE_CHECK(model_.num_classes() > 0, "the mixture has no class labels, so no classifier; give its JSON a \"labels\" list");
}

}  // namespace sde
