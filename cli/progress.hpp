// Progress on stderr for the long-running commands, in the manner of tqdm: one line redrawn in
// place, never wider than the terminal (a wrapped line cannot be redrawn), with a progress measure
// that only moves forward, the rate and the time left shown once, and a final line that stays.
// Silent when stderr is not a terminal (logs, CI): commands print their own summaries there.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "sde/core/sampler.hpp"

namespace sde::cli {

/// Whether stderr is a terminal (bars are drawn only there).
bool stderr_is_terminal();
/// The terminal's width: stderr's window size, else $COLUMNS, else 80.
int terminal_columns();

/// What one redraw shows. `done` and `total` are in `unit`s (steps, samples, it).
struct ProgressState {
  std::string label;
  double done = 0, total = 1;
  double initial = 0;           ///< where this run started (a resumed training): the rate counts from it
  std::string unit = "it";
  bool counted = true;          ///< false: no "done/total unit" and no rate (a fraction of a time interval)
  double elapsed = 0;           ///< seconds since the bar started
  bool eta_known = true;        ///< false: the measure is not proportional to the work left (no ETA)
  std::string postfix;          ///< e.g. "NFE 120" or "loss 0.53"
};

/// The line for `state` at most `columns - 1` characters wide (the last column is left free, so
/// that no terminal wraps it), as tqdm lays it out: "label  42%|####....| 168/400 [00:02<00:03, 75.10 steps/s, NFE 169]".
/// The bar takes the room the rest leaves; on narrow terminals the bar goes first, then the postfix.
std::string progress_line(const ProgressState& state, int columns);

/// "MM:SS", or "H:MM:SS" from an hour on, as tqdm writes durations.
std::string clock_time(double seconds);

struct ProgressBarOptions {
  std::string unit = "it";
  bool counted = true;               ///< see ProgressState::counted
  double initial = 0;                ///< units already done when the bar starts
  bool leave = true;                 ///< keep the final line (false: clear it; the caller prints a row)
  bool enabled = stderr_is_terminal();
};

class ProgressBar {
 public:
  /// `total` units of work.
  ProgressBar(std::string label, double total, ProgressBarOptions options = {});
  ~ProgressBar() { close(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Moves the bar to `done` units (never backwards: a smaller value keeps the last one) and
  /// redraws at most 10 times a second. `eta_known` false hides the time left.
  void update(double done, const std::string& postfix = "", bool eta_known = true);
  /// Draws the final state once more and ends the line, which stays on the terminal (or clears it
  /// when not `leave`). Later updates are ignored.
  void close();
  /// Whether updates are drawn (callers may skip computing them otherwise).
  bool active() const { return enabled_; }
  double elapsed() const;

 private:
  void draw();

  ProgressState state_;
  bool enabled_, leave_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

/// A line saying what runs now ("computing metrics ..."), shown while the object lives and cleared
/// after; nothing when stderr is not a terminal.
class StatusLine {
 public:
  explicit StatusLine(const std::string& text, bool enabled = stderr_is_terminal());
  ~StatusLine();
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;

 private:
  bool enabled_;
};

/// What a sampling bar shows: samples done, the batch in progress counted by the share of its way
/// from the start time to eps (by steps on a fixed grid; by time under adaptive control, which is
/// not proportional to the work, so no ETA until a batch is done), and the NFE of the batch in
/// progress, as the result counts it.
struct SamplingBar {
  std::string label = "sampling";
  int64_t count = 0;   ///< samples this process computes
  int64_t batch = 0;   ///< samples per batch (0: one batch)
  int64_t steps = 0;   ///< the grid's steps; 0: adaptive
  double t_start = 1, eps = 1e-3;
  bool leave = true;
  bool enabled = stderr_is_terminal();
};

/// Runs `run(request')` where request' has an observer that also reports to the bar (the bar
/// follows the solve loop's steps and model calls); the bar's final line stays (when `leave`).
SampleResult sample_with_progress(const SamplingBar& bar, const SampleRequest& request,
                                  const std::function<SampleResult(const SampleRequest&)>& run);

}  // namespace sde::cli
