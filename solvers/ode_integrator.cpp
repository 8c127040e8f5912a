#include "sde/solvers/ode_integrator.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <type_traits>

#include <boost/numeric/odeint/stepper/controlled_runge_kutta.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta4.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_cash_karp54.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_dopri5.hpp>

#include "ode/odeint_tensor.hpp"
#include "sde/errors.hpp"

namespace sde {

void OdeOptions::validate() const {
  SDE_CHECK(method == "dopri5" || method == "cash-karp" || method == "rk4", "ODE method '", method,
            "' is not one of: dopri5, cash-karp, rk4");
  SDE_CHECK(std::isfinite(rtol) && rtol > 0, "ODE option rtol = ", rtol, " must be finite and > 0");
  SDE_CHECK(std::isfinite(atol) && atol > 0, "ODE option atol = ", atol, " must be finite and > 0");
  SDE_CHECK(std::isfinite(h_init) && h_init >= 0 && h_init <= 1, "ODE option h_init = ", h_init,
            " must lie in [0, 1] (a fraction of the interval; 0 = chosen from the problem)");
  SDE_CHECK(max_steps >= 1, "ODE option max_steps = ", max_steps, " must be >= 1");
  SDE_CHECK(!global_max || norm != OdeErrorNorm::kBatchRms,
            "the batch-rms error norm averages over the whole batch, which split over processes would not be "
            "bit-identical to one process; use norm rms or max");
}

OdeErrorNorm parse_error_norm(const std::string& name) {
  if (name == "rms") return OdeErrorNorm::kPerSampleRms;
  if (name == "max") return OdeErrorNorm::kMax;
  if (name == "batch-rms") return OdeErrorNorm::kBatchRms;
  throw InvalidArgument("unknown ODE error norm '" + name + "'; known: rms, max, batch-rms");
}

namespace {

namespace odeint = boost::numeric::odeint;
using Algebra = odeint::vector_space_algebra;
using Operations = detail::TensorOperations;
using Dopri5 = odeint::runge_kutta_dopri5<torch::Tensor, double, torch::Tensor, double, Algebra, Operations>;
using CashKarp = odeint::runge_kutta_cash_karp54<torch::Tensor, double, torch::Tensor, double, Algebra, Operations>;
using Rk4 = odeint::runge_kutta4<torch::Tensor, double, torch::Tensor, double, Algebra, Operations>;

// One number from entrywise scaled errors, by the chosen norm (this process's part of the batch).
double local_norm_of(const torch::Tensor& scaled, OdeErrorNorm norm) {
  if (norm == OdeErrorNorm::kMax) return scaled.abs().max().item<double>();
  if (norm == OdeErrorNorm::kBatchRms) return std::sqrt(scaled.square().mean().item<double>());
  // max over samples of sqrt(sum / n) = sqrt(max(sum) / n): the square root on one number.
  const double entries = double(scaled.numel() / std::max<int64_t>(scaled.size(0), 1));
  return std::sqrt(per_sample_squared_norm(scaled).max().item<double>() / entries);
}

// Odeint's error-checker interface with our norms: the error scaled entrywise by atol + rtol |x|.
class ScaledErrorChecker {
 public:
  typedef double value_type;
  typedef Algebra algebra_type;
  typedef Operations operations_type;

  ScaledErrorChecker(double atol = 1e-6, double rtol = 1e-6, OdeErrorNorm norm = OdeErrorNorm::kMax,
                     std::function<double(double)> global_max = {})
      : atol_(atol), rtol_(rtol), norm_(norm), global_max_(std::move(global_max)) {}

  torch::Tensor scale(const torch::Tensor& x) const { return x.abs().mul_(rtol_).add_(atol_); }
  double norm(const torch::Tensor& scaled) const { return global(local_norm_of(scaled, norm_)); }

