// One step size for the whole batch, from an error norm over it: the controller of the ODE
// solvers (Hairer, Norsett & Wanner, "Solving ODEs I", Sec. II.4; scipy's RK45 uses the same rule).
#pragma once

#include <cstdint>
#include <functional>

#include "sde/solve/controller.hpp"

namespace sde {

/// How an error estimate becomes one number for the controller. Each scales the error entrywise
/// by atol + rtol |x| (x before the step).
enum class OdeErrorNorm {
  /// The largest scaled error over every entry of the batch (Odeint's own norm). Strict: one bad
  /// entry of one sample decides, so the cost grows with the batch and the dimension.
  kMax,
  /// The RMS over each sample's entries, then the largest over the samples (the norm of Hairer's
  /// codes, per sample). Every sample meets the tolerance on average over its own entries: the
  /// usual choice for images and other high-dimensional data.
  kPerSampleRms,
  /// The RMS over every entry of the batch: what an ODE solver applied to the flattened batch does
  /// (the Python reference's scipy RK45). The loosest: a few bad samples hide among many good ones.
  kBatchRms,
};

/// The controller's settings.
struct SharedStepOptions {
  double rtol = 1e-5;  ///< relative tolerance
  double atol = 1e-5;  ///< absolute tolerance
  OdeErrorNorm norm = OdeErrorNorm::kPerSampleRms;
  /// First step as a fraction of |t1 - t0|; 0 = chosen from the problem (Hairer's rule: one
  /// extra evaluation of F).
  double h_init = 0;
  int64_t max_steps = 100000;  ///< attempted steps (accepted or rejected) before giving up
  /// When the batch is split over processes: the largest of a value over all of them. Every error
  /// norm passes through it, so each process takes the steps of the whole batch (kMax and
  /// kPerSampleRms are maxima over samples, so this is exact; kBatchRms is refused with it).
  std::function<double(double)> global_max;
  /// Throws sde::InvalidArgument naming the bad value.
  void validate() const;
};

/// After every attempt: err = the norm of the error scaled by atol + rtol |x|; err <= 1 accepts.
/// h <- h max(0.2, 0.9 err^(-1/(q+1))) after a rejection (q the error estimate's order),
/// h <- h min(10, 0.9 err^(-1/p)) after an acceptance (p the method's order; no growth right after
/// a rejection). The last step is cut to end at t1 exactly. A proposed step below 1e-12 of the
/// interval ends the solve (kStepTooSmall): the controller has given up on some sample, and waiting
/// for max_steps only burns time. A NaN error is accepted (as Odeint does) and the state then
/// checked; an infinite one is a rejection, and the budget ends it.
class SharedStepControl final : public Controller {
 public:
  explicit SharedStepControl(SharedStepOptions options);
  void check(const std::string& solver, const StepperTraits& traits) const override;
  void start(const ControlStart& start) override;
  bool finished() const override { return direction_ * (t1_ - t_) <= 0; }
  std::string budget_spent(int64_t attempt) const override;
  Attempt propose(int64_t attempt) override;
  Verdict judge(const StepInput& in, const StepOutcome& outcome) override;

 private:
  double error_norm(const torch::Tensor& x_old, const StepOutcome& outcome) const;
  double norm(const torch::Tensor& scaled) const;
  double initial_step(const ControlStart& start) const;

  SharedStepOptions o_;
  StepperTraits traits_;
  double t0_ = 0, t1_ = 0, t_ = 0, dt_ = 0, direction_ = 1;
  bool last_ = false, after_rejection_ = false;
  int64_t accepted_ = 0;
};

}  // namespace sde
