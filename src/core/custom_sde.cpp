#include "sde/core/custom_sde.hpp"

#include <algorithm>
#include <cmath>
#include "sde/core/errors.hpp"

namespace sde {
namespace {

// f(t) entry by entry, in t's dtype (float64 arithmetic).
torch::Tensor each(const torch::Tensor& t, const std::function<double(double)>& f) {
  const torch::Tensor t64 = t.to(torch::kFloat64).contiguous();
  torch::Tensor out = torch::empty_like(t64);
  const double* in = t64.data_ptr<double>();
  double* o = out.data_ptr<double>();
  for (int64_t i = 0; i < t64.numel(); ++i) o[i] = f(in[i]);
  return out.to(t.dtype());
}

// A central difference inside [0, T]; at its ends the one-sided second-order formula, so that the
// error is O(h^2) everywhere (h = 1e-6 T: ~1e-12 truncation, ~1e-10 rounding, relative).
double derivative(const std::function<double(double)>& f, double t, double t_max) {
  const double h = 1e-6 * t_max;
  if (t - h < 0) return (-3 * f(t) + 4 * f(t + h) - f(t + 2 * h)) / (2 * h);
  if (t + h > t_max) return (3 * f(t) - 4 * f(t - h) + f(t - 2 * h)) / (2 * h);
  return (f(t + h) - f(t - h)) / (2 * h);
}

KernelFunctions checked(KernelFunctions k) {
  SDE_CHECK(static_cast<bool>(k.alpha) && static_cast<bool>(k.sigma), "custom process '", k.name,
            "': alpha(t) and sigma(t) are required");
  SDE_CHECK(std::isfinite(k.prior_std) && k.prior_std > 0, "custom process '", k.name, "': prior_std = ", k.prior_std,
            " must be > 0");
  return k;
}

}  // namespace

CustomSde::CustomSde(KernelFunctions kernel) : Sde(checked(kernel).t_max), kernel_(std::move(kernel)) {
  const int n = 256;
  double previous = INFINITY;
  for (int i = 0; i <= n; ++i) {
    const double t = t_max() * i / n, a = kernel_.alpha(t), s = kernel_.sigma(t);
    SDE_CHECK(std::isfinite(a) && std::isfinite(s) && a >= 0 && s >= 0, "custom process '", kernel_.name,
              "': alpha(", t, ") = ", a, ", sigma(", t, ") = ", s, "; both must be finite and >= 0");
    if (i == 0) continue;
    SDE_CHECK(s > 0, "custom process '", kernel_.name, "': sigma(", t, ") = 0; it must be > 0 on (0, T]");
    const double lambda = std::log(a / s);
    SDE_CHECK(lambda < previous, "custom process '", kernel_.name, "': the log-SNR log(alpha/sigma) must decrease "
              "strictly in t, but log_snr(", t, ") = ", lambda, " >= ", previous, " at the time before");
    previous = lambda;
    if (a > 0) {
      const double g2 = 2 * s * sigma_derivative(t) - 2 * alpha_derivative(t) / a * s * s;
      SDE_CHECK(g2 >= -1e-8 * std::max(1.0, std::abs(2 * s * sigma_derivative(t))), "custom process '", kernel_.name,
                "': g(t)^2 = 2 sigma sigma' - 2 f sigma^2 = ", g2, " < 0 at t = ", t,
                " (the noise must not shrink faster than the signal)");
    }
  }
}

double CustomSde::alpha(double t) const { check_time(t); return kernel_.alpha(t); }
double CustomSde::sigma(double t) const { check_time(t); return kernel_.sigma(t); }
double CustomSde::alpha_derivative(double t) const {
  check_time(t);
  return kernel_.alpha_derivative ? kernel_.alpha_derivative(t) : derivative(kernel_.alpha, t, t_max());
}
double CustomSde::sigma_derivative(double t) const {
  check_time(t);
  return kernel_.sigma_derivative ? kernel_.sigma_derivative(t) : derivative(kernel_.sigma, t, t_max());
}
double CustomSde::drift_coef(double t) const { return alpha_derivative(t) / alpha(t); }
double CustomSde::diffusion(double t) const {
  const double s = sigma(t);
  return std::sqrt(std::max(2 * s * sigma_derivative(t) - 2 * drift_coef(t) * s * s, 0.0));
}
torch::Tensor CustomSde::alpha(const torch::Tensor& t) const { check_time(t); return each(t, kernel_.alpha); }
torch::Tensor CustomSde::sigma(const torch::Tensor& t) const { check_time(t); return each(t, kernel_.sigma); }
torch::Tensor CustomSde::drift_coef(const torch::Tensor& t) const {
  return each(t, [this](double u) { return drift_coef(u); });
}
torch::Tensor CustomSde::diffusion(const torch::Tensor& t) const {
  return each(t, [this](double u) { return diffusion(u); });
}

double CustomSde::time_at_log_snr(double lambda) const {
  if (!kernel_.time_at_log_snr) return Sde::time_at_log_snr(lambda);
  check_log_snr(lambda, lambda);
  return std::clamp(kernel_.time_at_log_snr(lambda), 0.0, t_max());
}

torch::Tensor CustomSde::time_at_log_snr(const torch::Tensor& lambda) const {
  if (!kernel_.time_at_log_snr) return Sde::time_at_log_snr(lambda);
  check_log_snr(lambda);
  return each(lambda, [this](double l) { return std::clamp(kernel_.time_at_log_snr(l), 0.0, t_max()); });
}

// ---- Discrete schedules ----

DiscreteSchedule DiscreteSchedule::from_betas(const std::vector<double>& betas) {
  DiscreteSchedule schedule;
  double product = 1.0;
  for (size_t i = 0; i < betas.size(); ++i) {
    SDE_CHECK(std::isfinite(betas[i]) && betas[i] > 0 && betas[i] < 1, "discrete schedule: beta[", i, "] = ", betas[i],
              " must lie in (0, 1)");
    const double previous = product;
    product *= 1.0 - betas[i];
    SDE_CHECK(product < previous, "discrete schedule: beta[", i, "] = ", betas[i], " is below double precision: 1 - beta "
              "rounds to 1, so alphas_cumprod does not decrease there; betas must exceed about 1.1e-16");
    SDE_CHECK(product > 0, "discrete schedule: the betas drive alphas_cumprod to 0 (underflow) at [", i, "]: no diffusion "
              "schedule does that; if the values are alphas_cumprod, say so (--schedule-values alphas_cumprod, or the "
              "JSON key \"alphas_cumprod\")");
    schedule.alphas_cumprod.push_back(product);
  }
  return schedule;
}

DiscreteSchedule DiscreteSchedule::ddpm_linear(int64_t n, double beta_start, double beta_end) {
  SDE_CHECK(n >= 2, "ddpm_linear: n = ", n, " must be >= 2");
  std::vector<double> betas;
  for (int64_t i = 0; i < n; ++i) betas.push_back(beta_start + (beta_end - beta_start) * double(i) / double(n - 1));
  return from_betas(betas);
}

void DiscreteSchedule::validate() const {
  SDE_CHECK(alphas_cumprod.size() >= 2, "discrete schedule: needs at least 2 entries, got ", alphas_cumprod.size());
  for (size_t i = 0; i < alphas_cumprod.size(); ++i) {
    const double a = alphas_cumprod[i];
    SDE_CHECK(std::isfinite(a) && a > 0 && a < 1, "discrete schedule: alphas_cumprod[", i, "] = ", a,
              " must lie in (0, 1)");
    SDE_CHECK(i == 0 || a < alphas_cumprod[i - 1], "discrete schedule: alphas_cumprod must decrease strictly, but [", i,
              "] = ", a, " >= [", i - 1, "] = ", alphas_cumprod[i - 1],
              "; betas increase: if the values are betas, say so (--schedule-values betas, or the JSON key \"betas\")");
  }
}

std::shared_ptr<const Sde> make_discrete_sde(const DiscreteSchedule& schedule) {
  schedule.validate();
  // Knots (t_0, L_0) = (0, 0), (t_{n+1}, L_{n+1}) = ((n + 1) / N, 1/2 log alpha_bar_n); L = log alpha.
  const size_t n = schedule.alphas_cumprod.size();
  auto knots = std::make_shared<std::vector<std::pair<double, double>>>();
  knots->push_back({0.0, 0.0});
  for (size_t i = 0; i < n; ++i)
    knots->push_back({double(i + 1) / double(n), 0.5 * std::log(schedule.alphas_cumprod[i])});
  // The segment [k, k + 1] holding t (the left one at a knot).
  const auto segment = [knots](double t) {
    const auto it = std::lower_bound(knots->begin() + 1, knots->end() - 1, t,
                                     [](const std::pair<double, double>& knot, double u) { return knot.first < u; });
    return size_t(it - knots->begin()) - 1;
  };
  const auto slope = [knots, segment](double t) {
    const size_t k = segment(t);
    return ((*knots)[k + 1].second - (*knots)[k].second) / ((*knots)[k + 1].first - (*knots)[k].first);
  };
  const auto log_alpha = [knots, segment, slope](double t) {
    return (*knots)[segment(t)].second + slope(t) * (t - (*knots)[segment(t)].first);
  };
  KernelFunctions k;
  k.name = "discrete";
  k.discrete_steps = int64_t(n);
  k.alpha = [log_alpha](double t) { return std::exp(log_alpha(t)); };
  // max(0, .): -expm1(0) is -0, whose square root would make log_snr(0) NaN instead of +inf.
  k.sigma = [log_alpha](double t) { return std::sqrt(std::max(0.0, -std::expm1(2.0 * log_alpha(t)))); };
  k.alpha_derivative = [log_alpha, slope](double t) { return slope(t) * std::exp(log_alpha(t)); };
  // sigma' = -alpha alpha' / sigma = -f alpha^2 / sigma.
  k.sigma_derivative = [log_alpha, slope](double t) {
    const double a2 = std::exp(2.0 * log_alpha(t));
    return -slope(t) * a2 / std::sqrt(-std::expm1(2.0 * log_alpha(t)));
  };
  // log alpha from lambda: alpha^2 = sigmoid(2 lambda), then the knot interval holding it.
  k.time_at_log_snr = [knots](double lambda) {
    const double target = -0.5 * std::log1p(std::exp(-2.0 * lambda));
    const auto it = std::lower_bound(knots->begin(), knots->end(), target,
                                     [](const std::pair<double, double>& knot, double l) { return knot.second > l; });
    if (it == knots->begin()) return 0.0;
    if (it == knots->end()) return 1.0;
    const auto& hi = *it;
    const auto& lo = *(it - 1);
    return lo.first + (target - lo.second) / (hi.second - lo.second) * (hi.first - lo.first);
  };
  return std::make_shared<CustomSde>(std::move(k));
}

}  // namespace sde
