// IDX files (plain or gzip): any bytes are either a tensor of the sizes the header names or an
// sde::FileError.
#include <cstdint>

#include "fuzz_input.hpp"
#include "sde/core/errors.hpp"
#include "sde/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sde::fuzz::MemoryFile file("idx");
  try {
    sde::load_idx(file.write(data, size));
  } catch (const sde::FileError&) {
  }
  return 0;
}
