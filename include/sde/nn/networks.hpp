// Score networks built with LibTorch's C++ frontend, behind a light header: LibTorch's module
// headers (torch/torch.h, ~22 s per translation unit) stay in src/nn/networks.cpp.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sde/core/guidance.hpp"
#include "sde/core/parameterized_score.hpp"

namespace torch::nn {
class Module;
}

namespace sde {

/// What network to build; saved with a trained model so it can be rebuilt from its file.
///
/// Both kinds embed the time label by Gaussian Fourier features (Tancik et al. 2020; the
/// embedding of Song et al.'s score_sde): e = [sin(2 pi l W), cos(2 pi l W)], W ~ N(0,
/// fourier_scale^2) drawn once and fixed.
///
/// mlp: input [x, e] -> `depth` hidden layers of `width` units with `activation` -> a linear layer
/// to D outputs. Samples of shape {D}.
///
/// unet: a compact U-Net in the DDPM++ style (Song et al. 2021, after Ho et al. 2020) for samples
/// {C, H, W}: a 3x3 convolution to `channels`; per resolution level `res_blocks` residual blocks
/// (GroupNorm, SiLU, 3x3 convolutions, the embedded label added per channel, skip connection
/// rescaled by 1/sqrt 2) to channels * channel_mult[level], single-head self-attention where the
/// side length is in `attention_resolutions`, then a stride-2 convolution (halving H and W) to the
/// next level; a middle of block, attention, block; the mirror image upwards with the skip
/// connections concatenated and nearest-neighbour upsampling; GroupNorm, SiLU and a 3x3
/// convolution back to C, initialised to zero (the network starts as the zero function, as DDPM++).
///
/// Class-conditional (classes = K > 0): a learned table of K + 1 vectors, row K the null class
/// (class label kUnconditional: classifier-free guidance's unconditional branch, trained by label
/// dropout), added to the embedded time label (mlp: to the Fourier features; unet: after the
/// embedding MLP, as ADM does).
struct NetworkSpec {
  std::string kind = "mlp";           ///< mlp | unet
  std::vector<int64_t> sample_shape;  ///< one sample's shape: {D} for mlp, {C, H, W} for unet
  int64_t fourier_features = 16;      ///< frequencies W (the embedding has twice as many entries)
  double fourier_scale = 16.0;        ///< std of W: labels t in [0, 1] want ~16; rescale for other labels
  int64_t classes = 0;                ///< K class labels (plus a null class); 0: unconditional
  /// mlp only: a head of this many outputs, e.g. a noisy classifier's logits, instead of the
  /// sample's D (the sample, of any shape, is then flattened); 0: the sample's shape.
  int64_t outputs = 0;
  // mlp
  int64_t width = 128;                ///< hidden units per layer
  int64_t depth = 3;                  ///< hidden layers (>= 1)
  std::string activation = "silu";    ///< silu | relu | gelu | tanh
  // unet
  int64_t channels = 32;                            ///< base channel count
  std::vector<int64_t> channel_mult = {1, 2, 2};    ///< per level; H and W halve from one level to the next
  int64_t res_blocks = 1;                           ///< residual blocks per level (>= 1)
  std::vector<int64_t> attention_resolutions = {7}; ///< side lengths with self-attention
  int64_t groups = 8;                               ///< GroupNorm groups; divides every channel count
  double dropout = 0.0;                             ///< in the residual blocks, training mode only

  /// Throws sde::InvalidArgument naming the bad field and the fix.
  void validate() const;
  std::string to_json() const;
  /// Throws sde::InvalidArgument for a malformed or incomplete description.
  static NetworkSpec from_json(const std::string& json);
};

/// A network f(x, label) -> output of x's shape, with its weights. Copies share the weights (as
/// LibTorch modules do); clone() makes an independent copy.
class ScoreNetwork {
 public:
  /// Builds the network with initial weights drawn from `seed` (LibTorch's default initialisers,
  /// run under a generator seeded here: the same seed gives the same weights).
  ScoreNetwork(const NetworkSpec& spec, uint64_t seed);

  /// Output [B, sample_shape...] for x [B, sample_shape...] and time labels [B]; checks the shapes.
  /// Computes in the weights' dtype and returns x's. `classes` (class-conditional networks only):
  /// int64 [B] in [0, K) or kUnconditional; undefined: every row unconditional.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& label, const torch::Tensor& classes = {}) const;

  const NetworkSpec& spec() const;
  /// The trainable parameters, in a fixed order.
  std::vector<torch::Tensor> parameters() const;
  int64_t parameter_count() const;
  /// Parameters and buffers (the Fourier frequencies), for saving and copying.
  std::vector<std::pair<std::string, torch::Tensor>> state() const;
  /// Copies `other`'s state into this network's; throws unless the specs match.
  void load_state(const ScoreNetwork& other);
  ScoreNetwork clone() const;
  /// Training mode (dropout on) or evaluation mode.
  void set_training(bool on) const;
  void to(const torch::Device& device, torch::ScalarType dtype) const;
  std::shared_ptr<torch::nn::Module> module() const;

  /// Weights to and from a LibTorch archive file (written atomically) with the spec and a
  /// checksum of the weights; load refuses another network's spec and weights that do not match
  /// their checksum (a damaged file), naming the file.
  void save(const std::string& path) const;
  void load(const std::string& path);
  /// The bytes save writes, and load from such bytes (`origin` names them in messages).
  std::string to_bytes() const;
  void load_bytes(const std::string& bytes, const std::string& origin);
  /// CRC-32 of every parameter and buffer (sde::tensors_crc32), in the order of state().
  uint32_t state_checksum() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// The network as a score model of `sde` (sharing its weights), through ParameterizedScoreModel.
std::unique_ptr<ScoreModel> score_model_of(std::shared_ptr<const Sde> sde, const ScoreNetwork& network,
                                           Parameterization parameterization, TimeConditioning conditioning);

/// A network with a head of K outputs (NetworkSpec::outputs) as a noisy classifier of `sde`:
/// log p_t(y | x) = log_softmax(network(x, label(t))). Shares the weights.
std::unique_ptr<NoisyClassifier> classifier_of(std::shared_ptr<const Sde> sde, const ScoreNetwork& network,
                                               TimeConditioning conditioning);

}  // namespace sde
