#include "sde/solve/likelihood.hpp"

#include <cmath>
#include <functional>
#include <limits>

#include <torch/csrc/autograd/autograd.h>

#include "sde/core/errors.hpp"
#include "sde/core/random.hpp"
#include "sde/core/reverse_sde.hpp"

namespace sde {

void LikelihoodOptions::validate() const {
  ode.validate();
  SDE_CHECK(ode.method != OdeMethod::kRk4, "likelihood: the ODE method must be adaptive (dopri5 or cash-karp), got rk4");
  SDE_CHECK(probes >= 1, "likelihood: probes = ", probes, " must be >= 1");
  SDE_CHECK(std::isfinite(eps) && eps > 0, "likelihood: eps = ", eps, " must be finite and > 0 (usually 1e-5)");
  SDE_CHECK(batch_size >= 0, "likelihood: batch_size = ", batch_size, " must be >= 0 (0: all points at once)");
  SDE_CHECK(first_index >= 0, "likelihood: first_index = ", first_index, " must be >= 0");
}

double LikelihoodResult::bits_per_dim() const {
  const double dim = double(latent.numel() / std::max<int64_t>(latent.size(0), 1));
  return -mean_log_p() / (dim * std::log(2.0));
}

double LikelihoodResult::mean_log_p() const { return log_p.nanmean().item<double>(); }

void Dequantization::validate() const {
  SDE_CHECK(levels >= 2, "dequantization: levels = ", levels, " must be >= 2 (256 for 8-bit data)");
  SDE_CHECK(std::isfinite(scale) && scale > 0, "dequantization: scale = ", scale,
            " must be > 0 (1 for data in [0, 1], 2 for [-1, 1])");
  SDE_CHECK(std::isfinite(shift), "dequantization: shift = ", shift, " must be finite");
}

double Dequantization::bits_offset() const {
  validate();
  return std::log2(double(levels) / scale);
}

torch::Tensor Dequantization::apply(const torch::Tensor& k, const NoiseStream& noise, SampleRange range) const {
  validate();
  SDE_CHECK(k.dim() >= 1 && k.size(0) == range.count, "dequantization: data of shape ", k.sizes(),
            " do not have the ", range.count, " rows of the range");
  const auto values = k.to(torch::kFloat64);
  SDE_CHECK(values.numel() == 0 || (values.min().item<double>() >= 0 && values.max().item<double>() <= double(levels - 1) &&
                                    torch::equal(values, values.floor())),
            "dequantization: data must be integers in [0, ", levels - 1, "]");
  const auto sample_shape = k.sizes().slice(1);
  return (values + noise.uniform(range, sample_shape, /*draw=*/0)) * (scale / double(levels)) + shift;
}

double discrete_bits_per_dim(const LikelihoodResult& result, const Dequantization& dequantization) {
  return result.bits_per_dim() + dequantization.bits_offset();
}

namespace {

// Probes v with E[v v^T] = I for the points `range` of the data set: [probes, count, D], keyed by
// the points' indices, so the same for a point in any batch or shard.
torch::Tensor make_probes(const LikelihoodOptions& o, SampleRange range, int64_t dim, const torch::TensorOptions& options) {
  const NoiseStream noise(o.seed);
  std::vector<torch::Tensor> v;
  for (int64_t j = 0; j < o.probes; ++j) {
    if (o.gaussian_probes)
      v.push_back(noise.normal(range, {dim}, uint32_t(j), options));
    else
      v.push_back(noise.uniform(range, {dim}, uint32_t(j)).lt(0.5).to(options).mul_(2.0).sub_(1.0));
  }
  return torch::stack(v);
}

}  // namespace

LikelihoodResult log_likelihood(const Sde& sde, const ScoreModel& model, const torch::Tensor& x,
                                const LikelihoodOptions& o) {
  o.validate();
  check_score_inputs(model, x, torch::zeros({x.size(0)}, x.options()));
  SDE_CHECK(o.eps < sde.t_max(), "likelihood: eps = ", o.eps, " must be smaller than T = ", sde.t_max());
  SDE_CHECK(all_finite(x), "likelihood: the data contain NaN or infinite values; remove or fix those points");
  const int64_t batch = x.size(0), dim = x.numel() / std::max<int64_t>(batch, 1);
  const bool exact = o.trace == TraceEstimator::kExact;
  const int64_t columns = exact ? 1 : o.probes;  // integrals carried along with x
  const ReverseSde reverse(sde, model);

  // The points [first, first + count) together, their integrals in the last columns of the state.
  auto integrate_rows = [&](int64_t first, int64_t count) {
    std::vector<int64_t> shape = x.sizes().vec();
    shape[0] = count;
    const torch::Tensor v = exact ? torch::Tensor() : make_probes(o, {o.first_index + first, count}, dim, x.options());
    const OdeRhs rhs = [&](const torch::Tensor& state, torch::Tensor& dstate, double t) {
      torch::AutoGradMode grad_on(true);
      const torch::Tensor point = state.narrow(1, 0, dim).detach().reshape(shape).requires_grad_(true);
      const torch::Tensor drift = reverse.probability_flow_drift(point, t).reshape({count, dim});
      std::vector<torch::Tensor> divergence;
      for (int64_t j = 0; j < (exact ? dim : columns); ++j) {
        const bool last = j + 1 == (exact ? dim : columns);
        const torch::Tensor out = exact ? drift.select(1, j).sum() : (drift * v[j]).sum();
        const torch::Tensor grad =
            torch::autograd::grad({out}, {point}, {}, /*retain_graph=*/!last)[0].reshape({count, dim});
        divergence.push_back(exact ? grad.select(1, j) : (grad * v[j]).sum(1));
      }
      torch::Tensor div = exact ? torch::stack(divergence, 1).sum(1, true) : torch::stack(divergence, 1);
      dstate = torch::cat({drift.detach(), div.detach()}, 1);
    };
    const torch::Tensor start = torch::cat(
        {x.narrow(0, first, count).reshape({count, dim}), torch::zeros({count, columns}, x.options())}, 1);
    return integrate_adaptive(rhs, start, o.eps, sde.t_max(), o.ode);
  };

  LikelihoodResult result;
  torch::Tensor end = torch::full({batch, dim + columns}, std::numeric_limits<double>::quiet_NaN(), x.options());
  // A batch shares its step sizes, so one point the controller cannot follow (far out in the
  // tails) would stop every point. A failed range is split in halves until the points that fail
  // alone are found: those get NaN and a reason, the others their log p. (Only in one process:
  // with the batch split over processes every process must take the same steps. Not for a spent
  // step budget either: each half would spend it again.)
  std::function<void(int64_t, int64_t)> solve = [&](int64_t first, int64_t count) {
    if (o.ode.observer.begin) o.ode.observer.begin({o.first_index + first, count});
    const OdeSolution solution = integrate_rows(first, count);
    result.nfe += solution.nfe;
    if (solution.ok()) {
      end.narrow(0, first, count).copy_(solution.x);
    } else if (count == 1 || o.ode.global_max || solution.status == SolveStatus::kStepLimit) {
      for (int64_t i = first; i < first + count; ++i) result.failures.push_back({i, solution.message});
      if (result.failures.size() == size_t(count)) result.status = solution.status;
    } else {
      solve(first, count / 2);
      solve(first + count / 2, count - count / 2);
    }
  };
  const int64_t step = o.batch_size > 0 ? o.batch_size : std::max<int64_t>(batch, 1);
  for (int64_t first = 0; first < batch; first += step) solve(first, std::min(step, batch - first));
  const auto shape = x.sizes().vec();
  result.latent = end.narrow(1, 0, dim).reshape(shape);
  if (result.failures.size() == size_t(batch)) {
    result.message = "likelihood: " + result.failures.front().message;
    return result;
  }
  result.status = SolveStatus::kSuccess;
  const torch::Tensor integrals = end.narrow(1, dim, columns).to(torch::kFloat64);
  result.prior_log_p = sde.prior_log_prob(result.latent.to(torch::kFloat64));
  result.log_p = result.prior_log_p + integrals.mean(1);
  if (!exact && columns >= 2) result.std_error = integrals.std(1) / std::sqrt(double(columns));
  return result;
}

}  // namespace sde
