// Bounded data: the model's data prediction x0_hat kept inside the data's range, as pixel-space
// samplers do (x0 clipping, DDPM's clip_denoised; dynamic thresholding, Saharia et al. 2022,
// Imagen, sec. 2.3; diffusers' clip_sample and thresholding). A network trained on images in
// [-1, 1] predicts values far outside at high noise and under guidance; every solver that uses
// x0_hat (the exponential integrators, DDIM, the final Tweedie step) then steps towards them.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>

#include "sde/core/forward_sde.hpp"
#include "sde/core/forwarding_score_model.hpp"

namespace sde {

struct DataPredictionBounds {
  enum class Kind {
    kNone,     ///< x0_hat as the model gives it
    kClip,     ///< x0_hat clamped to [low, high]
    kDynamic,  ///< Imagen's dynamic thresholding, per sample (below)
  };
  Kind kind = Kind::kNone;
  double low = -1, high = 1;   ///< the data's range, in the model's space
  /// kDynamic: with u = (x0_hat - c) / h (c the range's centre, h its half-width), s = the
  /// `percentile` quantile of |u| over the sample's entries, s = max(s, 1), u = clamp(u, -s, s) / s.
  /// Samples already inside the range are left alone; saturated ones are pulled in, not flattened.
  double percentile = 0.995;

  /// Throws sde::InvalidArgument unless low < high (finite) and 0 < percentile <= 1.
  void validate() const;
  /// "none", "clip [-1, 1]", "dynamic p = 0.995 in [-1, 1]".
  std::string describe() const;
};

/// x0_hat within `bounds`, per sample ([B, ...]).
torch::Tensor bound_data_prediction(const torch::Tensor& x0, const DataPredictionBounds& bounds);

/// A model whose data prediction is bounded, and whose score follows from it: with x0_hat the
/// model's own (its data prediction, or Tweedie's (x + sigma^2 s) / alpha) and b(x0_hat) the
/// bounded one, s_b = s + alpha (b(x0_hat) - x0_hat) / sigma^2, so Tweedie's formula on s_b gives
/// b(x0_hat) and every solver, score- or data-based, sees the same bounded model. Where nothing
/// is clipped it is the model, bit for bit. Where alpha = 0 the score does not depend on x0_hat
/// and is left as it is.
class BoundedDataPrediction final : public ForwardingScoreModel {
 public:
  /// `model` and `sde` must outlive this wrapper; throws as DataPredictionBounds::validate.
  BoundedDataPrediction(const ScoreModel& model, const Sde& sde, DataPredictionBounds bounds);

  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override;
  bool has_data_prediction() const override { return true; }
  torch::Tensor data_prediction(const torch::Tensor& x, const torch::Tensor& t) const override;
  torch::Tensor conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const override;
  torch::Tensor conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                            const Condition& c) const override;

 private:
  // The model's score at (x, t) under c (empty: unconditional).
  torch::Tensor model_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const {
    return c.empty() ? model().score(x, t) : model().conditional_score(x, t, c);
  }

  const Sde& sde_;
  DataPredictionBounds bounds_;
};

}  // namespace sde
