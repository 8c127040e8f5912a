#include "sde/solve/stepper.hpp"

#include "sde/core/errors.hpp"

namespace sde {

SolveProblem::SolveProblem(ReverseSde reverse) : reverse_(std::move(reverse)) {}

SolveProblem::SolveProblem(OdeRhs field) : field_(std::move(field)) {
  SDE_CHECK(field_ != nullptr, "an ODE solve needs a right-hand side; got an empty function");
}

const ReverseSde& SolveProblem::reverse() const {
  SDE_CHECK(reverse_.has_value(), "this stepper needs a forward SDE and a score model; a plain ODE has neither "
            "(use a Runge-Kutta method)");
  return *reverse_;
}

void SolveProblem::field(const torch::Tensor& x, torch::Tensor& dxdt, double t) const {
  if (reverse_) {
    dxdt = reverse_->probability_flow_drift(x, t);
    return;
  }
  if (on_call_) on_call_();
  field_(x, dxdt, t);
}

SolveProblem SolveProblem::on(const torch::Tensor& rows, std::function<void()> on_call) const {
  SolveProblem view = *this;
  if (reverse_) view.reverse_ = reverse_->on(rows, std::move(on_call));
  else view.on_call_ = std::move(on_call);
  return view;
}

torch::Tensor StepTimes::t_rows(int64_t rows) const {
  return t_each.defined() ? t_each : torch::full({rows}, t, torch::kFloat64);
}

torch::Tensor StepTimes::s_rows(int64_t rows) const {
  return s_each.defined() ? s_each : torch::full({rows}, s, torch::kFloat64);
}

StepNoise::StepNoise(Source source)
    : source_(std::move(source)), drawn_(std::make_shared<std::map<int64_t, torch::Tensor>>()) {}

torch::Tensor StepNoise::operator()(int64_t j) const {
  SDE_CHECK(source_ != nullptr, "this step has no noise to draw");
  auto it = drawn_->find(j);
  if (it == drawn_->end()) it = drawn_->emplace(j, source_(j)).first;
  return it->second;
}

std::unique_ptr<StepperState> Stepper::init(const SolveProblem&, const torch::Tensor&) const { return nullptr; }

torch::Tensor Stepper::first_stage(const SolveProblem&, const torch::Tensor&, const StepTimes&) const {
  throw InvalidArgument("this stepper has no first stage to cache");
}

torch::Tensor Stepper::finish(const SolveProblem&, const StepInput&, const StepOutcome& outcome) const {
  return outcome.x;
}

}  // namespace sde
