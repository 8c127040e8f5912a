#include "sde/score_model.hpp"

#include "sde/errors.hpp"

namespace sde {

void check_score_inputs(const ScoreModel& model, const torch::Tensor& x, const torch::Tensor& t) {
  const std::vector<int64_t> shape = model.sample_shape();
  const bool x_ok = x.dim() == int64_t(shape.size()) + 1 &&
                    std::equal(shape.begin(), shape.end(), x.sizes().begin() + 1);
  SDE_CHECK(x_ok, "score model: x must have shape [B, ", c10::IntArrayRef(shape),
            "...] (batch first, then the sample shape), got ", x.sizes());
  SDE_CHECK(t.dim() == 1 && t.size(0) == x.size(0),
            "score model: t must have shape [B] with B = x.size(0) = ", x.size(0), ", got ",
            t.sizes());
}

torch::Tensor ScoreModel::data_prediction(const torch::Tensor&, const torch::Tensor&) const {
  throw InvalidArgument(
      "this score model has no data prediction of its own, and where alpha(t) = 0 (flow matching at T = 1) "
      "Tweedie's formula from the score is 0/0; use a model that predicts x_0, v or a flow velocity, or start "
      "below T (a flow process with t_max < 1)");
}

}  // namespace sde
