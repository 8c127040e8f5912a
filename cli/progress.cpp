#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sde::cli {

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), start_(std::chrono::steady_clock::now()), last_() {}

bool ProgressBar::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

void ProgressBar::update(double fraction, const std::string& detail, const std::string& rate) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && fraction < 1) return;
  last_ = now;
  drawn_ = true;
  fraction = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0) + 0.0;  // + 0.0: no "-0%"
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  char times[64];
  std::snprintf(times, sizeof times, fraction > 0.01 ? "%.0f s, ETA %.0f s" : "%.0f s", elapsed,
                elapsed * (1 - fraction) / std::max(fraction, 1e-9));
  std::string line = label_ + " [" + bar + "] " + std::to_string(int(100 * fraction)) + "%";
  for (const std::string& part : {detail, rate, std::string(times)})
    if (!part.empty()) line += "  " + part;
  // \r and \033[K: back to the start of the line and clear it, so a shorter line leaves no tail.
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (enabled_ && drawn_) std::fprintf(stderr, "\r\033[K");
  enabled_ = false;
}

void ProgressScore::advance(const torch::Tensor& t) const {
  ++calls_;
  if (!bar_.active()) return;
  const double mean_t = t.numel() ? t.mean().item<double>() : t_from_;
  bar_.update((mean_t - t_from_) / (t_to_ - t_from_), "NFE " + std::to_string(calls_));
}

torch::Tensor ProgressScore::score(const torch::Tensor& x, const torch::Tensor& t) const {
  advance(t);
  return model_.score(x, t);
}

torch::Tensor ProgressScore::data_prediction(const torch::Tensor& x, const torch::Tensor& t) const {
  advance(t);
  return model_.data_prediction(x, t);
}

torch::Tensor ProgressScore::conditional_score(const torch::Tensor& x, const torch::Tensor& t, const Condition& c) const {
  advance(t);
  return model_.conditional_score(x, t, c);
}

torch::Tensor ProgressScore::conditional_data_prediction(const torch::Tensor& x, const torch::Tensor& t,
                                                         const Condition& c) const {
  advance(t);
  return model_.conditional_data_prediction(x, t, c);
}

}  // namespace sde::cli
