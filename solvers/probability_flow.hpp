// The probability-flow ODE dx/dt = f(x,t) - 1/2 g(t)^2 s(x,t) (Song et al. 2021, eq. 13) solved with
// Boost.Odeint: sampling (prior -> data), encoding (data -> latent) and decoding.
#pragma once

#include "sde/solvers/ode_integrator.hpp"
#include "sde/reverse_sde.hpp"
#include "sde/sampler.hpp"

namespace sde {

/// `ode-dopri5`, `ode-cash-karp` (adaptive: rtol, atol, norm, h_init, max_steps) and `ode-rk4`
/// (fixed steps on options().steps and options().grid). From x_T ~ prior (draw 0), integrate to eps,
/// then Tweedie at eps if options().denoise. NFE counts every right-hand side (6 per dopri5 step
/// plus its first, 6 per Cash–Karp attempt, 4 per rk4 step) and the denoising call.
///
/// The adaptive methods share one step size across the batch (the controller's norm takes the
/// worst sample), so a sample's result depends on its batch within the tolerance, not bit for bit;
/// use the fixed-step ode-rk4 or an explicit batch size where bitwise batch invariance matters.
class ProbabilityFlowSampler final : public Sampler {
 public:
  ProbabilityFlowSampler(SamplerOptions options, OdeOptions ode);
  std::string name() const override { return "ode-" + ode_.method; }
  /// The adaptive methods share their steps across the batch; with options().global_max set,
  /// across every process sampling a part of it.
  BatchCoupling batch_coupling() const override {
    return ode_.method == "rk4" ? BatchCoupling::kNone : BatchCoupling::kStepControl;
  }

 protected:
  SampleResult sample_batch(const Sde& sde, const ScoreModel& model, SampleRange range) const override;

 private:
  OdeOptions ode_;
};

/// Data x (taken as a sample at time eps) to its latent x_T along the probability-flow ODE.
/// `ode.method` must be adaptive. Result: samples = x_T, nfe, status.
SampleResult encode(const Sde& sde, const ScoreModel& model, const torch::Tensor& x, double eps,
                    const OdeOptions& ode);

/// Latent z at T back to time eps (no denoising): the inverse of encode up to the tolerance.
SampleResult decode(const Sde& sde, const ScoreModel& model, const torch::Tensor& z, double eps,
                    const OdeOptions& ode);

}  // namespace sde
