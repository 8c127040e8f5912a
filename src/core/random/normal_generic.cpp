// Portable Philox + Box–Muller normals: the reference the vectorised kernel is checked against.
#include <cmath>

#include "core/random/philox.hpp"

namespace sde::detail {

void philox_normals_generic(uint64_t seed, uint32_t draw, uint64_t first_block, int64_t blocks,
                            float* out) {
  for (int64_t b = 0; b < blocks; ++b) {
    const PhiloxWords w = philox_block(seed, draw, first_block + uint64_t(b));
    for (int pair = 0; pair < 2; ++pair) {
      const float r = std::sqrt(-2.0f * std::log(uniform24(w[2 * pair])));
      const float angle = kTwoPi * uniform24(w[2 * pair + 1]);
      out[4 * b + 2 * pair] = r * std::cos(angle);
      out[4 * b + 2 * pair + 1] = r * std::sin(angle);
    }
  }
}

}  // namespace sde::detail
