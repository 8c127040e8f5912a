#include "sde/core/mixture_suite.hpp"

#include <Eigen/QR>

#include <cmath>

#include "sde/core/errors.hpp"
#include "sde/core/random.hpp"

namespace sde {
namespace {

// Normals of draw `draw` for "samples" [0, rows) of width `cols`, as a float64 Eigen matrix.
Eigen::MatrixXd normals(const NoiseStream& noise, int64_t rows, int64_t cols, uint32_t draw) {
  const torch::Tensor z = noise.normal({0, rows}, {cols}, draw, torch::kFloat64).contiguous();
  Eigen::MatrixXd m(rows, cols);
  const double* p = z.data_ptr<double>();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) m(i, j) = p[i * cols + j];
  return m;
}

}  // namespace

void MixtureSpec::validate() const {
  SDE_CHECK(dim >= 1 && components >= 1, "mixture spec: dim = ", dim, " and components = ", components,
            " must both be >= 1");
  SDE_CHECK(std::isfinite(separation) && separation >= 0, "mixture spec: separation = ", separation, " must be >= 0");
  SDE_CHECK(std::isfinite(scale) && scale > 0, "mixture spec: scale = ", scale, " must be > 0");
  SDE_CHECK(std::isfinite(anisotropy) && anisotropy >= 1, "mixture spec: anisotropy = ", anisotropy,
            " must be >= 1 (1: isotropic components)");
}

GaussianMixture make_mixture(const MixtureSpec& spec) {
  spec.validate();
  const int64_t d = spec.dim, k = spec.components;
  const NoiseStream noise(spec.seed);
  const Eigen::MatrixXd directions = normals(noise, k, d, 0);
  std::vector<double> weights(size_t(k), 1.0 / double(k));
  std::vector<Eigen::VectorXd> means;
  std::vector<Eigen::MatrixXd> covs;
  for (int64_t i = 0; i < k; ++i) {
    const Eigen::VectorXd u = directions.row(i).transpose();
    means.push_back(u.norm() > 0 ? Eigen::VectorXd(u * (spec.separation / u.norm())) : Eigen::VectorXd::Zero(d));
    // Standard deviations scale * anisotropy^(e), e from -1/2 to 1/2 in equal steps.
    Eigen::VectorXd variances(d);
    for (int64_t j = 0; j < d; ++j) {
      const double e = d == 1 ? 0.0 : double(j) / double(d - 1) - 0.5;
      variances(j) = std::pow(spec.scale * std::pow(spec.anisotropy, e), 2);
    }
    if (spec.anisotropy == 1.0) {
      covs.push_back(variances.asDiagonal().toDenseMatrix());
      continue;
    }
    // A random rotation: the Q factor of a Gaussian matrix (draw 1 + i).
    const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(normals(noise, d, d, uint32_t(1 + i))).householderQ();
    Eigen::MatrixXd cov = q * variances.asDiagonal() * q.transpose();
    covs.push_back(0.5 * (cov + cov.transpose()));  // exactly symmetric
  }
  return GaussianMixture(std::move(weights), std::move(means), std::move(covs));
}

std::vector<MixtureProblem> mixture_suite() {
  // The ring of data/ring8.json (radius 4, std 0.2), built here so that the suite needs no files.
  std::vector<double> w(8, 1.0 / 8);
  std::vector<Eigen::VectorXd> ring_means;
  std::vector<Eigen::MatrixXd> ring_covs;
  for (int i = 0; i < 8; ++i) {
    const double a = 2.0 * M_PI * i / 8.0;
    ring_means.push_back(Eigen::Vector2d(4 * std::cos(a), 4 * std::sin(a)));
    ring_covs.push_back(Eigen::Matrix2d::Identity() * 0.04);
  }
  std::vector<MixtureProblem> suite;
  suite.push_back({"2d-ring8", "2-D ring of 8 isotropic modes (std 0.2, radius 4)",
                   GaussianMixture(w, ring_means, ring_covs)});
  const auto add = [&](std::string name, std::string description, MixtureSpec spec) {
    suite.push_back({std::move(name), std::move(description), make_mixture(spec)});
  };
  add("64d-gauss-aniso", "64-D single Gaussian, standard deviations 0.1..10 (condition 10^4), rotated",
      {64, 1, 0.0, 1.0, 100.0, 11});
  add("32d-k6-aniso", "32-D, 6 anisotropic modes (std 0.1..1, rotated) at distance 4",
      {32, 6, 4.0, 0.32, 10.0, 12});
  add("16d-k4-aniso", "16-D, 4 anisotropic modes (std 0.15..0.6, rotated) at distance 3",
      {16, 4, 3.0, 0.3, 4.0, 13});
  add("8d-k10-overlap", "8-D, 10 isotropic modes (std 0.6) at distance 1: badly separated",
      {8, 10, 1.0, 0.6, 1.0, 14});
  add("64d-k3-far", "64-D, 3 isotropic modes (std 0.3) at distance 6", {64, 3, 6.0, 0.3, 1.0, 15});
  add("2d-k2-thin", "2-D, 2 thin anisotropic modes (std 0.02..0.2) at distance 8", {2, 2, 8.0, 0.063, 10.0, 16});
  return suite;
}

}  // namespace sde
