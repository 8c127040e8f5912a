#include "sde/core/bounded_prediction.hpp"

#include <cmath>

#include "sde/core/errors.hpp"
#include "core/tensor_rows.hpp"

namespace sde {

void DataPredictionBounds::validate() const {
  SDE_CHECK(std::isfinite(low) && std::isfinite(high) && low < high, "data prediction bounds: the range [", low, ", ",
            high, "] must be finite with low < high (images in [-1, 1]: -1 and 1)");
  SDE_CHECK(percentile > 0 && percentile <= 1, "dynamic thresholding: percentile = ", percentile,
            " must lie in (0, 1] (Imagen uses 0.995)");
}

std::string DataPredictionBounds::describe() const {
  const std::string range = detail::concat("[", low, ", ", high, "]");
  switch (kind) {
    case Kind::kNone: return "none";
    case Kind::kClip: return "clip to " + range;
    case Kind::kDynamic: return detail::concat("dynamic thresholding, p = ", percentile, ", in ", range);
  }
  return "none";
}

torch::Tensor bound_data_prediction(const torch::Tensor& x0, const DataPredictionBounds& bounds) {
  switch (bounds.kind) {
    case DataPredictionBounds::Kind::kNone: return x0;
    case DataPredictionBounds::Kind::kClip: return x0.clamp(bounds.low, bounds.high);
    case DataPredictionBounds::Kind::kDynamic: {
      const double centre = 0.5 * (bounds.low + bounds.high), half = 0.5 * (bounds.high - bounds.low);
      const torch::Tensor u = (x0 - centre) / half;
      // s per sample: the percentile of |u| over its entries, at least 1.
      const torch::Tensor s =
          detail::per_row(torch::quantile(u.abs().reshape({x0.size(0), -1}), bounds.percentile, 1).clamp_min(1.0), x0);
      const torch::Tensor pulled = torch::max(torch::min(u, s), -s).div(s).mul(half).add(centre);
      // Entries the threshold leaves alone (s = 1, inside the range) keep their exact values.
      return torch::where(s.eq(1.0).logical_and(u.abs() <= 1.0), x0, pulled);
    }
  }
  return x0;
}

BoundedDataPrediction::BoundedDataPrediction(const ScoreModel& model, const Sde& sde, DataPredictionBounds bounds)
    : ForwardingScoreModel(model), sde_(sde), bounds_(bounds) {
  bounds_.validate();
}

namespace {

using detail::per_row;

// Tweedie's x0_hat = (x + sigma^2 s) / alpha from the score; rows at alpha = 0 (flow at T = 1)
// get x itself, which their score ignores.
torch::Tensor tweedie(const torch::Tensor& x, const torch::Tensor& s, const torch::Tensor& alpha,
                      const torch::Tensor& sigma) {
  return torch::where(alpha > 0, (x + sigma.square() * s) / alpha.clamp_min(1e-300), x);
}

}  // namespace

torch::Tensor BoundedDataPrediction::score(const torch::Tensor& x, const torch::Tensor& t) const {
  return conditional_score(x, t, Condition{});
}

torch::Tensor BoundedDataPrediction::conditional_score(const torch::Tensor& x, const torch::Tensor& t,
                                                       const Condition& c) const {
  const torch::Tensor s = model_score(x, t, c);
  const torch::Tensor alpha = per_row(sde_.alpha(t), x), sigma = per_row(sde_.sigma(t), x);
  const torch::Tensor x0 = tweedie(x, s, alpha, sigma);
  // s + alpha (b(x0) - x0) / sigma^2: exactly s where nothing is clipped, and where alpha = 0.
  return s + alpha * (bound_data_prediction(x0, bounds_) - x0) / sigma.square();
}

torch::Tensor BoundedDataPrediction::data_prediction(const torch::Tensor& x, const torch::Tensor& t) const {
  return conditional_data_prediction(x, t, Condition{});
}

torch::Tensor BoundedDataPrediction::conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                                                 const Condition& c) const {
  // The model's own prediction where it has one (it is finite at alpha = 0), else Tweedie's.
  if (model().has_data_prediction())
    return bound_data_prediction(c.empty() ? model().data_prediction(x, t) : model().conditional_data_prediction(x, t, c),
                                 bounds_);
  const torch::Tensor alpha = per_row(sde_.alpha(t), x), sigma = per_row(sde_.sigma(t), x);
  return bound_data_prediction(tweedie(x, model_score(x, t, c), alpha, sigma), bounds_);
}

}  // namespace sde