  template <class State, class Deriv, class Err, class Time>
  double error(algebra_type&, const State& x_old, const Deriv&, Err& x_err, Time) const {
    double error;
    if (!detail::fused_scaled_error_norm(error, x_err, x_old, atol_, rtol_, norm_))
      error = local_norm_of(x_err / scale(x_old), norm_);
    return *last_error_ = global(error);
  }
  /// The last step's error, shared by the copies (Odeint keeps its own). Non-finite whenever the
  /// step's new state is: with dopri5 and Cash–Karp the error estimate combines every stage the new
  /// state uses, which saves a separate check of the state per step.
  double last_error() const { return *last_error_; }

 private:
  double global(double local) const { return global_max_ ? global_max_(local) : local; }

  double atol_, rtol_;
  OdeErrorNorm norm_;
  std::function<double(double)> global_max_;
  std::shared_ptr<double> last_error_ = std::make_shared<double>(0.0);
};

// The step-size policy of Hairer's codes (and scipy's RK45): after every step, scale h by
// 0.9 err^(-1/(q+1)) within [0.2, 10], q the error estimate's order, and do not grow it on the step
// right after a rejection. (Odeint's own keeps h unless err < 0.5 and grows it at most 5x.)
class HairerStepAdjuster {
 public:
  typedef double time_type;
  typedef double value_type;
  time_type decrease_step(time_type dt, value_type error, int error_order) {
    rejected_ = true;
    return dt * std::max(0.2, 0.9 * std::pow(error, -1.0 / (error_order + 1)));
  }
  time_type increase_step(time_type dt, value_type error, int stepper_order) {
    double factor = error > 0 ? std::min(10.0, 0.9 * std::pow(error, -1.0 / stepper_order)) : 10.0;
    if (rejected_) factor = std::min(factor, 1.0);
    rejected_ = false;
    return dt * factor;
  }
  bool check_step_size_limit(time_type) { return true; }
  time_type get_max_dt() { return 0; }

