#include "solve/solve.hpp"

#include "sde/core/errors.hpp"

namespace sde {
namespace {

// The rows `keep` (positions) of an attempt's input and outcome.
torch::Tensor pick(const torch::Tensor& v, const torch::Tensor& keep) {
  return v.defined() ? v.index_select(0, keep) : v;
}

StepTimes pick(const StepTimes& times, const torch::Tensor& keep) {
  StepTimes out = times;
  out.t_each = pick(times.t_each, keep);
  out.s_each = pick(times.s_each, keep);
  return out;
}

StepInput pick(const StepInput& in, const torch::Tensor& keep) {
  StepNoise parent = in.noise;
  return {in.x.index_select(0, keep), pick(in.times, keep), pick(in.first, keep),
          StepNoise([parent, keep](int64_t j) { return parent(j).index_select(0, keep); })};
}

StepOutcome pick(const StepOutcome& o, const torch::Tensor& keep) {
  return {pick(o.x, keep), pick(o.lower, keep), pick(o.error, keep), pick(o.next_first, keep)};
}

// The solve's one count of model calls: batched calls, and per sample a number for the calls
// every sample took part in and a tensor for the rest. Every call reaches it through the problem
// the loop hands out, bound to the rows the call concerns.
class CallCounter {
 public:
  CallCounter(int64_t count, const SolveProblem& problem) : count_(count), problem_(problem) {}
  /// The problem for the samples `rows` (undefined: all), its calls counted here.
  SolveProblem on(const torch::Tensor& rows) {
    return problem_.on(rows, [this, rows] { add(rows); });
  }
  int64_t calls() const { return calls_; }
  double mean() const { return everyone_ + (each_.defined() && count_ > 0 ? each_.mean().item<double>() : 0.0); }

 private:
  void add(const torch::Tensor& rows) {
    ++calls_;
    if (!rows.defined()) {
      everyone_ += 1.0;
      return;
    }
    if (!each_.defined()) each_ = torch::zeros({count_}, torch::kFloat64);
    each_.index_add_(0, rows.cpu(), torch::ones({rows.numel()}, torch::kFloat64));
  }

  int64_t count_;
  const SolveProblem& problem_;
  int64_t calls_ = 0;
  double everyone_ = 0;
  torch::Tensor each_;
};

// The first stage F(x, t) of every sample, kept until its sample steps (a rejected attempt starts
// from the same state, so it costs one model call less); FSAL steppers hand over the next one.
class FirstStageCache {
 public:
  /// F at x and times for the samples `rows`, their calls counted under those rows.
  using Compute = std::function<torch::Tensor(const torch::Tensor& rows, const torch::Tensor& x, const StepTimes& times)>;
  FirstStageCache(int64_t count, Compute compute) : count_(count), compute_(std::move(compute)) {}

  /// The first stages of `rows` (undefined: all) at state x_rows and times.t.
  torch::Tensor get(const torch::Tensor& rows, const torch::Tensor& x_rows, const StepTimes& times) {
    if (!rows.defined() && !valid_.defined()) {
      if (!all_valid_) {
        values_ = compute_(rows, x_rows, times);
        all_valid_ = true;
      }
      return values_;
    }
    materialize(x_rows);
    const torch::Tensor valid = rows.defined() ? valid_.index_select(0, rows) : valid_;
    const torch::Tensor stale = valid.logical_not().nonzero().squeeze(1);
    if (stale.numel() > 0) {
      const torch::Tensor global = rows.defined() ? rows.index_select(0, stale) : stale;
      values_.index_copy_(0, global, compute_(global, x_rows.index_select(0, stale), pick(times, stale)));
      valid_.index_fill_(0, global, true);
    }
    return rows.defined() ? values_.index_select(0, rows) : values_;
  }

  /// The samples `rows` (undefined: all) stepped; `next` is their new first stage (FSAL) or undefined.
  void stepped(const torch::Tensor& rows, const torch::Tensor& next) {
    if (!rows.defined()) {
      valid_ = torch::Tensor();
      all_valid_ = next.defined();
      if (all_valid_) values_ = next;
      return;
    }
    materialize(next);
    if (next.defined()) values_.index_copy_(0, rows, next);
    else valid_.index_fill_(0, rows, false);
  }

 private:
  void materialize(const torch::Tensor& like) {
    if (!valid_.defined()) valid_ = torch::full({count_}, all_valid_, torch::TensorOptions(torch::kBool).device(like.defined() ? like.device() : values_.device()));
    if (!values_.defined() && like.defined()) {
      std::vector<int64_t> shape = like.sizes().vec();
      shape[0] = count_;
      values_ = torch::empty(shape, like.options());
    }
  }

