// Training checkpoints, as `scoresde train --resume` reads them, into the trainer of the seed's
// run (fuzz_seeds writes it): either the state is restored, or an sde::Error says why and names the
// file (another run's checkpoint, a damaged archive, a checksum that does not match).
#include <cstdint>

#include "fuzz_input.hpp"
#include "fuzz_runs.hpp"
#include "sde/core/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sde::fuzz::MemoryFile file("checkpoint");
  static sde::Trainer trainer = sde::fuzz::seed_trainer();
  try {
    trainer.load_checkpoint(file.write(data, size));
  } catch (const sde::Error&) {
  }
  return 0;
}
