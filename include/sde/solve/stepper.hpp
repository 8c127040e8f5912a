// A stepper: one method of taking a reverse-time step, with whatever it remembers between steps.
// The solve loop (solve.hpp) drives any stepper under a controller (controller.hpp); a stepper
// never loops, counts, checks for NaN or decides step sizes. (diffrax's init/step per solver.)
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "sde/core/random.hpp"
#include "sde/core/reverse_sde.hpp"

namespace sde {

/// The right-hand side of an ODE dx/dt = F(x, t): writes F(x, t) into dxdt (which it may
/// reassign). x has shape [B, ...].
using OdeRhs = std::function<void(const torch::Tensor& x, torch::Tensor& dxdt, double t)>;

/// What a solve integrates: the reverse-time view of a forward SDE and a score model (sampling),
/// or a plain vector field dx/dt = F(x, t) (likelihoods, encoding, tests). The Runge–Kutta steppers
/// integrate field(), which for a ReverseSde is its probability-flow drift; the diffusion steppers
/// need reverse() and are refused a plain field. An immutable value: the solve loop hands each
/// stepper call the problem on() the rows that call concerns, with the loop's call counter.
class SolveProblem {
 public:
  explicit SolveProblem(ReverseSde reverse);
  explicit SolveProblem(OdeRhs field);

  /// The reverse-time SDE; throws sde::InvalidArgument for a plain vector field.
  const ReverseSde& reverse() const;
  /// F(x, t): the probability-flow drift, or the given field (one model call).
  void field(const torch::Tensor& x, torch::Tensor& dxdt, double t) const;
  /// This problem for the samples `rows` (positions in the solve's batch; undefined: all), every
  /// model call reported to `on_call`: the only way the loop learns of calls, and the only way a
  /// per-sample condition learns its rows.
  SolveProblem on(const torch::Tensor& rows, std::function<void()> on_call) const;

 private:
  std::optional<ReverseSde> reverse_;
  OdeRhs field_;
  std::function<void()> on_call_;  // for a plain field (a ReverseSde reports its own)
};

/// The times of one step, from t to s (s < t when sampling; either direction in an ODE solve).
struct StepTimes {
  double t = 0, s = 0;           ///< the times every sample of the step shares
  torch::Tensor t_each, s_each;  ///< [rows] float64 when every sample has its own (per-sample control)
  int64_t index = 0;             ///< k: the k-th attempt (the k-th step of a fixed grid)
  int64_t steps = 0;             ///< N of a fixed grid; 0 under adaptive control
  bool per_sample() const { return t_each.defined(); }
  /// The step's start and end times per sample, [rows] in float64 (t_each, or t repeated).
  torch::Tensor t_rows(int64_t rows) const;
  torch::Tensor s_rows(int64_t rows) const;
};

/// The normals a step may draw, on demand: draw(j), j < StepperTraits::noise_draws, shaped like
/// the state of the step's samples. Stream draw number 1 + k * noise_draws + j for attempt k (0 is
/// the prior's), so sample i's noise depends on (seed, i) only. Each draw is made once per step,
/// however often it is asked for (copies share what was drawn).
class StepNoise {
 public:
  using Source = std::function<torch::Tensor(int64_t draw)>;
  explicit StepNoise(Source source = {});
  torch::Tensor operator()(int64_t j = 0) const;

 private:
  Source source_;
  std::shared_ptr<std::map<int64_t, torch::Tensor>> drawn_;
};

/// What the step variable of adaptive control is (it increases from the start to the end).
enum class StepVariable {
  kTime,    ///< t itself, in the direction of the solve
  kLogSnr,  ///< the log-SNR lambda(t) = log(alpha / sigma) (exponential integrators)
};

/// What a stepper can do; the solver is refused at construction where a controller needs more.
struct StepperTraits {
  bool error_estimate = false;     ///< step() returns an embedded lower-order solution (adaptive control)
  bool per_sample_times = false;   ///< step() takes per-sample times (per-sample control)
  bool first_stage = false;        ///< first_stage() is F at the step's start, kept across a rejection
  bool fsal = false;               ///< step() returns the next step's first stage (first same as last)
  StepVariable variable = StepVariable::kTime;  ///< what adaptive steps are measured in
  int order = 1;                   ///< order of the solution kept
  int error_order = 0;             ///< order of the lower solution (error estimate ~ h^(error_order + 1))
  int64_t noise_draws = 1;         ///< draw numbers reserved per step (pc: corrector steps + 1)
  bool batch_statistics = false;   ///< batch means enter a step (the sample depends on its batch)
  /// Steps from a time where alpha = 0 (flow matching's T = 1, log-SNR -inf, f and g infinite): its
  /// update uses alpha, sigma and the data prediction there, or the probability-flow drift (finite).
  bool zero_signal_start = false;
};

/// A stepper's input: the state of the samples that step, at times.t.
struct StepInput {
  torch::Tensor x;       ///< [rows, ...]; a stepper without error estimate may update it in place
  StepTimes times;
  torch::Tensor first;   ///< first_stage(x, t) when the stepper has one, else undefined
  StepNoise noise;
};

/// A stepper's output.
struct StepOutcome {
  torch::Tensor x;             ///< the solution kept (a pair's higher order one)
  torch::Tensor lower = {};       ///< an embedded pair's lower-order solution, when it forms one
  torch::Tensor error = {};       ///< the error estimate x - lower, when the method gives it directly
  torch::Tensor next_first = {};  ///< the first stage at (x, s), for FSAL steppers
};

/// What a stepper remembers between the steps of one solve (multistep history, Odeint's stage
/// buffers). Made by init(), fresh for every solve, owned by the loop.
class StepperState {
 public:
  virtual ~StepperState() = default;
};

/// Immutable and shareable: everything a solve changes lives in its StepperState.
class Stepper {
 public:
  virtual ~Stepper() = default;
  virtual StepperTraits traits() const = 0;
  /// The state of a solve of `rows` samples, or null for a stepper that remembers nothing.
  virtual std::unique_ptr<StepperState> init(const SolveProblem& problem, const torch::Tensor& x) const;
  /// F at the step's start (traits().first_stage): one model call, reused across rejections.
  virtual torch::Tensor first_stage(const SolveProblem& problem, const torch::Tensor& x, const StepTimes& times) const;
  /// One attempt from times.t to times.s. Model calls go through `problem`, which counts them.
  virtual StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState* state) const = 0;
  /// The state kept after an accepted attempt, for the accepted samples only (`in` and `outcome`
  /// restricted to them). By default outcome.x; the drift-estimate SDE pair adds its noise here.
  virtual torch::Tensor finish(const SolveProblem& problem, const StepInput& in, const StepOutcome& outcome) const;
};

/// A stepper with a typed state S: init_state() makes it, step_with() gets it back.
template <class S>
class StepperWith : public Stepper {
 public:
  std::unique_ptr<StepperState> init(const SolveProblem& problem, const torch::Tensor& x) const final {
    return std::make_unique<Holder>(init_state(problem, x));
  }
  StepOutcome step(const SolveProblem& problem, const StepInput& in, StepperState* state) const final {
    return step_with(problem, in, static_cast<Holder*>(state)->value);
  }

 protected:
  virtual S init_state(const SolveProblem& problem, const torch::Tensor& x) const = 0;
  virtual StepOutcome step_with(const SolveProblem& problem, const StepInput& in, S& state) const = 0;

 private:
  struct Holder final : StepperState {
    explicit Holder(S v) : value(std::move(v)) {}
    S value;
  };
};

}  // namespace sde
