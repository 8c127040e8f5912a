#include "sde/solve/shared_step_control.hpp"

#include <algorithm>
#include <cmath>

#include "sde/core/errors.hpp"
#include "solve/ode/fused_kernels.hpp"

namespace sde {

void SharedStepOptions::validate() const {
  SDE_CHECK(std::isfinite(rtol) && rtol > 0, "ODE option rtol = ", rtol, " must be finite and > 0");
  SDE_CHECK(std::isfinite(atol) && atol > 0, "ODE option atol = ", atol, " must be finite and > 0");
  SDE_CHECK(std::isfinite(h_init) && h_init >= 0 && h_init <= 1, "ODE option h_init = ", h_init,
            " must lie in [0, 1] (a fraction of the interval; 0 = chosen from the problem)");
  SDE_CHECK(max_steps >= 1, "ODE option max_steps = ", max_steps, " must be >= 1");
  SDE_CHECK(!global_max || norm != OdeErrorNorm::kBatchRms,
            "the batch-rms error norm averages over the whole batch, which split over processes would not be "
            "bit-identical to one process; use norm rms or max");
}

namespace {

constexpr double kSmallestStep = 1e-12;

// One number from entrywise scaled errors, by the chosen norm (this process's part of the batch).
double local_norm_of(const torch::Tensor& scaled, OdeErrorNorm norm) {
  if (norm == OdeErrorNorm::kMax) return scaled.abs().max().item<double>();
  if (norm == OdeErrorNorm::kBatchRms) return std::sqrt(scaled.square().mean().item<double>());
  // max over samples of sqrt(sum / n) = sqrt(max(sum) / n): the square root on one number.
  const double entries = double(scaled.numel() / std::max<int64_t>(scaled.size(0), 1));
  return std::sqrt(per_sample_squared_norm(scaled).max().item<double>() / entries);
}

}  // namespace

SharedStepControl::SharedStepControl(SharedStepOptions options) : o_(std::move(options)) { o_.validate(); }

void SharedStepControl::check(const std::string& solver, const StepperTraits& traits) const {
  SDE_CHECK(traits.error_estimate, solver, " has no error estimate, so its steps cannot be controlled; "
            "give it a fixed grid (steps)");
}

double SharedStepControl::norm(const torch::Tensor& scaled) const {
  const double local = local_norm_of(scaled, o_.norm);
  return o_.global_max ? o_.global_max(local) : local;
}

double SharedStepControl::error_norm(const torch::Tensor& x_old, const StepOutcome& outcome) const {
  const torch::Tensor error = outcome.error.defined() ? outcome.error : outcome.x - outcome.lower;
  double local;
  if (!detail::fused_scaled_error_norm(local, error, x_old, o_.atol, o_.rtol, o_.norm))
    local = local_norm_of(error / x_old.abs().mul_(o_.rtol).add_(o_.atol), o_.norm);
  return o_.global_max ? o_.global_max(local) : local;
}

// Hairer, Norsett & Wanner, Sec. II.4: a first step from the sizes of x, F and the change of F
// over a small trial step (one extra evaluation of F).
double SharedStepControl::initial_step(const ControlStart& s) const {
  const double span = std::abs(t1_ - t0_);
  const torch::Tensor scale = s.x.abs().mul_(o_.rtol).add_(o_.atol);
  const torch::Tensor f0 = s.first();
  const double d0 = norm(s.x / scale), d1 = norm(f0 / scale);
  const double h0 = std::min((d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1, span);
  const torch::Tensor f1 = s.evaluate(s.x + f0 * (direction_ * h0), t0_ + direction_ * h0);
  const double d2 = norm((f1 - f0) / scale) / h0;
  const double h1 = std::max(d1, d2) <= 1e-15 ? std::max(1e-6, h0 * 1e-3)
                                               : std::pow(0.01 / std::max(d1, d2), 1.0 / (traits_.order + 1));
  return direction_ * std::min({100 * h0, h1, span});
}

void SharedStepControl::start(const ControlStart& s) {
  traits_ = s.traits;
  t0_ = s.t0, t1_ = s.t1, t_ = s.t0;
  direction_ = t1_ > t0_ ? 1.0 : -1.0;
  accepted_ = 0;
  after_rejection_ = false;
  s.first();  // F at the start before anything else, as Odeint's controlled steppers do
  dt_ = o_.h_init > 0 ? o_.h_init * (t1_ - t0_) : initial_step(s);
}

std::string SharedStepControl::budget_spent(int64_t attempt) const {
  if (attempt < o_.max_steps) return {};
  return detail::concat("no end after max_steps = ", o_.max_steps, " steps (", accepted_, " accepted), at t = ", t_,
                        " on the way from ", t0_, " to ", t1_, "; raise max_steps or loosen rtol/atol");
}

Attempt SharedStepControl::propose(int64_t attempt) {
  last_ = direction_ * (t_ + dt_ - t1_) >= 0;
  if (last_) dt_ = t1_ - t_;
  Attempt a;
  a.times.t = t_;
  a.times.s = t_ + dt_;
  a.times.index = attempt;
  return a;
}

Verdict SharedStepControl::judge(const StepInput& in, const StepOutcome& outcome) {
  const double err = error_norm(in.x, outcome);
  const bool ok = !(err > 1.0);
  const double dt = dt_;
  if (!ok) {
    dt_ *= std::max(0.2, 0.9 * std::pow(err, -1.0 / (traits_.error_order + 1)));
    after_rejection_ = true;
  } else {
    double factor = err > 0 ? std::min(10.0, 0.9 * std::pow(err, -1.0 / traits_.order)) : 10.0;
    if (after_rejection_) factor = std::min(factor, 1.0);
    after_rejection_ = false;
    dt_ *= factor;
  }
  Verdict v;
  // A step cut to end at t1 may be tiny and is not checked.
  if ((!ok || !last_) && std::abs(dt_) < kSmallestStep * std::abs(t1_ - t0_)) {
    v.any = false;
    v.status = SolveStatus::kStepTooSmall;
    v.message = detail::concat("the step size fell to ", std::abs(dt_), " at t = ", t_, " (below 1e-12 of the ",
                               "interval from ", t0_, " to ", t1_, ")");
    return v;
  }
  if (!ok) {
    v.any = false;
    return v;
  }
  ++accepted_;
  t_ = last_ ? t1_ : t_ + dt;
  // With dopri5 and Cash–Karp the error estimate combines every stage the new state uses, so a
  // finite error means a finite state: the state itself is checked only when it is not, and at the end.
  if ((!std::isfinite(err) || finished()) && !all_finite(outcome.x)) {
    v.status = SolveStatus::kNonFinite;
    v.message = detail::concat("the state became non-finite at step ", accepted_, " (t = ", t_, ")");
  }
  return v;
}

}  // namespace sde
