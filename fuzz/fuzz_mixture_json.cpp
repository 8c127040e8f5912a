// Gaussian-mixture JSON: any text is a valid mixture (positive weights summing to one, symmetric
// positive-definite covariances) or an sde::Error naming what is wrong.
#include <cmath>
#include <cstdint>
#include <string>

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const sde::GaussianMixture m = sde::GaussianMixture::from_json(std::string(reinterpret_cast<const char*>(data), size));
    double total = 0;
    for (int64_t k = 0; k < m.components(); ++k) total += m.weights()[k];
    if (!(std::abs(total - 1.0) < 1e-6)) __builtin_trap();
  } catch (const sde::Error&) {
  }
  return 0;
}
