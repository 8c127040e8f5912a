// Philox4x32-10, scalar form (Salmon et al., SC 2011). Private to the core.
#pragma once

#include <array>
#include <cstdint>

namespace sde::detail {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1
constexpr int kPhiloxRounds = 10;

using PhiloxWords = std::array<uint32_t, 4>;

inline PhiloxWords philox4x32(PhiloxWords c, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < kPhiloxRounds; ++round) {
    const uint64_t p0 = uint64_t(kPhiloxM0) * c[0];
    const uint64_t p1 = uint64_t(kPhiloxM1) * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ k0, uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k1, uint32_t(p0)};
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  return c;
}

/// The four words of block `block` of the stream (seed, draw): counter (block lo, block hi, draw, 0),
/// key (seed lo, seed hi).
inline PhiloxWords philox_block(uint64_t seed, uint32_t draw, uint64_t block) {
  return philox4x32({uint32_t(block), uint32_t(block >> 32), draw, 0u}, uint32_t(seed),
                    uint32_t(seed >> 32));
}

/// A 24-bit uniform in (0, 1) from a word: exact in float32, never 0 or 1.
inline float uniform24(uint32_t word) { return (float(word >> 8) + 0.5f) * (1.0f / 16777216.0f); }

constexpr float kTwoPi = 6.2831853071795864769f;

/// Fills out[0 .. 4*blocks) with the normals of blocks [first_block, first_block + blocks):
/// Box–Muller on word pairs (0,1) and (2,3). Two implementations that agree to float rounding
/// (their log/sincos differ in the last bit): portable C++ and AVX2 with SLEEF.
void philox_normals_generic(uint64_t seed, uint32_t draw, uint64_t first_block, int64_t blocks,
                            float* out);
#if defined(SCORESDE_HAVE_AVX2_KERNEL)
void philox_normals_avx2(uint64_t seed, uint32_t draw, uint64_t first_block, int64_t blocks,
                         float* out);
#endif

}  // namespace sde::detail
