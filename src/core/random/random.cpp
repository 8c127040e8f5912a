#include "sde/core/random.hpp"

#include "core/random/philox.hpp"
#include "sde/core/errors.hpp"

namespace sde {
namespace {

using Kernel = void (*)(uint64_t, uint32_t, uint64_t, int64_t, float*);

Kernel pick_normal_kernel() {
#if defined(SCORESDE_HAVE_AVX2_KERNEL)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return detail::philox_normals_avx2;
#endif
  return detail::philox_normals_generic;
}

struct Span {
  int64_t numel_per_sample;
  int64_t total;           // numbers wanted
  uint64_t first_block;    // Philox block of the first number
  int64_t offset;          // word of the first number inside its block
  int64_t blocks;
};

Span span_of(SampleRange range, c10::IntArrayRef sample_shape) {
  SDE_CHECK(range.first >= 0 && range.count >= 0, "NoiseStream: sample range [", range.first, ", ",
            range.first + range.count, ") must have first >= 0 and count >= 0");
  int64_t numel = 1;
  for (int64_t s : sample_shape) {
    SDE_CHECK(s > 0, "NoiseStream: sample shape entries must be positive, got ", s);
    numel *= s;
  }
  Span span{numel, range.count * numel, 0, 0, 0};
  const uint64_t first_number = uint64_t(range.first) * uint64_t(numel);
  span.first_block = first_number / 4;
  span.offset = int64_t(first_number % 4);
  span.blocks = (span.offset + span.total + 3) / 4;
  return span;
}

std::vector<int64_t> batch_shape(SampleRange range, c10::IntArrayRef sample_shape) {
  std::vector<int64_t> shape{range.count};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  return shape;
}

}  // namespace

torch::Tensor NoiseStream::normal(SampleRange range, c10::IntArrayRef sample_shape, uint32_t draw,
                                  const torch::TensorOptions& options) const {
  static const Kernel kernel = pick_normal_kernel();
  const Span span = span_of(range, sample_shape);
  torch::Tensor words = torch::empty({4 * span.blocks}, torch::kFloat32);
  if (span.blocks > 0) kernel(seed_, draw, span.first_block, span.blocks, words.data_ptr<float>());
  torch::Tensor z = words.narrow(0, span.offset, span.total).view(batch_shape(range, sample_shape));
  return z.to(options.has_dtype() ? options : options.dtype(torch::kFloat32));
}

torch::Tensor NoiseStream::uniform(SampleRange range, c10::IntArrayRef sample_shape, uint32_t draw,
                                   const torch::TensorOptions& options) const {
  const Span span = span_of(range, sample_shape);
  torch::Tensor u = torch::empty({4 * span.blocks}, torch::kFloat64);
  double* out = u.data_ptr<double>();
  for (int64_t b = 0; b < span.blocks; ++b) {
    const detail::PhiloxWords w = detail::philox_block(seed_, draw, span.first_block + uint64_t(b));
    for (int k = 0; k < 4; ++k) out[4 * b + k] = (double(w[k]) + 0.5) * 0x1p-32;
  }
  u = u.narrow(0, span.offset, span.total).view(batch_shape(range, sample_shape));
  return u.to(options.has_dtype() ? options : options.dtype(torch::kFloat64));
}

}  // namespace sde
