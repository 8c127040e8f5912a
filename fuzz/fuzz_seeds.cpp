// Writes the seed corpus of every fuzz target into DIR/<target>/ (fuzz/corpus in the repository
// was written by it): valid files of each format, so that the fuzzers start from inputs that get
// past the magic bytes. Usage: fuzz_seeds DIR
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "fuzz_runs.hpp"
#include "sde/io/npy.hpp"
#include "sde/core/toy_data.hpp"
#include "sde/nn/trained_model.hpp"

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string gzip(const std::string& bytes) {
  const std::string tmp = std::filesystem::temp_directory_path() / "scoresde_fuzz_seed.gz";
  gzFile f = gzopen(tmp.c_str(), "wb");
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
  const std::string out = read(tmp);
  std::filesystem::remove(tmp);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  write(dir + "/npy/f4_3x2.npy", sde::npy_bytes(torch::arange(6, torch::kFloat32).reshape({3, 2})));
  write(dir + "/npy/f8_5.npy", sde::npy_bytes(torch::linspace(-1, 1, 5, torch::kFloat64)));
  write(dir + "/npy/i8_2x2x2.npy", sde::npy_bytes(torch::arange(8, torch::kInt64).reshape({2, 2, 2})));
  write(dir + "/npy/empty_0x2.npy", sde::npy_bytes(torch::zeros({0, 2})));

  std::string idx = {0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3};
  for (int i = 0; i < 18; ++i) idx += char(i * 14);
  write(dir + "/idx/u8_2x3x3.idx", idx);
  write(dir + "/idx/u8_2x3x3.idx.gz", gzip(idx));

  write(dir + "/mixture_json/two_diagonal.json",
        R"({"weights": [0.3, 0.7], "means": [[0, 1], [2, -1]], "covs": [[[1, 0], [0, 0.5]], [[0.2, 0], [0, 0.2]]]})");
  write(dir + "/mixture_json/full_3d.json",
        R"({"weights": [1.0], "means": [[0, 0, 0]], "covs": [[[2, 0.5, 0], [0.5, 1, 0.2], [0, 0.2, 1]]]})");

  // A trained model and the checkpoint of the run fuzz_checkpoint resumes into.
  sde::Trainer trainer = sde::fuzz::seed_trainer();
  const sde::TrainingData data = sde::toy_training_data("ring", 0);
  trainer.run(data);
  const std::string model = (std::filesystem::temp_directory_path() / "scoresde_fuzz_seed_model").string();
  sde::ModelMetadata meta;
  meta.network = sde::fuzz::seed_network();
  meta.data = "toy:ring";
  sde::save_trained_model(model, meta, trainer.ema());
  write(dir + "/model_dir/mlp.bin", read(model + "/model.json") + std::string(1, '\0') + read(model + "/weights.pt"));
  trainer.save_checkpoint(model + "/checkpoint.pt");
  write(dir + "/checkpoint/seed_run.pt", read(model + "/checkpoint.pt"));
  std::filesystem::remove_all(model);

  write(dir + "/config/sample.toml", "# options\n[sample]\nsteps = 40\nn = 10\nno_denoise = true\nsolver = \"em\"\n");
  write(dir + "/config/two_tables.toml", "[sample]\nshape = [1, 28, 28]\n\n[train]\nresume = false\nsteps = 5\n");
  std::cout << "wrote the seed corpus into " << dir << "\n";
  return 0;
}
