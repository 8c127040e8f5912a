// 2-D toy distributions for training and demos. Every point is a function of (seed, index) only,
// drawn from a NoiseStream, so a data set is the same in any batching and on any rank.
#pragma once

#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/random.hpp"

namespace sde {

/// The names toy_data knows: ring (8 Gaussians, radius 4, std 0.2: the density of data/ring8.json),
/// swissroll, checkerboard, moons. Each is centred and of scale ~4.
const std::vector<std::string>& toy_data_names();

/// Points [range.count, 2] of the named distribution: uniforms from draw 0 and normals from draw 1
/// of `noise`. Throws sde::InvalidArgument for an unknown name, listing the known ones.
torch::Tensor toy_data(const std::string& name, const NoiseStream& noise, SampleRange range,
                       const torch::TensorOptions& options = {});

/// The classes of the named toy's points (int64 [range.count]), from the same draws as toy_data,
/// so point i and label i belong together: ring, the component (8 classes); swissroll, the third of
/// the roll (3); checkerboard, the row parity of the square (2); moons, the moon (2).
torch::Tensor toy_labels(const std::string& name, const NoiseStream& noise, SampleRange range);
/// The number of classes toy_labels gives.
int64_t toy_classes(const std::string& name);

/// The toy's exact density as a Gaussian mixture (the ring's with its class labels), where it is one (ring); std::nullopt for the
/// others (uniform pieces and curves have no closed-form score under noise). Throws
/// sde::InvalidArgument for an unknown name.
std::optional<GaussianMixture> toy_mixture(const std::string& name);

}  // namespace sde
