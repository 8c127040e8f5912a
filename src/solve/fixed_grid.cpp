#include "solve/fixed_grid.hpp"

#include "sde/core/errors.hpp"

namespace sde {

std::string Controller::budget_spent(int64_t) const { return {}; }

FixedGrid::FixedGrid(std::vector<double> times) : times_(std::move(times)) {
  SDE_CHECK(times_.size() >= 2, "a fixed time grid needs at least two times, got ", times_.size());
}

Attempt FixedGrid::propose(int64_t) {
  Attempt a;
  a.times.t = times_[k_];
  a.times.s = times_[k_ + 1];
  a.times.index = int64_t(k_);
  a.times.steps = int64_t(times_.size()) - 1;
  return a;
}

Verdict FixedGrid::judge(const StepInput& in, const StepOutcome& outcome) {
  Verdict v;
  ++k_;
  if (!all_finite(outcome.x)) {
    v.status = SolveStatus::kNonFinite;
    v.message = detail::concat("the state became non-finite at step ", k_, " of ", times_.size() - 1,
                               " (t = ", in.times.s, ")");
  }
  return v;
}

}  // namespace sde
