// Any network as a score model: what its output means (score, noise, data or v prediction) and
// what time label it expects, named explicitly, converted in one place.
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sde/forward_sde.hpp"
#include "sde/score_model.hpp"

namespace sde {

/// What a network predicts, with x_t = alpha x_0 + sigma eps:
enum class Parameterization {
  kScore,  ///< s = grad log p_t(x) itself
  kNoise,  ///< eps (DDPM's epsilon prediction): s = -eps / sigma
  kData,   ///< x_0 (Tweedie's mean): s = (alpha x0 - x) / sigma^2
  kV,      ///< v = alpha eps - sigma x_0 (Salimans & Ho 2022): eps = (sigma x + alpha v) / (alpha^2 + sigma^2)
};

/// The time input a network was trained with:
enum class TimeConditioning {
  kTime,        ///< t itself
  kDiscrete999, ///< 999 t: the reference code's labels for VP and sub-VP (DDPM's 1000 steps)
  kSigma,       ///< sigma(t): the reference code's labels for VE (NCSN)
  kSmldIndex,   ///< round(999 (T - t) / T): the noise-level index of a discrete SMLD model (smld_loss)
};

Parameterization parse_parameterization(const std::string& name);       ///< score | noise | data | v
TimeConditioning parse_time_conditioning(const std::string& name);     ///< time | 999t | sigma | smld
std::string name_of(Parameterization p);
std::string name_of(TimeConditioning c);

/// A network: output for inputs x [B, ...] and labels [B].
using Network = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& label)>;

/// The adapter: score(x, t) = convert(network(x, label(t))).
class ParameterizedScoreModel final : public ScoreModel {
 public:
  ParameterizedScoreModel(std::shared_ptr<const Sde> sde, Network network, Parameterization parameterization,
                          TimeConditioning conditioning, std::vector<int64_t> sample_shape);

  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override;
  std::vector<int64_t> sample_shape() const override { return sample_shape_; }
  /// The label the network sees at times t.
  torch::Tensor label(const torch::Tensor& t) const;

 private:
  std::shared_ptr<const Sde> sde_;
  Network network_;
  Parameterization parameterization_;
  TimeConditioning conditioning_;
  std::vector<int64_t> sample_shape_;
};

}  // namespace sde
