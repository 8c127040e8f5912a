// A trained model on disk: a directory with model.json (what the network is, which SDE it was
// trained for, what its output and time input mean, how data was scaled) and weights.pt (the EMA
// weights). `scoresde sample --model DIR` needs nothing else.
#pragma once

#include <memory>
#include <string>

#include "sde/networks.hpp"
#include "sde/parameterized_score.hpp"
#include "sde/score_model.hpp"
#include "sde/sde_factory.hpp"

namespace sde {

struct ModelMetadata {
  SdeConfig sde;
  Parameterization parameterization = Parameterization::kNoise;
  TimeConditioning conditioning = TimeConditioning::kTime;
  NetworkSpec network;
  std::string data;          ///< where the training data came from, e.g. "toy:ring" or a file name
  double data_scale = 1.0;   ///< the model sees data_scale * x + data_shift; samples are mapped back
  double data_shift = 0.0;
  int64_t steps_trained = 0;
};

/// Writes DIR/model.json and DIR/weights.pt (each atomically), creating DIR if needed.
void save_trained_model(const std::string& dir, const ModelMetadata& metadata, const ScoreNetwork& weights);

struct LoadedModel {
  ModelMetadata metadata;
  std::shared_ptr<const Sde> sde;
  ScoreNetwork network;
  std::unique_ptr<ScoreModel> score;  ///< in model space (scaled data)
};

/// Reads a directory written by save_trained_model. Throws sde::FileError naming a missing or
/// unreadable file, sde::InvalidArgument for metadata that does not describe a model.
LoadedModel load_trained_model(const std::string& dir);

}  // namespace sde
