// The small training run whose files seed the model and checkpoint fuzzers (fuzz_seeds writes
// them; fuzz_checkpoint resumes into the same trainer, so a seed passes the fingerprint check).
#pragma once

#include "sde/nn/networks.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/nn/training.hpp"

namespace sde::fuzz {

inline NetworkSpec seed_network() {
  NetworkSpec spec;
  spec.sample_shape = {2};
  spec.width = 4;
  spec.depth = 1;
  spec.fourier_features = 2;
  return spec;
}

inline TrainOptions seed_options() {
  TrainOptions o;
  o.steps = 2;
  o.batch = 8;
  o.warmup = 1;
  o.log_every = 0;
  o.data_identity = "fuzz";
  return o;
}

inline Trainer seed_trainer() {
  return Trainer(make_sde({"vp"}), ScoreNetwork(seed_network(), 0), Parameterization::kNoise, TimeConditioning::kTime,
                 seed_options());
}

}  // namespace sde::fuzz
