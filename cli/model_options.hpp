// Where the score comes from, as `sample` and `likelihood` take it: --target (the exact score of a
// Gaussian mixture), --model DIR (a model directory written by `scoresde train`) or --model FILE
// (a TorchScript file, described by --parameterization, --conditioning, --shape, --classes and
// the data scaler --data-scale/--data-shift), placed on --device.
#pragma once

#include <CLI/CLI.hpp>
#include <torch/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/torchscript_model.hpp"
#include "sde/nn/trained_model.hpp"
#include "sde_options.hpp"

namespace sde::cli {

struct ModelArgs {
  SdeArgs problem;
  std::string model;                           ///< a model directory, or a TorchScript file
  std::string parameterization, conditioning;  ///< a TorchScript file's, named by the user
  std::vector<int64_t> shape;                  ///< one sample's shape, for a TorchScript file
  int64_t classes = 0;                         ///< a TorchScript file's classes (forward(x, label, y))
  double data_scale = 1, data_shift = 0;       ///< a TorchScript file's data scaler: it sees scale x + shift
  std::string device = "cpu";
};

/// Adds --target, --model, the SDE options and the TorchScript options to `cmd`.
void add_model_options(CLI::App* cmd, ModelArgs& args);

/// The score the options name, with its SDE, data scaler and device.
struct ModelSource {
  std::shared_ptr<const Sde> sde;
  std::unique_ptr<GaussianMixtureScore> exact;
  std::unique_ptr<LoadedModel> trained;
  std::unique_ptr<TorchScriptScoreModel> scripted;
  double scale = 1, shift = 0;  ///< the model sees scale x + shift
  torch::Device device = torch::kCPU;

  const ScoreModel& score() const;
  /// Samples of the model (its scaled space) in the data's units: (x - shift) / scale.
  torch::Tensor to_data(const torch::Tensor& x) const;
  /// The range of image data in the data's units: a model directory's data_range mapped back (
  /// Fashion-MNIST: [0, 1]), the model's [-1, 1] mapped back through a TorchScript file's data
  /// scaler, else [-1, 1] or [0, 1] by the samples' signs.
  std::pair<double, double> pixel_range(const torch::Tensor& samples) const;
  /// The data's range in the model's space where it is bounded: a model directory's data_range; a
  /// TorchScript file with a data scaler: [-1, 1] (score_sde's centred data). Unset otherwise.
  std::optional<std::pair<double, double>> data_range() const;
  /// The data's exact density where known (a mixture target; a toy's density for a trained model).
  std::optional<GaussianMixture> data_density() const;
};

/// Samples per batch when a command's --batch is not given: 0 (all at once) for points of at most
/// 64 entries, else as many samples as fit in 2^18 entries (334 images of 28 x 28).
int64_t default_batch(const std::vector<int64_t>& sample_shape);

/// Opens what the options name; throws sde::InvalidArgument naming a missing or contradictory
/// option (e.g. a TorchScript file without --parameterization), sde::FileError for a bad file.
ModelSource open_model(const CLI::App* cmd, const ModelArgs& args);

/// The device --device names; throws sde::InvalidArgument for an unknown name or a device this
/// LibTorch cannot use (Debian's is CPU-only), naming the fix.
torch::Device parse_device(const std::string& name);

}  // namespace sde::cli
