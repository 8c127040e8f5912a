// A predictor: one reverse-time step of a fixed-step sampler (Song et al. 2021, Sec. 4.2).
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "sde/reverse_sde.hpp"

namespace sde {

/// What a multistep predictor remembers between the steps of one solve (owned by the sampling
/// loop, fresh for every batch; single-step predictors ignore it).
struct StepMemory {
  int64_t step = 0;                     ///< index k of the current step t_k -> t_{k+1}
  int64_t steps = 0;                    ///< N
  std::vector<torch::Tensor> data;      ///< data predictions x0_hat at earlier grid times, newest last
  std::vector<double> log_snr;          ///< their log-SNRs
};

class Predictor {
 public:
  virtual ~Predictor() = default;
  virtual std::string name() const = 0;
  /// One reverse step from t down to s < t, in place; z ~ N(0, I) has x's shape. Score calls go
  /// through `reverse`, which counts them.
  virtual void step(ReverseSde& reverse, torch::Tensor& x, double t, double s,
                    const torch::Tensor& z, StepMemory& memory) const = 0;
  /// False for predictors that ignore z, so the sampler need not draw it.
  virtual bool uses_noise() const { return true; }
};

/// The predictor that does nothing (`none`): a corrector-only sampler (annealed Langevin).
class NoPredictor final : public Predictor {
 public:
  std::string name() const override { return "none"; }
  void step(ReverseSde&, torch::Tensor&, double, double, const torch::Tensor&,
            StepMemory&) const override {}
  bool uses_noise() const override { return false; }
};

}  // namespace sde
