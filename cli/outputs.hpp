// The files a command writes beside its main output: a JSON summary and a picture.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <optional>
#include <string>

#include "sde/gaussian_mixture.hpp"

namespace sde::cli {

/// `out` with its extension replaced: samples.npy -> samples.json.
std::string sibling(const std::string& out, const std::string& extension);

/// Writes `summary` (indented) atomically.
void write_json(const std::string& path, const nlohmann::json& summary);

/// The picture of samples: a scatter plot for [N, 2] points (with the density's contours when
/// `density` is given), a grid of the first 64 for [N, C, H, W] images with C 1 or 3 (values in
/// [-1, 1] when `symmetric`, else [0, 1]). Returns false, writing nothing, for other shapes.
bool write_picture(const std::string& path, const torch::Tensor& samples, const std::string& caption,
                   const std::optional<GaussianMixture>& density, bool symmetric);

}  // namespace sde::cli
