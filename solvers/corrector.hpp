// A corrector: score-based MCMC at a fixed time t, run between predictor steps
// (Song et al. 2021, Sec. 4.2, Alg. 4-5).
#pragma once

#include <torch/types.h>

#include <functional>
#include <string>

#include "sde/core/reverse_sde.hpp"

namespace sde {

class Corrector {
 public:
  virtual ~Corrector() = default;
  /// Score calls (and noise draws) per correction.
  virtual int64_t steps() const = 0;
  /// Whether batch means enter the update, so that a sample depends on its batch.
  virtual bool uses_batch_statistics() const { return false; }
  /// Corrects x at time t in place. `s` is the next grid time (some step sizes use the local
  /// discretisation); noise(j) gives the normals of sub-step j, with x's shape.
  virtual void correct(const ReverseSde& reverse, torch::Tensor& x, double t, double s,
                       const std::function<torch::Tensor(int64_t)>& noise) const = 0;
};

}  // namespace sde
