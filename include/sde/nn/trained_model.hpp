// A trained model on disk: a directory with model.json (what the network is, which SDE it was
// trained for, what its output and time input mean, how data was scaled) and weights.pt (the EMA
// weights). `scoresde sample --model DIR` needs nothing else.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "sde/core/gaussian_mixture.hpp"
#include "sde/nn/networks.hpp"
#include "sde/core/parameterized_score.hpp"
#include "sde/core/score_model.hpp"
#include "sde/core/sde_factory.hpp"

namespace sde {

/// The sampler a model's maker recommends, shipped beside the weights as diffusers ships a
/// scheduler config: `scoresde sample` takes each field the command line (or --config) leaves
/// out. Empty fields (solver "", steps 0, schedule ""): the command's own defaults.
struct RecommendedSampler {
  std::string solver;    ///< a registered solver or alias, e.g. "dpmpp-2m" (checked where a sampler is made)
  int64_t steps = 0;     ///< the time grid's steps
  std::string schedule;  ///< a TimeGrid name: "time", "logsnr", "karras"
  bool clip_x0 = false;  ///< clip the data prediction to data_range (bounded data; sde/core/bounded_prediction.hpp)
  bool empty() const { return solver.empty() && steps == 0 && schedule.empty() && !clip_x0; }
};

struct ModelMetadata {
  SdeConfig sde;
  Parameterization parameterization = Parameterization::kNoise;
  TimeConditioning conditioning = TimeConditioning::kTime;
  NetworkSpec network;
  std::string data;          ///< where the training data came from, e.g. "toy:ring" or a file name
  double data_scale = 1.0;   ///< the model sees data_scale * x + data_shift; samples are mapped back
  double data_shift = 0.0;
  int64_t steps_trained = 0;
  /// The range of the training data in the model's space, where it is bounded (images: [-1, 1]
  /// for Fashion-MNIST, whose pixels in [0, 1] `scoresde train` maps by 2 x - 1; an .npy of
  /// images: its minimum and maximum, scaled); unset for points. Bounds the data prediction when
  /// asked (sde/core/bounded_prediction.hpp).
  std::optional<std::pair<double, double>> data_range;
  RecommendedSampler sampler;  ///< written as "sampler" in model.json where not empty

  /// Samples of the model (its scaled space) in the data's units: (x - data_shift) / data_scale.
  torch::Tensor to_data(const torch::Tensor& x) const;
  /// Data in the model's scaled space: data_scale * x + data_shift (the inverse of to_data).
  torch::Tensor to_model(const torch::Tensor& x) const;
  /// The exact density of the training data, in the data's units, where it is known (a toy,
  /// data = "toy:NAME").
  std::optional<GaussianMixture> data_density() const;
};

/// The std of the time-embedding frequencies that suits a network's time label: 16 / the label's
/// range (score_sde's toy models use 16 for t in [0, 1]; the discrete labels span [0, 999], sigma
/// labels [sigma_min, sigma_max]).
double default_fourier_scale(TimeConditioning conditioning, const Sde& sde);

/// Writes DIR/model.json and DIR/weights.pt (each atomically), creating DIR if needed.
void save_trained_model(const std::string& dir, const ModelMetadata& metadata, const ScoreNetwork& weights);

struct LoadedModel {
  ModelMetadata metadata;
  std::shared_ptr<const Sde> sde;
  ScoreNetwork network;
  std::unique_ptr<ScoreModel> score;  ///< in model space (scaled data); null for a classifier
  /// A noisy classifier's (a network with a head of K outputs, trained with --objective
  /// classifier); null for a score model.
  std::unique_ptr<NoisyClassifier> classifier;
};

/// Reads a directory written by save_trained_model. Throws sde::FileError naming a missing or
/// unreadable file, sde::InvalidArgument for metadata that does not describe a model.
LoadedModel load_trained_model(const std::string& dir);
/// load_trained_model, refusing a classifier: "a noisy classifier, not a score model" and the fix.
LoadedModel load_score_model(const std::string& dir);

}  // namespace sde