 private:
  bool rejected_ = false;
};

// Hairer, Norsett & Wanner, "Solving ODEs I", Sec. II.4: a first step from the sizes of x, F and
// the change of F over a small trial step (one extra evaluation of F).
double initial_step(const OdeRhs& rhs, const torch::Tensor& x, const torch::Tensor& f0, double t0, double t1, int order,
                    const ScaledErrorChecker& checker) {
  const double direction = t1 > t0 ? 1.0 : -1.0, span = std::abs(t1 - t0);
  const torch::Tensor scale = checker.scale(x);
  const double d0 = checker.norm(x / scale), d1 = checker.norm(f0 / scale);
  const double h0 = std::min((d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1, span);
  torch::Tensor f1;
  rhs(x + f0 * (direction * h0), f1, t0 + direction * h0);
  const double d2 = checker.norm((f1 - f0) / scale) / h0;
  const double h1 = std::max(d1, d2) <= 1e-15 ? std::max(1e-6, h0 * 1e-3)
                                               : std::pow(0.01 / std::max(d1, d2), 1.0 / (order + 1));
  return direction * std::min({100 * h0, h1, span});
}

constexpr double kSmallestStep = 1e-12;

template <class Stepper>
OdeSolution run_controlled(const OdeRhs& rhs, torch::Tensor x, double t0, double t1, const OdeOptions& o) {
  constexpr bool fsal = std::is_same<typename Stepper::stepper_category, odeint::explicit_error_stepper_fsal_tag>::value;
  const ScaledErrorChecker checker(o.atol, o.rtol, o.norm, o.global_max);
  odeint::controlled_runge_kutta<Stepper, ScaledErrorChecker, HairerStepAdjuster> stepper(checker);
  const auto system = std::cref(rhs);  // Odeint takes systems by value; this copies no std::function
  OdeSolution solution;
  const double direction = t1 > t0 ? 1.0 : -1.0;
  double t = t0;
  torch::Tensor dxdt;  // F at (x, t), kept across steps (FSAL) and across rejections
  rhs(x, dxdt, t);
  double dt = o.h_init > 0 ? o.h_init * (t1 - t0) : initial_step(rhs, x, dxdt, t0, t1, Stepper::order_value, checker);
  // The step writes into separate buffers that are swapped in on success: no copies per step.
  torch::Tensor x_new = torch::empty_like(x), dxdt_new = torch::empty_like(dxdt);
  while (direction * (t1 - t) > 0) {
    if (solution.accepted + solution.rejected == o.max_steps) {
      solution.status = SampleStatus::kStepLimit;
      solution.message = detail::concat("no end after max_steps = ", o.max_steps, " steps (", solution.accepted,
                                        " accepted), at t = ", t, " on the way from ", t0, " to ", t1,
                                        "; raise max_steps or loosen rtol/atol");
      break;
    }
    // The last step is cut to end at t1 exactly, so F is never evaluated beyond it.
    const bool last = direction * (t + dt - t1) >= 0;
    if (last) dt = t1 - t;
    odeint::controlled_step_result result;
    if constexpr (fsal) result = stepper.try_step(system, x, dxdt, t, x_new, dxdt_new, dt);
    else result = stepper.try_step(system, x, dxdt, t, x_new, dt);
    // The next step, as the controller proposes it, below 1e-12 of the interval would need 10^12
    // steps to cross it: the controller has given up on some sample (one point far out in the
    // tails, say), and waiting for max_steps only burns time. Said at once, so that the caller can
    // find and drop that sample. (A step cut to end at t1 may be tiny and is not checked.)
    if ((result != odeint::success || !last) && std::abs(dt) < kSmallestStep * std::abs(t1 - t0)) {
      solution.status = SampleStatus::kStepTooSmall;
      solution.message = detail::concat("the step size fell to ", std::abs(dt), " at t = ", t, " (below 1e-12 of the ",
                                        "interval from ", t0, " to ", t1, ")");
      break;
    }
    if (result != odeint::success) {
      // A NaN error estimate compares as acceptable to Odeint, so a non-finite state is caught
      // below; an infinite one is a rejection, and the step limit ends it.
      ++solution.rejected;
      continue;
    }
    ++solution.accepted;
    if (last) t = t1;
    std::swap(x, x_new);
    // The state is checked when the error is not finite, and once at the end.
    const bool end = direction * (t1 - t) <= 0;
    if ((!std::isfinite(checker.last_error()) || end) && !all_finite(x)) {
      solution.status = SampleStatus::kNonFinite;
      solution.message = detail::concat("the state became non-finite at step ", solution.accepted, " (t = ", t, ")");
      break;
    }
    if constexpr (fsal) std::swap(dxdt, dxdt_new);
    else if (direction * (t1 - t) > 0) rhs(x, dxdt, t);  // the next step's first stage
  }
  solution.x = std::move(x);
  return solution;
}

}  // namespace

OdeSolution integrate_adaptive(const OdeRhs& rhs, const torch::Tensor& x, double t0, double t1,
                               const OdeOptions& options) {
  options.validate();
  SDE_CHECK(std::isfinite(t0) && std::isfinite(t1) && t0 != t1, "ODE integration needs finite t0 != t1, got ",
            t0, " and ", t1);
  SDE_CHECK(x.dim() >= 1, "an ODE state must have shape [B, ...], got ", x.sizes());
  if (options.method == "dopri5") return run_controlled<Dopri5>(rhs, x.clone(), t0, t1, options);
  SDE_CHECK(options.method == "cash-karp", "ODE method '", options.method,
            "' has fixed steps; use integrate_fixed");
  return run_controlled<CashKarp>(rhs, x.clone(), t0, t1, options);
}

OdeSolution integrate_fixed(const OdeRhs& rhs, const torch::Tensor& x, const std::vector<double>& times) {
  SDE_CHECK(times.size() >= 2, "fixed-step ODE integration needs at least two times, got ", times.size());
  Rk4 stepper;
  const auto system = std::cref(rhs);
  OdeSolution solution;
  solution.x = x.clone();
  for (size_t k = 0; k + 1 < times.size(); ++k) {
    stepper.do_step(system, solution.x, times[k], times[k + 1] - times[k]);
    ++solution.accepted;
    if (!all_finite(solution.x)) {
      solution.status = SampleStatus::kNonFinite;
      solution.message = detail::concat("the state became non-finite at step ", k + 1, " of ", times.size() - 1,
                                        " (t = ", times[k + 1], ")");
      break;
    }
  }
  return solution;
}

}  // namespace sde
