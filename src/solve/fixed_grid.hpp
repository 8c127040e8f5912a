// The fixed-grid controller: steps t_0 -> t_1 -> ... -> t_N, every one accepted.
#pragma once

#include <vector>

#include "sde/solve/controller.hpp"

namespace sde {

/// Steps through `times` (monotone; t_0 is where the solve starts). A state that is no longer
/// finite after a step stops the solve, naming the step and the time.
class FixedGrid final : public Controller {
 public:
  explicit FixedGrid(std::vector<double> times);
  void check(const std::string&, const StepperTraits&) const override {}
  void start(const ControlStart&) override { k_ = 0; }
  bool finished() const override { return k_ + 1 >= times_.size(); }
  Attempt propose(int64_t attempt) override;
  Verdict judge(const StepInput& in, const StepOutcome& outcome) override;

 private:
  std::vector<double> times_;
  size_t k_ = 0;
};

}  // namespace sde
