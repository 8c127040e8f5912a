// Langevin corrector with a signal-to-noise-ratio step size (Song et al. 2021, Alg. 4).
#pragma once

#include "corrector.hpp"

namespace sde {

/// n_steps iterations of  x <- x + e s(x, t) + sqrt(2 e) z  with the step size
///   e = 2 a (snr |z| / |s(x, t)|)^2,
/// a = alpha(t)^2 / alpha(s)^2 (the DDPM "alpha_i" = 1 - beta_i for VP; 1 for VE). The norms are
/// per sample by default, so sample i never depends on the other samples of its batch; the
/// reference code uses the batch means of the norms (`batch_mean = true`), which makes a
/// sample's step size depend on its batch.
///
/// Per-sample norms need dimension: |s|^2 near a mode behaves like a chi^2_D variable, so the
/// step's mean E[1/|s|^2] is infinite for D <= 2 and large for small D. On 2-D toys a few samples
/// take huge steps (measured: covariance error growing with N); use batch-mean norms or `ald`
/// there. For images (D in the thousands) the norms concentrate and both modes agree.
class LangevinCorrector final : public Corrector {
 public:
  LangevinCorrector(double snr, int64_t n_steps, bool batch_mean);
  bool uses_batch_statistics() const override { return batch_mean_; }
  int64_t steps() const override { return n_steps_; }
  void correct(const ReverseSde& reverse, torch::Tensor& x, double t, double s,
               const std::function<torch::Tensor(int64_t)>& noise) const override;

 private:
  double snr_;
  int64_t n_steps_;
  bool batch_mean_;
};

}  // namespace sde