  int64_t count_;
  Compute compute_;
  torch::Tensor values_, valid_;
  bool all_valid_ = false;
};

}  // namespace

SolveOutcome solve(const Stepper& stepper, Controller& controller, const SolveProblem& problem,
                   const torch::Tensor& x_start, double t0, double t1, const SolveSetup& setup) {
  SDE_CHECK(x_start.dim() >= 1, "a solve's state must have shape [B, ...], got ", x_start.sizes());
  const StepperTraits traits = stepper.traits();
  const int64_t count = x_start.size(0);
  const std::vector<int64_t> shape(x_start.sizes().begin() + 1, x_start.sizes().end());
  torch::Tensor x = x_start.clone();
  SolveOutcome out;
  CallCounter calls(count, problem);
  FirstStageCache first(count, [&](const torch::Tensor& rows, const torch::Tensor& xs, const StepTimes& times) {
    return stepper.first_stage(calls.on(rows), xs, times);
  });
  const auto state = stepper.init(calls.on({}), x);

  ControlStart start{x, t0, t1, setup.range, traits, {}, {}};
  StepTimes at_start;
  at_start.t = at_start.s = t0;
  start.first = [&] { return first.get({}, x, at_start); };
  start.evaluate = [&](const torch::Tensor& xs, double t) {
    StepTimes at;
    at.t = at.s = t;
    return stepper.first_stage(calls.on({}), xs, at);
  };
  controller.start(start);

  double accepted = 0, rejected = 0;  // summed over the samples
  for (int64_t k = 0; !controller.finished(); ++k) {
    if (std::string why = controller.budget_spent(k); !why.empty()) {
      out.status = SolveStatus::kStepLimit;
      out.message = std::move(why);
      break;
    }
    const Attempt attempt = controller.propose(k);
    const torch::Tensor& rows = attempt.rows;
    StepInput in;
    in.x = rows.defined() ? x.index_select(0, rows) : x;
    in.times = attempt.times;
    if (traits.first_stage) in.first = first.get(rows, in.x, attempt.times);
    in.noise = StepNoise([&, k](int64_t j) {
      SDE_CHECK(setup.noise != nullptr, "this solve has no noise stream, but its stepper draws noise");
      torch::Tensor z = setup.noise->normal(setup.range, shape, uint32_t(1 + k * traits.noise_draws + j), x.options());
      return rows.defined() ? z.index_select(0, rows) : z;
    });
    const StepOutcome outcome = stepper.step(calls.on(rows), in, state.get());
    const Verdict verdict = controller.judge(in, outcome);

    const int64_t stepping = in.x.size(0);
    const int64_t taken = !verdict.any ? 0 : verdict.accepted.defined() ? verdict.accepted.numel() : stepping;
    accepted += double(taken);
    rejected += double(stepping - taken);
    if (taken > 0) {
      StepPosition where;
      where.index = k;
      where.range = setup.range;
      if (!rows.defined() && !verdict.accepted.defined()) {
        x = stepper.finish(calls.on({}), in, outcome);
        first.stepped({}, traits.fsal ? outcome.next_first : torch::Tensor());
        where.time = attempt.times.s;
        where.times = attempt.times.s_each;
      } else {
        const torch::Tensor keep = verdict.accepted.defined() ? verdict.accepted
                                                              : torch::arange(stepping, rows.options());
        const torch::Tensor global = rows.defined() ? rows.index_select(0, keep) : keep;
        x.index_copy_(0, global, stepper.finish(calls.on(global), pick(in, keep), pick(outcome, keep)));
        first.stepped(global, traits.fsal ? pick(outcome.next_first, keep) : torch::Tensor());
        where.time = attempt.times.s;
        where.times = pick(attempt.times.s_each, keep);
        where.rows = global;
      }
      where.calls = calls.calls();
      if (setup.hooks && setup.hooks->transform) setup.hooks->transform(x, where);
      if (setup.observer && setup.observer->step) setup.observer->step(x, where);
    }
    if (verdict.status != SolveStatus::kSuccess) {
      out.status = verdict.status;
      out.message = verdict.message;
      break;
    }
  }
  out.x = std::move(x);
  out.nfe = calls.calls();
  out.nfe_mean = calls.mean();
  out.accepted = count > 0 ? accepted / double(count) : 0.0;
  out.rejected = count > 0 ? rejected / double(count) : 0.0;
  return out;
}

}  // namespace sde
