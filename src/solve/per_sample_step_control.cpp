#include "sde/solve/per_sample_step_control.hpp"

#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {

void PerSampleStepOptions::validate(const std::string& solver) const {
  SDE_CHECK(std::isfinite(rtol) && rtol > 0, solver, ": rtol = ", rtol, " must be finite and > 0");
  SDE_CHECK(std::isfinite(atol) && atol > 0, solver, ": atol = ", atol, " must be finite and > 0");
  SDE_CHECK(std::isfinite(h_init) && h_init > 0, solver, ": h_init = ", h_init, " must be finite and > 0");
  SDE_CHECK(safety > 0 && safety <= 1, solver, ": safety = ", safety, " must lie in (0, 1]");
  SDE_CHECK(exponent > 0 && exponent <= 1, solver, ": exponent = ", exponent, " must lie in (0, 1]");
  SDE_CHECK(max_steps >= 1, solver, ": max_steps = ", max_steps, " must be >= 1");
}

PerSampleStepControl::PerSampleStepControl(PerSampleStepOptions options, const Sde* sde)
    : o_(options), sde_(sde) {}

void PerSampleStepControl::check(const std::string& solver, const StepperTraits& traits) const {
  o_.validate(solver);
  SDE_CHECK(traits.error_estimate && traits.per_sample_times, solver,
            " cannot take a step size per sample: that needs an embedded pair written for per-sample times");
}

double PerSampleStepControl::variable(double t) const {
  return traits_.variable == StepVariable::kLogSnr ? sde_->log_snr(t) : direction_ * t;
}

torch::Tensor PerSampleStepControl::time_at(const torch::Tensor& u) const {
  return traits_.variable == StepVariable::kLogSnr ? sde_->time_at_log_snr(u) : u * direction_;
}

void PerSampleStepControl::start(const ControlStart& s) {
  traits_ = s.traits;
  SDE_CHECK(traits_.variable != StepVariable::kLogSnr || sde_ != nullptr,
            "a step size per sample in the log-SNR needs an SDE");
  range_ = s.range;
  t1_ = s.t1;
  direction_ = s.t1 > s.t0 ? 1.0 : -1.0;
  SDE_CHECK(traits_.variable != StepVariable::kLogSnr || direction_ < 0,
            "a step size per sample in the log-SNR needs a solve towards the data (t1 < t0)");
  const auto f64 = torch::TensorOptions(torch::kFloat64).device(s.x.device());
  count_ = s.x.size(0);
  const double u_start = variable(s.t0);
  u_end_ = variable(s.t1);
  x_prev_ = s.x.clone();
  u_ = torch::full({count_}, u_start, f64);
  h_ = torch::full({count_}, std::min(o_.h_init, u_end_ - u_start), f64);
  active_ = torch::arange(count_, f64.dtype(torch::kLong));
}

std::string PerSampleStepControl::budget_spent(int64_t attempt) const {
  if (attempt < o_.max_steps) return {};
  const int64_t i = active_[0].item<int64_t>();
  return detail::concat(active_.numel(), " samples did not reach t = ", t1_, " within max_steps = ", o_.max_steps,
                        " attempts (sample ", range_.first + i, " is at t = ",
                        time_at(u_.index({torch::indexing::Slice(i, i + 1)})).item<double>(),
                        "); raise max_steps or loosen rtol/atol");
}

Attempt PerSampleStepControl::propose(int64_t attempt) {
  attempt_ = attempt;
  // While every sample is active (most of a solve) the state itself is the attempt's: no copies.
  const bool everyone = active_.numel() == count_;
  Attempt a;
  if (!everyone) a.rows = active_;
  ua_ = everyone ? u_ : u_.index_select(0, active_);
  ha_ = everyone ? h_ : h_.index_select(0, active_);
  u_next_ = torch::where(ha_ >= u_end_ - ua_, torch::full_like(ua_, u_end_), ua_ + ha_);
  a.times.t_each = time_at(ua_);
  a.times.s_each = time_at(u_next_);
  a.times.index = attempt;
  return a;
}

Verdict PerSampleStepControl::judge(const StepInput& in, const StepOutcome& outcome) {
  const bool everyone = active_.numel() == count_;
  const torch::Tensor& lower = outcome.lower;
  const torch::Tensor prev = everyone ? x_prev_ : x_prev_.index_select(0, active_);
  const torch::Tensor delta = torch::maximum(lower.abs(), prev.abs()).mul_(o_.rtol).clamp_min_(o_.atol);
  const double entries = double(in.x.numel() / std::max<int64_t>(in.x.size(0), 1));
  const torch::Tensor err =
      per_sample_squared_norm((outcome.x - lower).div_(delta)).div_(entries).sqrt_().to(torch::kFloat64);
  Verdict v;
  if (!std::isfinite(err.sum().item<double>())) {
    const int64_t j = torch::isfinite(err).logical_not().nonzero()[0][0].item<int64_t>();
    v.any = false;
    v.status = SolveStatus::kNonFinite;
    v.message = detail::concat("sample ", range_.first + active_[j].item<int64_t>(), " became non-finite in attempt ",
                               attempt_ + 1, " (from t = ", in.times.t_each[j].item<double>(), ")");
    return v;
  }
  const torch::Tensor accept = err <= 1.0;
  v.accepted = accept.nonzero().squeeze(1);
  v.any = v.accepted.numel() > 0;
  const torch::Tensor rows = active_.index_select(0, v.accepted);
  x_prev_.index_copy_(0, rows, lower.index_select(0, v.accepted));
  const torch::Tensor ua_new = torch::where(accept, u_next_, ua_);
  u_.index_copy_(0, active_, ua_new);
  // E = 0 gives an infinite proposal, which the distance to the end caps.
  h_.index_copy_(0, active_, torch::minimum(ha_ * err.pow(-o_.exponent) * o_.safety, u_end_ - ua_new));
  active_ = active_.masked_select(ua_new < u_end_);
  return v;
}

}  // namespace sde
