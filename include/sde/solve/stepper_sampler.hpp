// A sampler made of a stepper and a controller: every registered solver is one of these.
#pragma once

#include <memory>
#include <string>

#include "sde/core/sampler.hpp"
#include "sde/solve/per_sample_step_control.hpp"
#include "sde/solve/shared_step_control.hpp"
#include "sde/solve/stepper.hpp"

namespace sde {

/// Which controller drives the stepper, with its settings.
struct SolverControl {
  enum class Kind {
    kFixedGrid,       ///< on the request's time grid
    kSharedSteps,     ///< one adaptive step size for the batch (SharedStepControl)
    kPerSampleSteps,  ///< an adaptive step size per sample (PerSampleStepControl)
  };
  Kind kind = Kind::kFixedGrid;
  SharedStepOptions shared;
  PerSampleStepOptions per_sample;
};

/// From x_T ~ prior (draw 0; or the request's latents or start state at the grid's first time),
/// the solve loop to the grid's last time, then Tweedie there if request.denoise (+1 score call).
class StepperSampler final : public Sampler {
 public:
  /// Throws sde::InvalidArgument where the controller needs what the stepper lacks.
  StepperSampler(std::string name, std::unique_ptr<Stepper> stepper, SolverControl control = {});
  std::string name() const override { return name_; }
  BatchCoupling batch_coupling() const override;
  bool uses_time_grid() const override { return control_.kind == SolverControl::Kind::kFixedGrid; }

 protected:
  SampleResult sample_batch(const Sde& sde, const ScoreModel& model, const SampleRequest& request,
                            SampleRange range) const override;

 private:
  std::string name_;
  std::unique_ptr<Stepper> stepper_;
  SolverControl control_;
};

}  // namespace sde
