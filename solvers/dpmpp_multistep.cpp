#include "sde/solvers/dpmpp_multistep.hpp"

#include <algorithm>
#include <cmath>

#include "sde/errors.hpp"

namespace sde {

DpmSolverPPMultistep::DpmSolverPPMultistep(int order) : order_(order) {
  SDE_CHECK(order == 2 || order == 3, "DPM-Solver++ multistep: order = ", order, " must be 2 or 3");
}

void DpmSolverPPMultistep::step(ReverseSde& reverse, torch::Tensor& x, double t, double s,
                                const torch::Tensor&, StepMemory& memory) const {
  const Sde& sde = reverse.sde();
  const double lambda_t = sde.log_snr(t), h = sde.log_snr(s) - lambda_t;
  int order = std::min<int64_t>(order_, memory.step + 1);
  if (memory.steps < 15) order = std::min<int64_t>(order, memory.steps - memory.step);
  const torch::Tensor d0 = reverse.denoise(x, t);
  const double alpha_s = sde.alpha(s), phi1 = std::expm1(-h);
  // Every order is x_s = (sigma_s / sigma_t) x + c0 D_0 + c1 D_1 + c2 D_2: the divided differences
  // are folded into scalar coefficients, so a step is one pass per term and no temporaries.
  double c0 = -alpha_s * phi1, c1 = 0, c2 = 0;
  const auto& lam = memory.log_snr;  // lam.back() belongs to D_1, lam[size - 2] to D_2
  if (order == 2) {
    const double r0 = (lambda_t - lam.back()) / h;  // D1_0 = (D_0 - D_1) / r0
    c0 += -0.5 * alpha_s * phi1 / r0;
    c1 = 0.5 * alpha_s * phi1 / r0;
  } else if (order == 3) {
    const double r0 = (lambda_t - lam.back()) / h, r1 = (lam.back() - lam[lam.size() - 2]) / h;
    const double phi2 = phi1 / h + 1.0, phi3 = phi2 / h - 0.5;
    // alpha phi2 D1 - 2 alpha phi3 D2 = u D1_0 - v D1_1 (factor 2: see the header)
    const double a2 = alpha_s * phi2, b2 = -2.0 * alpha_s * phi3, q = 1.0 / (r0 + r1);
    const double v = (a2 * r0 + b2) * q, u = a2 + v;
    c0 += u / r0;
    c1 = -u / r0 - v / r1;
    c2 = v / r1;
  }
  x.mul_(sde.sigma(s) / sde.sigma(t)).add_(d0, c0);
  if (c1 != 0) x.add_(memory.data.back(), c1);
  if (c2 != 0) x.add_(memory.data[memory.data.size() - 2], c2);
  memory.data.push_back(d0);
  memory.log_snr.push_back(lambda_t);
  if (int64_t(memory.data.size()) > order_ - 1) {  // keep the order - 1 newest predictions
    memory.data.erase(memory.data.begin());
    memory.log_snr.erase(memory.log_snr.begin());
  }
}

}  // namespace sde
