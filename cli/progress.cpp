#include "progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace sde::cli {
namespace {

std::string format(const char* pattern, double a, double b = 0) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, a, b);
  return text;
}

// A count as tqdm writes it: integers without decimals, else one decimal.
std::string amount(double x) { return x == std::floor(x) && std::abs(x) < 1e15 ? format("%.0f", x) : format("%.1f", x); }

std::string rate_text(double per_second, const std::string& unit) {
  if (!(per_second > 0) || !std::isfinite(per_second)) return "? " + unit + "/s";
  // Below one unit a second, seconds per unit read better.
  if (per_second < 1) return format("%.2f", 1 / per_second) + " s/" + unit;
  return format(per_second < 100 ? "%.2f" : "%.0f", per_second) + " " + unit + "/s";
}

}  // namespace

std::string clock_time(double seconds) {
  const long long s = std::isfinite(seconds) && seconds > 0 ? (long long)std::llround(seconds) : 0;
  char text[32];
  if (s >= 3600) std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(text, sizeof text, "%02lld:%02lld", s / 60, s % 60);
  return text;
}

std::string progress_line(const ProgressState& state, int columns) {
  const double total = state.total > 0 ? state.total : 1;
  const double done = std::clamp(std::isfinite(state.done) ? state.done : 0.0, 0.0, total);
  const double fraction = done / total + 0.0;  // + 0.0: no "-0%"
  const double rate = state.elapsed > 0 ? (done - state.initial) / state.elapsed : 0;
  std::string times = clock_time(state.elapsed);
  if (fraction < 1) times += "<" + (state.eta_known && rate > 0 ? clock_time((total - done) / rate) : std::string("?"));
  std::string tail = " [" + times;
  if (state.counted) {
    tail = " " + amount(done) + "/" + amount(total) + tail + ", " + rate_text(rate, state.unit);
  }
  const std::string head = state.label + " " + format("%3.0f", std::floor(100 * fraction)) + "%";
  const int width = std::max(columns - 1, 1);
  // The bar takes the room the text leaves; on a narrow terminal it goes first, then the postfix.
  constexpr int kShortestBar = 10;
  const std::string postfix = state.postfix.empty() ? "]" : ", " + state.postfix + "]";
  tail += int(head.size() + tail.size() + postfix.size()) <= width ? postfix : std::string("]");
  const int room = width - int(head.size() + tail.size()) - 2;  // the two '|'
  std::string line = head;
  if (room >= kShortestBar) {
    const int filled = static_cast<int>(fraction * room);
    line += "|" + std::string(size_t(filled), '#') + std::string(size_t(room - filled), '.') + "|";
  }
  line += tail;
  if (int(line.size()) > width) line.resize(size_t(width));
  return line;
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

int terminal_columns() {
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    const int n = std::atoi(columns);
    if (n > 0) return n;
  }
  return 80;
}

ProgressBar::ProgressBar(std::string label, double total, ProgressBarOptions options)
    : enabled_(options.enabled), leave_(options.leave), start_(std::chrono::steady_clock::now()) {
  state_.label = std::move(label);
  state_.total = total;
  state_.done = state_.initial = options.initial;
  state_.unit = std::move(options.unit);
  state_.counted = options.counted;
}

double ProgressBar::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::update(double done, const std::string& postfix, bool eta_known) {
  if (!enabled_) return;
  if (std::isfinite(done)) state_.done = std::max(state_.done, std::min(done, state_.total));
  state_.postfix = postfix;
  state_.eta_known = eta_known;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  draw();
}

void ProgressBar::draw() {
  state_.elapsed = elapsed();
  drawn_ = true;
  // \r and \033[K: back to the start of the line and clear it, so a shorter line leaves no tail.
  // The line never reaches the last column, so it never wraps and this clears all of it.
  std::fprintf(stderr, "\r\033[K%s", progress_line(state_, terminal_columns()).c_str());
  std::fflush(stderr);
}

void ProgressBar::close() {
  if (!enabled_) return;
  if (drawn_ && leave_) {
    draw();
    std::fprintf(stderr, "\n");
  } else if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
  }
  std::fflush(stderr);
  enabled_ = false;
}

