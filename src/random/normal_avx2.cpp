// AVX2 Philox + Box–Muller: eight Philox blocks per iteration, log and sincos from SLEEF.
// Compiled with -mavx2 -mfma and called only when the CPU reports both (see random.cpp).
// Why by hand: GCC vectorises the scalar Philox loop but emulates the 32x32->64 multiply, and
// glibc's scalar logf/sincosf cost ~18 ns per pair; this kernel brings a normal to ~3.5 ns.
#include <immintrin.h>
#include <sleef.h>

#include <algorithm>

#include "random/philox.hpp"

namespace sde::detail {
namespace {

struct HiLo {
  __m256i hi, lo;
};

// 32x32->64 products of the eight lanes of `c` with the constant m, split into high and low words.
inline HiLo mulhilo(__m256i c, __m256i m) {
  const __m256i even = _mm256_mul_epu32(c, m);                         // lanes 0,2,4,6
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);   // lanes 1,3,5,7
  return {_mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA),
          _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA)};
}

inline __m256 uniform24(__m256i word) {
  const __m256 u = _mm256_cvtepi32_ps(_mm256_srli_epi32(word, 8));
  return _mm256_mul_ps(_mm256_add_ps(u, _mm256_set1_ps(0.5f)), _mm256_set1_ps(1.0f / 16777216.0f));
}

// Normals of the eight blocks first_block .. first_block + 7, into out[0 .. 32).
void eight_blocks(uint64_t seed, uint32_t draw, uint64_t first_block, float* out) {
  const __m256i m0 = _mm256_set1_epi32(int(kPhiloxM0));
  const __m256i m1 = _mm256_set1_epi32(int(kPhiloxM1));
  {
    alignas(32) uint32_t lo[8], hi[8];
    for (int l = 0; l < 8; ++l) {
      const uint64_t block = first_block + uint64_t(l);
      lo[l] = uint32_t(block);
      hi[l] = uint32_t(block >> 32);
    }
    __m256i c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo));
    __m256i c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(hi));
    __m256i c2 = _mm256_set1_epi32(int(draw));
    __m256i c3 = _mm256_setzero_si256();
    uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
    for (int round = 0; round < kPhiloxRounds; ++round) {
      const HiLo p0 = mulhilo(c0, m0);
      const HiLo p1 = mulhilo(c2, m1);
      c0 = _mm256_xor_si256(_mm256_xor_si256(p1.hi, c1), _mm256_set1_epi32(int(k0)));
      c1 = p1.lo;
      c2 = _mm256_xor_si256(_mm256_xor_si256(p0.hi, c3), _mm256_set1_epi32(int(k1)));
      c3 = p0.lo;
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    const __m256 two_pi = _mm256_set1_ps(kTwoPi), minus_two = _mm256_set1_ps(-2.0f);
    const __m256 r01 = _mm256_sqrt_ps(_mm256_mul_ps(minus_two, Sleef_logf8_u10avx2(uniform24(c0))));
    const __m256 r23 = _mm256_sqrt_ps(_mm256_mul_ps(minus_two, Sleef_logf8_u10avx2(uniform24(c2))));
    const Sleef___m256_2 sc01 = Sleef_sincosf8_u10avx2(_mm256_mul_ps(two_pi, uniform24(c1)));
    const Sleef___m256_2 sc23 = Sleef_sincosf8_u10avx2(_mm256_mul_ps(two_pi, uniform24(c3)));
    alignas(32) float z[4][8];
    _mm256_store_ps(z[0], _mm256_mul_ps(r01, sc01.y));  // SLEEF: x = sin, y = cos
    _mm256_store_ps(z[1], _mm256_mul_ps(r01, sc01.x));
    _mm256_store_ps(z[2], _mm256_mul_ps(r23, sc23.y));
    _mm256_store_ps(z[3], _mm256_mul_ps(r23, sc23.x));
    for (int l = 0; l < 8; ++l)
      for (int w = 0; w < 4; ++w) out[4 * l + w] = z[w][l];
  }
}

}  // namespace

void philox_normals_avx2(uint64_t seed, uint32_t draw, uint64_t first_block, int64_t blocks,
                         float* out) {
  int64_t b = 0;
  for (; b + 8 <= blocks; b += 8) eight_blocks(seed, draw, first_block + uint64_t(b), out + 4 * b);
  if (b < blocks) {
    // The tail goes through the same vector code (a block's numbers must not depend on where
    // it falls in a request), into a scratch buffer.
    float scratch[32];
    eight_blocks(seed, draw, first_block + uint64_t(b), scratch);
    std::copy(scratch, scratch + 4 * (blocks - b), out + 4 * b);
  }
}

}  // namespace sde::detail
