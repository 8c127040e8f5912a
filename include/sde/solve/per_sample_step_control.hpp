// A step size per sample, from the difference of an embedded pair (Jolicoeur-Martineau et al.
// 2021, "Gotta Go Fast When Generating Data with Score-Based Models", Alg. 1; Lu et al. 2022,
// DPM-Solver, Alg. 4-5). Per-sample control keeps a sample's path independent of its batch.
#pragma once

#include <cstdint>
#include <string>

#include "sde/solve/controller.hpp"

namespace sde {

/// The controller's settings; the defaults are Jolicoeur-Martineau et al.'s (sde-adaptive).
struct PerSampleStepOptions {
  double rtol = 0.01;      ///< relative tolerance
  double atol = 0.0078;    ///< absolute tolerance (in data units; 0.0078 ~ 1 level of 8-bit data in [-1, 1])
  double h_init = 0.01;    ///< first step, in the step variable
  double safety = 0.9;     ///< the factor theta on every proposed step
  double exponent = 0.9;   ///< r in h <- theta h E^(-r) (1 / order is the classical choice)
  int64_t max_steps = 10000;  ///< attempts (accepted or not) before giving up
  /// Throws sde::InvalidArgument naming the bad value.
  void validate(const std::string& solver) const;
};

/// Steps in the stepper's variable u (t in the direction of the solve, or the log-SNR), which
/// increases from u(t0) to u(t1). Error of an attempt, per sample: E = RMS((x - lower) / delta) over
/// the sample's entries, delta = max(atol, rtol max(|lower|, |lower of the last accepted step|)).
/// E <= 1 accepts; then h <- min(theta h E^(-r), u(t1) - u). A step that reaches the end lands on
/// u(t1) exactly; finished samples leave the attempts, so later model calls are smaller.
class PerSampleStepControl final : public Controller {
 public:
  /// `sde` maps times to log-SNRs (may be null for steppers that step in t).
  PerSampleStepControl(PerSampleStepOptions options, const Sde* sde);
  void check(const std::string& solver, const StepperTraits& traits) const override;
  void start(const ControlStart& start) override;
  bool finished() const override { return active_.numel() == 0; }
  std::string budget_spent(int64_t attempt) const override;
  Attempt propose(int64_t attempt) override;
  Verdict judge(const StepInput& in, const StepOutcome& outcome) override;

 private:
  double variable(double t) const;
  torch::Tensor time_at(const torch::Tensor& u) const;

  PerSampleStepOptions o_;
  const Sde* sde_;
  StepperTraits traits_;
  SampleRange range_;
  double t1_ = 0, direction_ = -1, u_end_ = 0;
  int64_t count_ = 0, attempt_ = 0;
  torch::Tensor x_prev_, u_, h_, active_;  // lower of the last accepted step; per-sample u and h; who steps
  torch::Tensor ua_, ha_, u_next_;         // the current attempt's
};

}  // namespace sde
