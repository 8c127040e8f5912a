// Predictor–corrector sampling (Song et al. 2021, Alg. 1-3): a stepper made of a predictor stepper
// and a corrector (Langevin MCMC at the step's start time).
#pragma once

#include <memory>

#include "sde/solvers/corrector.hpp"
#include "sde/solvers/stepper.hpp"

namespace sde {

/// Each step t_k -> t_{k+1}: M corrector iterations at t_k (noise draws 1 + k (M+1) + j, j < M),
/// then the predictor's step (draw 1 + k (M+1) + M). Score calls per step: M plus the
/// predictor's. Without a predictor (`none`) only the corrector runs (annealed Langevin dynamics).
class PredictorCorrector final : public Stepper {
 public:
  /// Either may be null, not both.
  PredictorCorrector(std::unique_ptr<Stepper> predictor, std::unique_ptr<Corrector> corrector);
  StepperTraits traits() const override;
  std::unique_ptr<StepperState> init(const SolveProblem& problem, const torch::Tensor& x) const override;
  StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState* state) const override;

 private:
  std::unique_ptr<Stepper> predictor_;
  std::unique_ptr<Corrector> corrector_;
};

}  // namespace sde
