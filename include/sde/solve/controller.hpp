// A controller decides where the solve loop steps: a fixed time grid, one step size shared by the
// batch (Hairer's rule), or a step size per sample. It proposes each attempt and judges its outcome;
// it never evaluates the model. (diffrax's stepsize controllers.)
#pragma once

#include <torch/types.h>

#include <functional>
#include <string>

#include "sde/core/sampler.hpp"
#include "sde/solve/stepper.hpp"

namespace sde {

/// What a controller is told when a solve starts.
struct ControlStart {
  torch::Tensor x;             ///< the start state [B, ...]
  double t0 = 0, t1 = 0;       ///< the solve runs from t0 to t1
  SampleRange range;           ///< the samples' global indices (for messages)
  StepperTraits traits;        ///< the stepper's
  /// The first stage at (x, t0), for steppers that have one: computed on the first call and kept
  /// for the first attempt (Hairer's initial step needs it; other controllers let the loop compute
  /// it at their first attempt's times).
  std::function<torch::Tensor()> first;
  /// Evaluates the first stage at another point (Hairer's initial step needs one).
  std::function<torch::Tensor(const torch::Tensor& x, double t)> evaluate;
};

/// The next attempt: which samples step, and from which times.
struct Attempt {
  torch::Tensor rows;  ///< indices into the batch; undefined: every sample
  StepTimes times;
};

/// What the controller made of an attempt.
struct Verdict {
  bool any = true;          ///< some sample advances
  torch::Tensor accepted;   ///< positions within the attempt's rows that advance; undefined: all
  SolveStatus status = SolveStatus::kSuccess;
  std::string message;      ///< why the solve stops (a non-finite state, a vanishing step)
};

class Controller {
 public:
  virtual ~Controller() = default;
  /// Checks the stepper's capabilities against what this controller needs; throws naming both.
  virtual void check(const std::string& solver, const StepperTraits& traits) const = 0;
  virtual void start(const ControlStart& start) = 0;
  virtual bool finished() const = 0;
  /// Empty, or why attempt k may not be made (a spent budget: the solve ends with kStepLimit).
  virtual std::string budget_spent(int64_t attempt) const;
  virtual Attempt propose(int64_t attempt) = 0;
  virtual Verdict judge(const StepInput& in, const StepOutcome& outcome) = 0;
};

}  // namespace sde
