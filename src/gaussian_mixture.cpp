#include "sde/gaussian_mixture.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sde/errors.hpp"

namespace sde {
namespace {

constexpr double kLog2Pi = 1.8378770664093454836;  // log(2 pi)

double log_sum_exp(const Eigen::VectorXd& v) {
  const double m = v.maxCoeff();
  return m + std::log((v.array() - m).exp().sum());
}

}  // namespace

// ---------------------------------------------------------------- GaussianMixture (float64)

GaussianMixture::GaussianMixture(std::vector<double> weights, std::vector<Eigen::VectorXd> means,
                                 std::vector<Eigen::MatrixXd> covs)
    : weights_(std::move(weights)), means_(std::move(means)), covs_(std::move(covs)) {
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
    return GaussianMixture(std::move(weights), std::move(means), std::move(covs));
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
  return GaussianMixture(weights_, std::move(means), std::move(covs));
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
                                           torch::Dtype dtype, torch::Device device)
    : mixture_(std::move(mixture)),
      sde_(std::move(sde)),
      options_(torch::TensorOptions().dtype(dtype).device(device)) {
  SDE_CHECK(sde_ != nullptr, "GaussianMixtureScore: the SDE must not be null");
  SDE_CHECK(dtype == torch::kFloat64 || dtype == torch::kFloat32,
            "GaussianMixtureScore: dtype must be float32 or float64, got ", dtype);
  const int64_t k = mixture_.components(), d = mixture_.dim();
  auto log_w = torch::empty({k}, torch::kFloat64);
  auto mu = torch::empty({k, d}, torch::kFloat64);
  auto basis = torch::empty({k, d, d}, torch::kFloat64);
  auto lam = torch::empty({k, d}, torch::kFloat64);
  auto chol = torch::empty({k, d, d}, torch::kFloat64);
  for (int64_t i = 0; i < k; ++i) {
    log_w[i] = std::log(mixture_.weights()[i]);
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(mixture_.covs()[i]);
    const Eigen::MatrixXd lower = Eigen::LLT<Eigen::MatrixXd>(mixture_.covs()[i]).matrixL();
    for (int64_t r = 0; r < d; ++r) {
      mu[i][r] = mixture_.means()[i](r);
      lam[i][r] = eig.eigenvalues()(r);
      for (int64_t c = 0; c < d; ++c) {
        basis[i][r][c] = eig.eigenvectors()(r, c);
        chol[i][r][c] = lower(r, c);
      }
    }
  }
  log_weights_ = log_w.to(options_);
  means_ = mu.to(options_);
  basis_ = basis.to(options_);
  eigenvalues_ = lam.to(options_);
  cholesky_ = chol.to(options_);
}

// Layout [K, D, B]: the batch is the innermost dimension, so every reduction over D or K runs
// along whole rows of B contiguous numbers (LibTorch's reductions over a short innermost
// dimension are ~30x slower: a sum over D = 2 of [8, 20000, 2] costs 3.7 ms, over [8, 2, 20000]
// ~0.1 ms).
GaussianMixtureScore::Terms GaussianMixtureScore::terms(const torch::Tensor& x,
                                                        const torch::Tensor& t) const {
  check_score_inputs(*this, x, t);
  const auto xt = x.to(options_).t().contiguous().unsqueeze(0);  // [1, D, B]
  auto tc = t.to(options_);
  // Samplers call with one time for the whole batch: then alpha, sigma and the variances are
  // computed once and broadcast.
  if (tc.numel() > 1) {
    const auto [lo, hi] = torch::aminmax(tc);
    if (lo.item<double>() == hi.item<double>()) tc = tc.narrow(0, 0, 1);
  }
  const auto a = sde_->alpha(tc).view({1, 1, -1});
  const auto s = sde_->sigma(tc).view({1, 1, -1});
  const auto diff = xt - a * means_.unsqueeze(2);                            // [K, D, B]
  const auto z = torch::bmm(basis_.transpose(1, 2), diff);                    // U^T diff
  const auto var = a.square() * eigenvalues_.unsqueeze(2) + s.square();       // [K, D, B or 1]
  const auto y = z / var;
  const double d = double(mixture_.dim());
  const auto log_normal = -0.5 * ((z * y).sum(1) + var.log().sum(1) + d * 1.8378770664093454836);
  return {log_normal + log_weights_.unsqueeze(1), y};
}

torch::Tensor GaussianMixtureScore::score(const torch::Tensor& x, const torch::Tensor& t) const {
  const Terms terms_ = terms(x, t);
  const auto r = torch::softmax(terms_.log_joint, 0).unsqueeze(1);  // responsibilities [K, 1, B]
  const auto s = torch::bmm(basis_, r * terms_.y).sum(0).neg_();    // back to x's basis: [D, B]
  return s.t().to(x.options()).contiguous();
}

torch::Tensor GaussianMixtureScore::log_prob(const torch::Tensor& x, const torch::Tensor& t) const {
  return torch::logsumexp(terms(x, t).log_joint, 0);
}

torch::Tensor GaussianMixtureScore::sample(const NoiseStream& noise, SampleRange range, double t,
                                           const torch::TensorOptions& options) const {
  const int64_t d = mixture_.dim(), k = mixture_.components();
  // Component from one uniform per sample against the cumulative weights (float64).
  const auto u = noise.uniform(range, {1}, /*draw=*/0).to(options_.device());
  auto cumulative = torch::empty({std::max<int64_t>(k - 1, 1)}, torch::kFloat64);
  double acc = 0;
  for (int64_t i = 0; i + 1 < k; ++i) cumulative[i] = (acc += mixture_.weights()[i]);
  if (k == 1) cumulative[0] = 2.0;  // never exceeded
  const auto component = (u > cumulative.to(options_.device()).unsqueeze(0)).sum(1);  // [B]
  const auto z0 = noise.normal(range, {d}, /*draw=*/1, options_).unsqueeze(-1);       // [B, D, 1]
  const auto x0 = means_.index_select(0, component) +
                  torch::bmm(cholesky_.index_select(0, component), z0).squeeze(-1);
  const auto zt = noise.normal(range, {d}, /*draw=*/2, options_);
  const auto xt = x0 * sde_->alpha(t) + zt * sde_->sigma(t);
  return xt.to(torch::TensorOptions()
                   .dtype(options.has_dtype() ? options.dtype() : options_.dtype())
                   .device(options.has_device() ? options.device() : options_.device()));
}

}  // namespace sde
