#include "sde/core/forward_sde.hpp"

#include <cmath>

#include "sde/core/errors.hpp"

namespace sde {

void check_finite_parameter(const char* what, double value) {
  SDE_CHECK(std::isfinite(value), what, " must be finite, got ", value);
}

void check_ordered_positive(const char* name, double lo, double hi, const char* hint) {
  const std::string min = std::string(name) + "_min", max = std::string(name) + "_max";
  check_finite_parameter(min.c_str(), lo);
  check_finite_parameter(max.c_str(), hi);
  SDE_CHECK(lo > 0, min, " must be > 0, got ", lo, " (", hint, ")");
  SDE_CHECK(lo < hi, min, " must be < ", max, ", got ", min, " = ", lo, ", ", max, " = ", hi, " (",
            hint, ")");
}

Sde::Sde(double t_max) : t_max_(t_max) {
  SDE_CHECK(std::isfinite(t_max) && t_max > 0, "the end time T must be finite and > 0, got ", t_max,
            "; the usual choice is T = 1");
}

void Sde::check_time(double t) const {
  SDE_CHECK(std::isfinite(t) && t >= 0 && t <= t_max_, name(), " SDE: time t = ", t,
            " lies outside [0, T] = [0, ", t_max_, "]; pass a time in that interval");
}

void Sde::check_time(const torch::Tensor& t) const {
  SDE_CHECK(t.dim() == 1, name(), " SDE: times must have shape [B], got ", t.sizes());
  if (t.numel() == 0) return;
  const auto [lo, hi] = torch::aminmax(t);
  check_time(lo.item<double>());
  check_time(hi.item<double>());
}

double Sde::log_snr(double t) const { return std::log(alpha(t) / sigma(t)); }

double Sde::alpha_derivative(double t) const { return drift_coef(t) * alpha(t); }

double Sde::sigma_derivative(double t) const {
  const double sigma_t = sigma(t), g = diffusion(t);
  return (0.5 * g * g + drift_coef(t) * sigma_t * sigma_t) / sigma_t;
}

void Sde::check_log_snr(double lambda_min, double lambda_max) const {
  // log_snr(0) is +inf where sigma(0) = 0 (VP, sub-VP) and finite for VE; log_snr(T) is -inf where
  // alpha(T) = 0 (flow), and then lambda = -inf is T itself.
  const double lo = log_snr(t_max_), hi = log_snr(0.0);
  const bool min_ok = (std::isfinite(lambda_min) || lambda_min == lo) && lambda_min >= lo;
  SDE_CHECK(min_ok && (std::isfinite(lambda_max) || lambda_max == lo) && lambda_max <= hi, name(), " SDE: log-SNR lambda = ",
            min_ok ? lambda_max : lambda_min, " lies outside [log_snr(T), log_snr(0)] = [", lo, ", ",
            hi, "]; no time in [0, T] has it");
}

void Sde::check_log_snr(const torch::Tensor& lambda) const {
  SDE_CHECK(lambda.dim() == 1, name(), " SDE: log-SNRs must have shape [B], got ", lambda.sizes());
  if (lambda.numel() == 0) return;
  const auto [lo, hi] = torch::aminmax(lambda);  // NaN propagates into both
  check_log_snr(lo.item<double>(), hi.item<double>());
}

double Sde::time_at_log_snr(double lambda) const {
  check_log_snr(lambda, lambda);
  double lo = 0.0, hi = t_max_;  // invariant: log_snr(lo) >= lambda >= log_snr(hi)
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;  // adjacent doubles: converged
    (log_snr(mid) > lambda ? lo : hi) = mid;
  }
  return hi;
}

torch::Tensor Sde::log_snr(const torch::Tensor& t) const { return (alpha(t) / sigma(t)).log_(); }

torch::Tensor Sde::time_at_log_snr(const torch::Tensor& lambda) const {
  check_log_snr(lambda);
  const auto l = lambda.to(torch::kFloat64);
  torch::Tensor lo = torch::zeros_like(l), hi = torch::full_like(l, t_max_);
  // 64 halvings of [0, T] reach the spacing of doubles near T; entries stop moving once converged.
  for (int i = 0; i < 64; ++i) {
    const torch::Tensor mid = (lo + hi).mul_(0.5);
    const torch::Tensor below = log_snr(mid) > l;  // mid is still earlier than the answer
    lo = torch::where(below, mid, lo);
    hi = torch::where(below, hi, mid);
  }
  return hi.to(lambda.dtype());
}

Transition Sde::transition(double s, double t) const {
  check_time(s);
  check_time(t);
  SDE_CHECK(s < t, name(), " SDE: a forward transition needs s < t, got s = ", s, ", t = ", t);
  const double coef = alpha(t) / alpha(s);
  const double var = sigma(t) * sigma(t) - coef * coef * sigma(s) * sigma(s);
  return {coef, std::sqrt(std::max(var, 0.0))};
}

torch::Tensor per_sample(const torch::Tensor& c, const torch::Tensor& x) {
  SDE_CHECK(x.dim() >= 1 && c.dim() == 1 && c.size(0) == x.size(0),
            "a per-sample coefficient needs x of shape [B, ...] and a coefficient of shape [B]; got x ",
            x.sizes(), ", coefficient ", c.sizes());
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  return c.to(x.dtype()).view(shape);
}

torch::Tensor per_sample_squared_norm(const torch::Tensor& v) {
  const torch::Tensor rows = v.reshape({v.size(0), -1});
  return rows.square().matmul(torch::ones({rows.size(1)}, rows.options()));
}

torch::Tensor Sde::drift(const torch::Tensor& x, const torch::Tensor& t) const {
  return per_sample(drift_coef(t), x) * x;
}

torch::Tensor Sde::prior_sample(const NoiseStream& noise, SampleRange range,
                                c10::IntArrayRef sample_shape,
                                const torch::TensorOptions& options) const {
  return noise.normal(range, sample_shape, /*draw=*/0, options).mul_(prior_std());
}

torch::Tensor Sde::prior_log_prob(const torch::Tensor& x) const {
  SDE_CHECK(x.dim() >= 1, name(), " SDE: prior_log_prob needs x of shape [B, ...], got ", x.sizes());
  const double s = prior_std();
  const double dim = double(x.numel() / std::max<int64_t>(x.size(0), 1));
  const auto flat = x.reshape({x.size(0), -1});
  return flat.square().sum(1) * (-0.5 / (s * s)) - 0.5 * dim * std::log(2 * M_PI * s * s);
}

}  // namespace sde
