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
  x.mul_(sde.sigma(s) / sde.sigma(t)).add_(d0, -alpha_s * phi1);
  if (order >= 2) {
    const auto& d = memory.data;     // d.back() = D_1, d[d.size() - 2] = D_2
    const auto& lam = memory.log_snr;
    const double r0 = (lambda_t - lam.back()) / h;
    const torch::Tensor d1_0 = (d0 - d.back()) / r0;
    if (order == 2) {
      x.add_(d1_0, -0.5 * alpha_s * phi1);
    } else {
      const double r1 = (lam.back() - lam[lam.size() - 2]) / h;
      const torch::Tensor d1_1 = (d.back() - d[d.size() - 2]) / r1;
      const torch::Tensor d1 = d1_0 + (d1_0 - d1_1) * (r0 / (r0 + r1));
      const torch::Tensor d2 = (d1_0 - d1_1) / (r0 + r1);
      const double phi2 = phi1 / h + 1.0, phi3 = phi2 / h - 0.5;
      x.add_(d1, alpha_s * phi2).add_(d2, -2.0 * alpha_s * phi3);  // factor 2: see the header
    }
  }
  memory.data.push_back(d0);
  memory.log_snr.push_back(lambda_t);
  if (int64_t(memory.data.size()) > order_ - 1) {  // keep the order - 1 newest predictions
    memory.data.erase(memory.data.begin());
    memory.log_snr.erase(memory.log_snr.begin());
  }
}

}  // namespace sde
