#include "sde/core/metrics.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <vector>

#include "sde/core/errors.hpp"
#include "sde/core/random.hpp"

namespace sde {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Eigen::MatrixXd symmetric_sqrt(const Eigen::MatrixXd& m) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(m);
  const Eigen::VectorXd root = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return eig.eigenvectors() * root.asDiagonal() * eig.eigenvectors().transpose();
}

// The empirical quantile function of sorted values at q in (0, 1).
double quantile(const std::vector<double>& sorted, double q) {
  const auto i = std::min<size_t>(size_t(q * double(sorted.size())), sorted.size() - 1);
  return sorted[i];
}

}  // namespace

Eigen::MatrixXd to_eigen(const torch::Tensor& samples) {
  SDE_CHECK(samples.dim() >= 1, "metrics: samples must have shape [n, ...], got ", samples.sizes());
  const auto flat = samples.detach().to(torch::kCPU, torch::kFloat64).reshape({samples.size(0), -1}).contiguous();
  return Eigen::Map<const RowMatrix>(flat.data_ptr<double>(), flat.size(0), flat.size(1));
}

Eigen::VectorXd sample_mean(const torch::Tensor& samples) {
  const Eigen::MatrixXd x = to_eigen(samples);
  SDE_CHECK(x.rows() >= 1, "sample_mean: needs at least one sample");
  return x.colwise().mean();
}

Eigen::MatrixXd sample_covariance(const torch::Tensor& samples) {
  const Eigen::MatrixXd x = to_eigen(samples);
  SDE_CHECK(x.rows() >= 2, "sample_covariance: needs at least two samples, got ", x.rows());
  const Eigen::MatrixXd centred = x.rowwise() - x.colwise().mean();
  return centred.transpose() * centred / double(x.rows() - 1);
}

double gaussian_w2(const Eigen::VectorXd& m1, const Eigen::MatrixXd& c1, const Eigen::VectorXd& m2,
                   const Eigen::MatrixXd& c2) {
  SDE_CHECK(m1.size() == m2.size() && c1.rows() == m1.size() && c2.rows() == m2.size(),
            "gaussian_w2: dimensions differ (", m1.size(), " vs ", m2.size(), ")");
  const Eigen::MatrixXd root1 = symmetric_sqrt(c1);
  const Eigen::MatrixXd cross = symmetric_sqrt(root1 * c2 * root1);
  const double w2 = (m1 - m2).squaredNorm() + c1.trace() + c2.trace() - 2.0 * cross.trace();
  return std::sqrt(std::max(w2, 0.0));
}

double gaussian_w2(const torch::Tensor& a, const torch::Tensor& b) {
  return gaussian_w2(sample_mean(a), sample_covariance(a), sample_mean(b), sample_covariance(b));
}

namespace {

// A set's projections on the seeded directions, each column sorted: what sliced W2 compares.
Eigen::MatrixXd sorted_projections(const torch::Tensor& set, int64_t directions, uint64_t seed) {
  const Eigen::MatrixXd x = to_eigen(set);
  SDE_CHECK(x.rows() >= 1, "sliced_w2: both sample sets must be non-empty");
  Eigen::MatrixXd dirs = to_eigen(NoiseStream(seed).normal({0, directions}, {x.cols()}, 0)).transpose();
  dirs.colwise().normalize();
  Eigen::MatrixXd p = x * dirs;  // [n, L]
  for (int64_t l = 0; l < directions; ++l) std::sort(p.col(l).data(), p.col(l).data() + p.rows());
  return p;
}

double sorted_sliced_w2(const Eigen::MatrixXd& pu, const Eigen::MatrixXd& pv) {
  const size_t m = size_t(std::max(pu.rows(), pv.rows()));
  std::vector<double> u(size_t(pu.rows())), v(size_t(pv.rows()));
  double total = 0;
  for (int64_t l = 0; l < pu.cols(); ++l) {
    Eigen::Map<Eigen::VectorXd>(u.data(), pu.rows()) = pu.col(l);
    Eigen::Map<Eigen::VectorXd>(v.data(), pv.rows()) = pv.col(l);
    double sum = 0;
    for (size_t i = 0; i < m; ++i) {
      const double q = (double(i) + 0.5) / double(m);
      const double d = quantile(u, q) - quantile(v, q);
      sum += d * d;
    }
    total += sum / double(m);
  }
  return std::sqrt(total / double(pu.cols()));
}

}  // namespace

double sliced_w2(const torch::Tensor& a, const torch::Tensor& b, int64_t directions, uint64_t seed) {
  SDE_CHECK(a.dim() >= 1 && b.dim() >= 1 && a.sizes().slice(1) == b.sizes().slice(1),
            "sliced_w2: sample shapes differ (", a.sizes(), " vs ", b.sizes(), ")");
  SDE_CHECK(directions >= 1, "sliced_w2: directions = ", directions, " must be >= 1");
  return sorted_sliced_w2(sorted_projections(a, directions, seed), sorted_projections(b, directions, seed));
}

W2Floor sliced_w2_floor(const std::function<torch::Tensor(int64_t k)>& draw, const torch::Tensor& reference,
                        int64_t draws) {
  SDE_CHECK(draws >= 2, "sliced_w2_floor: draws = ", draws, " must be >= 2 (a spread needs two)");
  constexpr int64_t kDirections = 256;  // sliced_w2's default, with its seed 0: the same directions
  const Eigen::MatrixXd sorted_reference = sorted_projections(reference, kDirections, 0);  // sorted once
  std::vector<double> w;
  for (int64_t k = 0; k < draws; ++k) {
    const torch::Tensor set = draw(k);
    SDE_CHECK(set.dim() >= 1 && reference.dim() >= 1 && set.sizes().slice(1) == reference.sizes().slice(1),
              "sliced_w2_floor: exact set ", k, " has shape ", set.sizes(), ", the reference ", reference.sizes());
    w.push_back(sorted_sliced_w2(sorted_projections(set, kDirections, 0), sorted_reference));
  }
  W2Floor floor;
  floor.draws = draws;
  for (double v : w) floor.mean += v / double(draws);
  for (double v : w) floor.std += (v - floor.mean) * (v - floor.mean) / double(draws - 1);
  floor.std = std::sqrt(floor.std);
  return floor;
}

double mean_log_likelihood(const torch::Tensor& samples, const GaussianMixture& mixture) {
  const Eigen::MatrixXd x = to_eigen(samples);
  SDE_CHECK(x.cols() == mixture.dim(), "mean_log_likelihood: samples have D = ", x.cols(),
            " but the mixture has D = ", mixture.dim());
  SDE_CHECK(x.rows() >= 1, "mean_log_likelihood: needs at least one sample");
  double sum = 0;
  for (Eigen::Index i = 0; i < x.rows(); ++i) sum += mixture.log_prob(x.row(i).transpose());
  return sum / double(x.rows());
}

double log_log_slope(const std::vector<double>& x, const std::vector<double>& y) {
  SDE_CHECK(x.size() == y.size() && x.size() >= 2, "log_log_slope: needs two or more (x, y) pairs, got ", x.size(),
            " x and ", y.size(), " y");
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    SDE_CHECK(x[i] > 0 && y[i] > 0, "log_log_slope: point ", i, " = (", x[i], ", ", y[i], ") is not positive");
    mx += std::log(x[i]) / double(x.size());
    my += std::log(y[i]) / double(y.size());
  }
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (std::log(x[i]) - mx) * (std::log(y[i]) - my);
    sxx += (std::log(x[i]) - mx) * (std::log(x[i]) - mx);
  }
  return sxy / sxx;
}

}  // namespace sde
