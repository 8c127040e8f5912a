// The probability-flow ODE dx/dt = f(x,t) - 1/2 g(t)^2 s(x,t) (Song et al. 2021, eq. 13) between data
// and latents: encoding (data -> latent) and decoding. Sampling along it is the ode-* solvers.
#pragma once

#include "sde/core/reverse_sde.hpp"
#include "sde/core/sampler.hpp"
#include "sde/solve/ode_integrator.hpp"

namespace sde {

/// Data x (taken as a sample at time eps) to its latent x_T along the probability-flow ODE.
/// `ode.method` must be adaptive. Result: samples = x_T, nfe, status. Under a condition (one row,
/// or one per row of x) the flow is that of p_t(x | c): encoding under one class and decoding under
/// another edits by inversion.
SampleResult encode(const Sde& sde, const ScoreModel& model, const torch::Tensor& x, double eps,
                    const OdeOptions& ode, const Condition& condition = {});

/// Latent z at T back to time eps (no denoising): the inverse of encode up to the tolerance.
SampleResult decode(const Sde& sde, const ScoreModel& model, const torch::Tensor& z, double eps,
                    const OdeOptions& ode, const Condition& condition = {});

}  // namespace sde
