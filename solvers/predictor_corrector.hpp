// Predictor–corrector sampling (Song et al. 2021, Alg. 1-3): the fixed-step loop every
// predictor (em, reverse-diffusion, ancestral) runs in, with an optional corrector.
#pragma once

#include <memory>

#include "sde/sampler.hpp"
#include "sde/solvers/corrector.hpp"
#include "sde/solvers/predictor.hpp"

namespace sde {

/// From x_{t_0} ~ prior (draw 0), for k = 0..N-1 on the grid of options().grid:
///   M corrector iterations at t_k (draws 1 + k (M+1) + j, j < M), then the predictor step
///   t_k -> t_{k+1} (draw 1 + k (M+1) + M);
/// then Tweedie at eps if options().denoise. With no corrector (M = 0) the predictor's noise is
/// draw k + 1. NFE = N (1 + M) (+1), less N when the predictor is `none`. A non-finite state stops
/// the loop, naming the step and time.
class PredictorCorrector final : public Sampler {
 public:
  /// `corrector` may be null (no correction). `name` is the registered name ("em", "pc", ...).
  PredictorCorrector(std::string name, SamplerOptions options, std::unique_ptr<Predictor> predictor,
                     std::unique_ptr<Corrector> corrector);

  std::string name() const override { return name_; }
  BatchCoupling batch_coupling() const override {
    return corrector_ && corrector_->uses_batch_statistics() ? BatchCoupling::kStatistics : BatchCoupling::kNone;
  }

 protected:
  SampleResult sample_batch(const Sde& sde, const ScoreModel& model, SampleRange range) const override;

 private:
  std::string name_;
  std::unique_ptr<Predictor> predictor_;
  std::unique_ptr<Corrector> corrector_;
};

}  // namespace sde
