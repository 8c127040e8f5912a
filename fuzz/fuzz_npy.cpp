// .npy files: any bytes are either an array whose size matches the file or an sde::FileError.
// Any other exception, a crash or a sanitizer report is a finding.
#include <cstdint>

#include "fuzz_input.hpp"
#include "sde/core/errors.hpp"
#include "sde/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sde::fuzz::MemoryFile file("npy");
  try {
    const torch::Tensor x = sde::load_npy(file.write(data, size));
    if (size_t(x.numel()) * x.element_size() > size) __builtin_trap();  // more data than the file holds
  } catch (const sde::FileError&) {
  }
  return 0;
}
