// Building blocks the score networks share, and what a built network is. Private to the library
// (it includes torch/torch.h: only the network sources include it).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>

#include "sde/nn/networks.hpp"

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

/// The rows of a class table of K + 1 rows for class labels [B] (undefined: all unconditional):
/// kUnconditional (-1) is row K, the null class.
inline torch::Tensor class_rows(const torch::Tensor& classes, int64_t k, int64_t batch, const torch::Device& device) {
  if (!classes.defined()) return torch::full({batch}, k, torch::TensorOptions(torch::kInt64).device(device));
  const torch::Tensor c = classes.to(device, torch::kInt64);
  return torch::where(c.lt(0), torch::full_like(c, k), c);
}

/// A network as ScoreNetwork holds it: the module (parameters, buffers, train/eval, save/load)
/// and its forward(x, time label, class labels or undefined).
struct BuiltNetwork {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&)> forward;
};

/// The U-Net of NetworkSpec kind "unet" (src/nn/unet.cpp).
BuiltNetwork build_unet(const NetworkSpec& spec);

}  // namespace sde::detail
