// A model directory (model.json + weights.pt), as `scoresde sample --model DIR` reads it. The input
// is the JSON text, a zero byte, then the weights file's bytes. Either the model loads (and then
// its score has the sample's shape) or an sde::Error names the file and the problem.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "sde/core/errors.hpp"
#include "sde/nn/trained_model.hpp"

namespace {

// A private directory for this process's two files, in memory where /dev/shm exists.
std::string directory() {
  char pattern[] = "/dev/shm/scoresde_fuzz_model_XXXXXX";
  char fallback[] = "/tmp/scoresde_fuzz_model_XXXXXX";
  const char* made = ::mkdtemp(pattern);
  if (made == nullptr) made = ::mkdtemp(fallback);
  if (made == nullptr) std::abort();
  return made;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = directory();
  const char* bytes = reinterpret_cast<const char*>(data);
  const char* split = static_cast<const char*>(std::memchr(bytes, 0, size));
  const size_t json = split ? size_t(split - bytes) : size;
  std::ofstream(dir + "/model.json", std::ios::binary | std::ios::trunc).write(bytes, std::streamsize(json));
  std::ofstream(dir + "/weights.pt", std::ios::binary | std::ios::trunc)
      .write(bytes + std::min(size, json + 1), std::streamsize(size - std::min(size, json + 1)));
  try {
    const sde::LoadedModel model = sde::load_trained_model(dir);
    std::vector<int64_t> shape = {1};
    for (const int64_t n : model.score->sample_shape()) shape.push_back(n);
    if (model.score->score(torch::zeros(shape), torch::full({1}, 0.5)).sizes() != c10::IntArrayRef(shape))
      __builtin_trap();
  } catch (const sde::Error&) {
  }
  return 0;
}
