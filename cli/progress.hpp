// Progress bars for the long-running commands: one line on stderr, redrawn in place with the
// fraction done, the rate and the time left; silent when stderr is not a terminal (logs, CI).
#pragma once

#include <chrono>
#include <string>

#include "sde/score_model.hpp"

namespace sde::cli {

class ProgressBar {
 public:
  /// `label` starts the line; `enabled` defaults to whether stderr is a terminal.
  explicit ProgressBar(std::string label, bool enabled = stderr_is_terminal());
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Redraws (at most 10 times a second) with `fraction` in [0, 1] done and `detail` after it,
  /// e.g. "NFE 120" or "loss 0.53"; `rate` (per second, with its unit) when the caller has one.
  void update(double fraction, const std::string& detail = "", const std::string& rate = "");
  /// Ends the line; later updates are ignored.
  void finish();
  /// Whether updates are drawn (callers may skip computing them otherwise).
  bool active() const { return enabled_; }

  static bool stderr_is_terminal();

 private:
  std::string label_;
  bool enabled_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

/// A score model that reports its caller's progress from the times it is asked about: the
/// fraction of the way from `t_from` to `t_to` of the batch's mean t (sampling runs from T down
/// to eps, the likelihood from eps up to T), and the number of evaluations so far.
class ProgressScore final : public ScoreModel {
 public:
  ProgressScore(const ScoreModel& model, ProgressBar& bar, double t_from, double t_to)
      : model_(model), bar_(bar), t_from_(t_from), t_to_(t_to) {}
  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override;
  std::vector<int64_t> sample_shape() const override { return model_.sample_shape(); }
  bool has_data_prediction() const override { return model_.has_data_prediction(); }
  torch::Tensor data_prediction(const torch::Tensor& x, const torch::Tensor& t) const override;
  int64_t num_classes() const override { return model_.num_classes(); }
  bool takes_condition_values() const override { return model_.takes_condition_values(); }
  torch::Tensor conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const override;
  torch::Tensor conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                            const Condition& c) const override;

 private:
  /// One call at times t: counted, and shown on the bar.
  void advance(const torch::Tensor& t) const;

  const ScoreModel& model_;
  ProgressBar& bar_;
  double t_from_, t_to_;
  mutable long long calls_ = 0;
};

}  // namespace sde::cli
