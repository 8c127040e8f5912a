#include "sde/core/toy_data.hpp"

#include <algorithm>
#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {

const std::vector<std::string>& toy_data_names() {
  static const std::vector<std::string> names = {"ring", "swissroll", "checkerboard", "moons"};
  return names;
}

namespace {

void check_toy_name(const std::string& name) {
  const auto& names = toy_data_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) return;
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  throw InvalidArgument(detail::concat("unknown toy data '", name, "'; known: ", known));
}

}  // namespace

torch::Tensor toy_data(const std::string& name, const NoiseStream& noise, SampleRange range,
                       const torch::TensorOptions& options) {
  check_toy_name(name);
  const auto u = noise.uniform(range, {3}, /*draw=*/0);  // float64
  const auto z = noise.normal(range, {2}, /*draw=*/1, torch::kFloat64);
  const auto u0 = u.select(1, 0), u1 = u.select(1, 1), u2 = u.select(1, 2);
  torch::Tensor x;
  if (name == "ring") {
    // 8 components at angles k pi / 4 on the circle of radius 4, std 0.2 (data/ring8.json).
    const auto angle = (u0 * 8).floor() * (M_PI / 4);
    x = torch::stack({angle.cos(), angle.sin()}, 1) * 4 + z * 0.2;
  } else if (name == "swissroll") {
    // The swiss roll of FFJORD's benchmarks: t in [1.5 pi, 4.5 pi], (t cos t, t sin t) / 5, noise 0.2.
    const auto t = (u0 * 2 + 1) * (1.5 * M_PI);
    x = torch::stack({t * t.cos(), t * t.sin()}, 1) / 5 + z * 0.2;
  } else if (name == "checkerboard") {
    // 8 of the 16 unit squares of [-2, 2]^2 in a checkerboard pattern, uniform inside, scaled by 2.
    const auto x1 = u0 * 4 - 2;
    const auto x2 = u1 - (u2 < 0.5).to(torch::kFloat64) * 2 + torch::remainder(x1.floor(), 2);
    x = torch::stack({x1, x2}, 1) * 2;
  } else {  // moons
    // Two interleaved half circles (outer: (cos a, sin a); inner: (1 - cos a, 0.5 - sin a)), noise
    // 0.1, shifted so their mean is 0 and scaled by 2.
    const auto a = u0 * M_PI;
    const auto inner = (u1 < 0.5).to(torch::kFloat64);
    const auto px = a.cos() * (1 - 2 * inner) + inner;
    const auto py = a.sin() * (1 - 2 * inner) + inner * 0.5;
    x = (torch::stack({px - 0.5, py - 0.25}, 1) + z * 0.1) * 2;
  }
  return x.to(options.has_dtype() ? options : options.dtype(torch::kFloat32));
}

torch::Tensor toy_labels(const std::string& name, const NoiseStream& noise, SampleRange range) {
  check_toy_name(name);
  const auto u = noise.uniform(range, {3}, /*draw=*/0);  // toy_data's uniforms
  torch::Tensor label;
  if (name == "ring") label = (u.select(1, 0) * 8).floor();
  else if (name == "swissroll") label = (u.select(1, 0) * 3).floor();
  else if (name == "checkerboard") label = (u.select(1, 2) < 0.5).to(torch::kFloat64);
  else label = (u.select(1, 1) < 0.5).to(torch::kFloat64);  // moons: 1 = the inner moon
  return label.clamp_max(double(toy_classes(name) - 1)).to(torch::kInt64);
}

int64_t toy_classes(const std::string& name) {
  check_toy_name(name);
  if (name == "ring") return 8;
  return name == "swissroll" ? 3 : 2;
}

std::optional<GaussianMixture> toy_mixture(const std::string& name) {
  check_toy_name(name);
  if (name != "ring") return std::nullopt;
  std::vector<Eigen::VectorXd> means;
  for (int k = 0; k < 8; ++k) means.push_back(Eigen::Vector2d(4 * std::cos(k * M_PI / 4), 4 * std::sin(k * M_PI / 4)));
  return GaussianMixture(std::vector<double>(8, 0.125), means,
                         std::vector<Eigen::MatrixXd>(8, Eigen::Matrix2d::Identity() * 0.04), {0, 1, 2, 3, 4, 5, 6, 7});
}

}  // namespace sde
