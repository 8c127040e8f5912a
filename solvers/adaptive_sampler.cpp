#include "sde/solvers/adaptive_sampler.hpp"

#include <cmath>

#include "sde/errors.hpp"
#include "sde/reverse_sde.hpp"

namespace sde {

void AdaptiveOptions::validate(const std::string& solver) const {
  SDE_CHECK(std::isfinite(rtol) && rtol > 0, solver, ": rtol = ", rtol, " must be finite and > 0");
  SDE_CHECK(std::isfinite(atol) && atol > 0, solver, ": atol = ", atol, " must be finite and > 0");
  SDE_CHECK(std::isfinite(h_init) && h_init > 0, solver, ": h_init = ", h_init, " must be finite and > 0");
  SDE_CHECK(safety > 0 && safety <= 1, solver, ": safety = ", safety, " must lie in (0, 1]");
  SDE_CHECK(exponent > 0 && exponent <= 1, solver, ": exponent = ", exponent, " must lie in (0, 1]");
  SDE_CHECK(max_steps >= 1, solver, ": max_steps = ", max_steps, " must be >= 1");
}

torch::Tensor EmbeddedPair::advance(ReverseSde&, const torch::Tensor&, const torch::Tensor&,
                                    const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                    const torch::Tensor& higher) const {
  return higher;
}

AdaptiveSampler::AdaptiveSampler(SamplerOptions options, AdaptiveOptions adaptive,
                                 std::unique_ptr<EmbeddedPair> pair)
    : Sampler(options), adaptive_(adaptive), pair_(std::move(pair)) {
  SDE_CHECK(pair_ != nullptr, "adaptive sampler: the embedded pair must not be null");
  adaptive_.validate(pair_->name());
}

SampleResult AdaptiveSampler::sample_batch(const Sde& sde, const ScoreModel& model,
                                           SampleRange range) const {
  const SamplerOptions& opt = options();
  const AdaptiveOptions& a = adaptive_;
  const auto tensor_options = torch::TensorOptions(opt.dtype).device(opt.device);
  const auto f64 = torch::TensorOptions(torch::kFloat64).device(opt.device);
  const std::vector<int64_t> shape = model.sample_shape();
  const NoiseStream noise(opt.seed);
  ReverseSde reverse(sde, model);
  SampleResult result;

  const int64_t n = range.count;
  const double u_start = pair_->step_variable(sde, sde.t_max());
  const double u_end = pair_->step_variable(sde, opt.eps);
  torch::Tensor x = sde.prior_sample(noise, range, shape, tensor_options);
  torch::Tensor x_prev = x.clone();           // lower solution of the last accepted step
  torch::Tensor first = torch::empty_like(x);  // first-stage cache ...
  torch::Tensor cached = torch::zeros({n}, f64.dtype(torch::kBool));  // ... and where it is valid
  torch::Tensor u = torch::full({n}, u_start, f64);
  torch::Tensor h = torch::full({n}, std::min(a.h_init, u_end - u_start), f64);
  torch::Tensor calls = torch::zeros({n}, f64);  // score evaluations per sample
  torch::Tensor active = torch::arange(n, f64.dtype(torch::kLong));

  for (int64_t k = 0; active.numel() > 0; ++k) {
    if (k == a.max_steps) {
      const int64_t i = active[0].item<int64_t>();
      result.status = SampleStatus::kStepLimit;
      result.message = detail::concat(name(), ": ", active.numel(), " samples did not reach eps = ",
                                      opt.eps, " within max_steps = ", a.max_steps, " attempts (sample ",
                                      range.first + i, " is at t = ",
                                      pair_->time_at(sde, u.index({torch::indexing::Slice(i, i + 1)})).item<double>(),
                                      "); raise max_steps or loosen rtol/atol");
      break;
    }
    // While every sample is active (most of a solve) the state itself is the active part: no copies.
    // The aliases are safe: every write below goes to the full tensors after its inputs are read.
    const bool everyone = active.numel() == n;
    auto gather = [&](const torch::Tensor& v) { return everyone ? v : v.index_select(0, active); };
    const torch::Tensor ua = gather(u), ha = gather(h);
    const torch::Tensor xa = gather(x), ta = pair_->time_at(sde, ua);
    const torch::Tensor stale = gather(cached).logical_not().nonzero().squeeze(1);
    if (stale.numel() > 0) {
      const torch::Tensor rows = active.index_select(0, stale);
      first.index_copy_(0, rows, pair_->first_stage(reverse, xa.index_select(0, stale), ta.index_select(0, stale)));
      cached.index_fill_(0, rows, true);
      calls.index_add_(0, rows, torch::ones({rows.numel()}, f64));
    }
    // A step that reaches the end lands on u(eps) exactly, so a finished sample is recognised.
    const torch::Tensor u_next = torch::where(ha >= u_end - ua, torch::full_like(ua, u_end), ua + ha);
    const torch::Tensor z = pair_->uses_noise()
                                ? gather(noise.normal(range, shape, uint32_t(k + 1), tensor_options))
                                : torch::Tensor();
    const torch::Tensor ta_next = pair_->time_at(sde, u_next), fa = gather(first);
    const auto [lower, higher] =
        pair_->attempt(reverse, xa, fa, ta, ta_next, z);
    calls.index_add_(0, active, torch::full({active.numel()}, double(pair_->attempt_calls()), f64));

    const torch::Tensor delta = torch::maximum(lower.abs(), gather(x_prev).abs()).mul_(a.rtol).clamp_min_(a.atol);
    const double entries = double(x.numel() / std::max<int64_t>(n, 1));
    const torch::Tensor err = per_sample_squared_norm((higher - lower).div_(delta)).div_(entries).sqrt_().to(torch::kFloat64);
    if (!std::isfinite(err.sum().item<double>())) {
      const int64_t j = torch::isfinite(err).logical_not().nonzero()[0][0].item<int64_t>();
      result.status = SampleStatus::kNonFinite;
      result.message = detail::concat(name(), ": sample ", range.first + active[j].item<int64_t>(),
                                      " became non-finite in attempt ", k + 1, " (from t = ",
                                      ta[j].item<double>(), ")");
      break;
    }
    const torch::Tensor accept = err <= 1.0;
    const torch::Tensor taken = accept.nonzero().squeeze(1), rows = active.index_select(0, taken);
    if (taken.numel() > 0) {
      auto pick = [&](const torch::Tensor& v) { return v.defined() ? v.index_select(0, taken) : v; };
      x.index_copy_(0, rows, pair_->advance(reverse, pick(xa), pick(fa), pick(ta), pick(ta_next), pick(z), pick(higher)));
      if (pair_->advance_calls() > 0)
        calls.index_add_(0, rows, torch::full({rows.numel()}, double(pair_->advance_calls()), f64));
    }
    x_prev.index_copy_(0, rows, lower.index_select(0, taken));
    cached.index_fill_(0, rows, false);
    const torch::Tensor ua_new = torch::where(accept, u_next, ua);
    u.index_copy_(0, active, ua_new);
    // E = 0 gives an infinite proposal, which the distance to the end caps.
    h.index_copy_(0, active, torch::minimum(ha * err.pow(-a.exponent) * a.safety, u_end - ua_new));
    active = active.masked_select(ua_new < u_end);
  }
  if (result.ok() && opt.denoise) {
    x = reverse.denoise(x, opt.eps);
    calls.add_(1.0);
  }
  result.samples = x;
  result.nfe = reverse.nfe();
  result.nfe_mean = calls.mean().item<double>();
  return result;
}

}  // namespace sde
