// Building blocks the score networks share, and what a built network is. Private to the library
// (it includes torch/torch.h: only the network sources include it).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>

#include "sde/networks.hpp"

namespace sde::detail {

/// Gaussian Fourier features of a scalar label: [sin(2 pi l W), cos(2 pi l W)]. W is a buffer, not
/// a parameter: drawn once, saved with the weights, never trained.
struct FourierEmbeddingImpl : torch::nn::Module {
  FourierEmbeddingImpl(int64_t features, double scale) {
    frequencies = register_buffer("frequencies", torch::randn({features}) * scale);
  }
  torch::Tensor forward(const torch::Tensor& label) {
    const torch::Tensor angle = label.unsqueeze(1) * frequencies.unsqueeze(0) * (2 * M_PI);
    return torch::cat({angle.sin(), angle.cos()}, 1);
  }
  torch::Tensor frequencies;
};
TORCH_MODULE(FourierEmbedding);

/// A network as ScoreNetwork holds it: the module (parameters, buffers, train/eval, save/load)
/// and its forward(x, label).
struct BuiltNetwork {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)> forward;
};

/// The U-Net of NetworkSpec kind "unet" (src/nn/unet.cpp).
BuiltNetwork build_unet(const NetworkSpec& spec);

}  // namespace sde::detail
