// The small MLP the unit tests train and save: fast to build, big enough to have real weights.
#pragma once

#include "sde/nn/networks.hpp"

namespace sde::testing {

inline NetworkSpec small_mlp() {
  NetworkSpec spec;
  spec.sample_shape = {2};
  spec.width = 32;
  spec.depth = 2;
  return spec;
}

}  // namespace sde::testing
