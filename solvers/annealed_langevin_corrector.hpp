// Annealed Langevin dynamics (NCSN, Song & Ermon 2019, Alg. 1), as a corrector.
#pragma once

#include "corrector.hpp"

namespace sde {

/// n_steps iterations of  x <- x + e s(x, t) + sqrt(2 e) z  with e = 2 a (snr sigma(t))^2,
/// a = alpha(t)^2 / alpha(s)^2 as in LangevinCorrector. The step size depends on t only (NCSN's
/// e_i proportional to sigma_i^2), so every sample takes the same step.
class AnnealedLangevinCorrector final : public Corrector {
 public:
  AnnealedLangevinCorrector(double snr, int64_t n_steps);
  int64_t steps() const override { return n_steps_; }
  void correct(const ReverseSde& reverse, torch::Tensor& x, double t, double s,
               const std::function<torch::Tensor(int64_t)>& noise) const override;

 private:
  double snr_;
  int64_t n_steps_;
};

}  // namespace sde