StatusLine::StatusLine(const std::string& text, bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  std::string line = text;
  const int width = std::max(terminal_columns() - 1, 1);
  if (int(line.size()) > width) line.resize(size_t(width));
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

StatusLine::~StatusLine() {
  if (!enabled_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

namespace {

// The sampling bar's bookkeeping, an observer of the solve loop: batches from its begin, steps
// and model calls from its steps.
class SamplingProgress {
 public:
  SamplingProgress(ProgressBar& bar, const SamplingBar& info) : bar_(bar), info_(info) {}
  SolveObserver observer(SolveObserver observer);
  std::string postfix() const;

 private:
  void begin(SampleRange range);
  void step(const StepPosition& where);

  ProgressBar& bar_;
  SamplingBar info_;
  int64_t done_ = 0, batches_ = 0;
  int64_t calls_ = 0;          // the batch's calls in the solve in progress
  int64_t earlier_calls_ = 0;  // the batch's calls in its earlier solves (RePaint's segments)
  SampleRange range_{0, 0};
  torch::Tensor row_times_;  // per-sample times of the batch in progress (adaptive control)
};

SolveObserver SamplingProgress::observer(SolveObserver observer) {
  if (!bar_.active()) return observer;
  auto begin = observer.begin;
  observer.begin = [this, begin](SampleRange range) {
    if (begin) begin(range);
    this->begin(range);
  };
  auto step = observer.step;
  observer.step = [this, step](const torch::Tensor& x, const StepPosition& where) {
    if (step) step(x, where);
    this->step(where);
  };
  return observer;
}

void SamplingProgress::begin(SampleRange range) {
  // RePaint solves one batch in several segments: they continue the same batch.
  if (range.first == range_.first && range.count == range_.count && batches_ > 0) {
    earlier_calls_ += calls_;
    calls_ = 0;
    return;
  }
  if (batches_ > 0) done_ += range_.count;
  ++batches_;
  range_ = range;
  calls_ = earlier_calls_ = 0;
  row_times_ = torch::full({range.count}, info_.t_start, torch::kFloat64);
}

void SamplingProgress::step(const StepPosition& where) {
  calls_ = where.calls;
  double fraction;
  if (info_.steps > 0) {
    fraction = double(where.index + 1) / double(info_.steps);
  } else {
    if (where.times.defined()) {
      const torch::Tensor times = where.times.to(torch::kFloat64);
      if (where.rows.defined()) row_times_.index_copy_(0, where.rows.to(torch::kLong), times);
      else row_times_.copy_(times);
    } else {
      row_times_.fill_(where.time);
    }
    fraction = ((info_.t_start - row_times_) / (info_.t_start - info_.eps)).clamp(0, 1).mean().item<double>();
  }
  bar_.update(double(done_) + std::clamp(fraction, 0.0, 1.0) * double(range_.count), postfix(),
              info_.steps > 0 || done_ > 0);
}

std::string SamplingProgress::postfix() const {
  std::string text = "NFE " + std::to_string(earlier_calls_ + calls_);
  // Batches of the request's size; the last may be shorter.
  const int64_t batch_rows = info_.batch > 0 ? info_.batch : std::max<int64_t>(info_.count, 1);
  const int64_t batches = (info_.count + batch_rows - 1) / batch_rows;
  if (batches > 1) text = "batch " + std::to_string(batches_) + "/" + std::to_string(batches) + ", " + text;
  return text;
}

}  // namespace

SampleResult sample_with_progress(const SamplingBar& info, const SampleRequest& request,
                                  const std::function<SampleResult(const SampleRequest&)>& run) {
  ProgressBarOptions bar_options;
  bar_options.unit = "samples";
  bar_options.leave = info.leave;
  bar_options.enabled = info.enabled;
  ProgressBar bar(info.label, double(info.count), bar_options);
  SamplingProgress progress(bar, info);
  SampleRequest observed = request;
  observed.observer = progress.observer(request.observer);
  SampleResult result = run(observed);
  if (result.ok()) bar.update(double(info.count), progress.postfix());
  return result;
}

}  // namespace sde::cli
