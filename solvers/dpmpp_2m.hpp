// DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
// Probabilistic Models", Alg. 2): second-order multistep in data prediction.
#pragma once

#include "sde/solvers/predictor.hpp"

namespace sde {

/// With D_k the data prediction x0_hat at t_k, h_k = lambda_{k+1} - lambda_k and r = h_{k-1} / h_k:
///   x_{k+1} = (sigma_{k+1} / sigma_k) x_k - alpha_{k+1} (e^{-h_k} - 1) D,
///   D = D_k (first step, and the last step when N < 15: "lower order final")
///   D = (1 + 1/(2r)) D_k - 1/(2r) D_{k-1}  (otherwise).
/// Deterministic, order 2, one score call per step. NFE = N (+1 with denoising).
class DpmSolverPP2M final : public Predictor {
 public:
  std::string name() const override { return "dpmpp-2m"; }
  bool uses_noise() const override { return false; }
  void step(ReverseSde& reverse, torch::Tensor& x, double t, double s, const torch::Tensor& z,
            StepMemory& memory) const override;
};

}  // namespace sde
