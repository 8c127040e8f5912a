// Hostile files and failing writes: headers that lie about their sizes, outputs that are not
// regular files, writes that fail half-way, flipped bits in weights and checkpoints, and one
// point that an ODE solve cannot follow. Each input is made here; each test fails without its fix.
#include "testing.hpp"
#include "unit/small_networks.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "sde/core/atomic_file.hpp"
#include "sde/core/errors.hpp"
#include "sde/io/idx.hpp"
#include "sde/nn/networks.hpp"
#include "sde/io/npy.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/solve/likelihood.hpp"
#include "sde/nn/trained_model.hpp"
#include "sde/nn/training.hpp"

namespace {

const sde::testing::ScratchDirectory scratch;

using sde::testing::npy_shape_header;
using sde::testing::npy_with_header;
using sde::testing::read_bytes;
using sde::testing::write_bytes;

// The process id of a process that has exited (its temporaries are stale).
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

std::vector<std::string> files_here() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(".")) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE(".npy headers that lie are refused before anything is allocated") {
  struct Case {
    std::string name, bytes, expect;
  };
  const std::string long_field = "{'descr': '<f4" + std::string(40000, 'a') + "', 'fortran_order': False, 'shape': (2,), }";
  const std::vector<Case> cases = {
      // std::regex recursed once per character here and overflowed the stack (SIGSEGV).
      {"long field", npy_with_header(long_field), "40003-character string"},
      {"long padding", npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                                       std::string(40000, ' ') + "1,), }", std::string(4, '\0')), ""},
      {"negative", npy_with_header(npy_shape_header("(-3, 2)")), "not a non-negative integer"},
      {"not a number", npy_with_header(npy_shape_header("(abc, 2)")), "not a non-negative integer"},
      {"int64 overflow", npy_with_header(npy_shape_header("(99999999999999999999999, 2)")), "overflows 64 bits"},
      {"product overflow", npy_with_header(npy_shape_header("(4611686018427387904, 4)")), "overflows 64-bit sizes"},
      // 8 TB claimed by a 100-byte file: was allocated before the size was compared.
      {"huge", npy_with_header(npy_shape_header("(1000000000000, 2)")), "expected 8000000000000 data bytes"},
      {"no shape", npy_with_header("{'descr': '<f4', 'fortran_order': False, }"), "no 'shape'"},
      {"unterminated", npy_with_header("{'descr': '<f4"), "unterminated string"},
      {"fortran", npy_with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", std::string(4, '\0')),
       "Fortran order"},
      {"header longer than file", std::string("\x93NUMPY\x01\x00\xff\xff{", 11), "truncated header"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    write_bytes("crafted.npy", c.bytes);
    if (c.expect.empty()) {
      CHECK(sde::load_npy("crafted.npy").sizes() == torch::IntArrayRef({1}));
    } else {
      CHECK_THROWS_WITH_AS(sde::load_npy("crafted.npy"), doctest::Contains(c.expect.c_str()), sde::FileError);
    }
  }
  // A zero-element array round-trips (its data pointer is null: no memcpy from it).
  sde::save_npy("empty.npy", torch::zeros({0, 2}));
  CHECK(sde::load_npy("empty.npy").sizes() == torch::IntArrayRef({0, 2}));
  std::filesystem::remove("crafted.npy");
  std::filesystem::remove("empty.npy");
}

TEST_CASE("an IDX header whose size product wraps around 64 bits is refused") {
  // Five sizes of 65536: 2^80 entries, which wrapped to 0 and matched an empty data section.
  std::string bytes = {0, 0, 0x08, 5};
  for (int d = 0; d < 5; ++d) bytes += std::string{0, 1, 0, 0};
  write_bytes("wrap.idx", bytes);
  CHECK_THROWS_WITH_AS(sde::load_idx("wrap.idx"), doctest::Contains("overflow"), sde::FileError);
  std::filesystem::remove("wrap.idx");
}

TEST_CASE("atomic writes replace only regular files, keep links, and clear what a killed writer left") {
  // A directory, a FIFO (and, as root, a device node) are refused, never replaced.
  std::filesystem::create_directory("a_directory");
  REQUIRE(::mkfifo("a_fifo", 0600) == 0);
  CHECK_THROWS_WITH_AS(sde::write_file_atomic("a_directory", "x"), doctest::Contains("is a directory"), sde::FileError);
  CHECK_THROWS_WITH_AS(sde::write_file_atomic("a_fifo", "x"), doctest::Contains("is a FIFO"), sde::FileError);
  CHECK(std::filesystem::is_fifo("a_fifo"));
  if (::mknod("a_device", S_IFCHR | 0600, makedev(1, 3)) == 0) {  // /dev/null's numbers; needs root
    CHECK_THROWS_WITH_AS(sde::write_file_atomic("a_device", "x"), doctest::Contains("character device"), sde::FileError);
    CHECK(std::filesystem::is_character_file("a_device"));
    std::filesystem::remove("a_device");
  }
  CHECK_THROWS_WITH_AS(sde::check_writable_target("no_such_dir/x.npy"), doctest::Contains("does not exist"),
                       sde::FileError);

  // A symbolic link stays a link; the file it points to is replaced.
  write_bytes("target.txt", "old");
  std::filesystem::create_symlink("target.txt", "link.txt");
  sde::write_file_atomic("link.txt", "new");
  CHECK(std::filesystem::is_symlink("link.txt"));
  CHECK(read_bytes("target.txt") == "new");

  // Temporaries of a dead writer go; a live process's (this test's parent) stay.
  const std::string stale = "out.bin.tmp." + std::to_string(dead_pid());
  const std::string live = "out.bin.tmp." + std::to_string(::getppid());
  write_bytes(stale, std::string(1000, 'x'));
  write_bytes(live, "y");
  // A writer killed along with its parent stays a zombie until init reaps it: also stale.
  const pid_t zombie = ::fork();
  if (zombie == 0) ::_exit(0);
  ::usleep(200000);  // let it exit; it stays a zombie until waited for
  const std::string unreaped = "out.bin.tmp." + std::to_string(zombie);
  write_bytes(unreaped, "z");
  sde::write_file_atomic("out.bin", "data");
  int status = 0;
  ::waitpid(zombie, &status, 0);
  CHECK_FALSE(std::filesystem::exists(stale));
  CHECK_FALSE(std::filesystem::exists(unreaped));
  CHECK(std::filesystem::exists(live));
  CHECK(read_bytes("out.bin") == "data");
  for (const char* p : {"a_directory", "a_fifo", "target.txt", "link.txt", "out.bin"}) std::filesystem::remove(p);
  std::filesystem::remove(live);
}

TEST_CASE("several files are written as one: a failure leaves none of them new and none changed") {
  write_bytes("first.npy", "old first");
  const auto before = files_here();
  // The second target is a directory: nothing is renamed, and no temporary remains.
  std::filesystem::create_directory("second.json");
  CHECK_THROWS_AS(sde::write_files_atomic({{"first.npy", "new first"}, {"second.json", "{}"}}), sde::FileError);
  CHECK(read_bytes("first.npy") == "old first");
  std::filesystem::remove("second.json");
  CHECK(files_here() == before);
  // Two outputs under one name (samples written as q.png, then the picture as q.png) are refused.
  CHECK_THROWS_WITH_AS(sde::write_files_atomic({{"q.png", "a"}, {"./q.png", "b"}}), doctest::Contains("two outputs"),
                       sde::FileError);
  CHECK_FALSE(std::filesystem::exists("q.png"));
  sde::write_files_atomic({{"first.npy", "1"}, {"third.json", "3"}});
  CHECK(read_bytes("first.npy") == "1");
  CHECK(read_bytes("third.json") == "3");
  std::filesystem::remove("first.npy");
  std::filesystem::remove("third.json");
}

namespace {

// Flips one bit at each of `count` positions spread over the file, and calls `load` on each copy:
// it must throw sde::Error or give exactly the original (`same`). Returns how many flips a
// checksum caught (the loads that LibTorch alone would have accepted).
template <class Load, class Same>
int check_bit_flips(const std::string& path, int count, const Load& load, const Same& same) {
  const std::string original = read_bytes(path);
  int caught_by_checksum = 0, refused = 0;
  for (int i = 0; i < count; ++i) {
    const size_t at = size_t(double(i) + 0.5) * original.size() / size_t(count);
    std::string bytes = original;
    bytes[at] = char(bytes[at] ^ (1 << (i % 8)));
    write_bytes(path, bytes);
    CAPTURE(at);
    try {
      load();
      CHECK(same());  // a flip in bytes nothing reads (zip padding, a name's unused bits)
    } catch (const sde::Error& e) {
      ++refused;
      if (std::string(e.what()).find("checksum") != std::string::npos) ++caught_by_checksum;
    }
  }
  write_bytes(path, original);
  MESSAGE(path, ": ", refused, " of ", count, " single-bit flips refused, ", caught_by_checksum, " by the checksum");
  return caught_by_checksum;
}

using sde::testing::small_mlp;

}  // namespace

TEST_CASE("a flipped bit in a weights file or a checkpoint is refused, never used") {
  const sde::ScoreNetwork trained(small_mlp(), 3);
  trained.save("weights.pt");
  sde::ScoreNetwork loaded(small_mlp(), 4);
  const int weights_caught = check_bit_flips(
      "weights.pt", 96, [&] { loaded.load("weights.pt"); },
      [&] { return loaded.state_checksum() == trained.state_checksum(); });
  CHECK(weights_caught > 0);  // flips in the tensor data: LibTorch reads them without complaint

  // In a model directory the file's CRC-32 (in model.json) is checked before LibTorch parses it:
  // every flip is refused.
  sde::ModelMetadata meta;
  meta.network = small_mlp();
  sde::save_trained_model("model", meta, trained);
  CHECK(check_bit_flips(
            "model/weights.pt", 96, [&] { sde::load_trained_model("model"); }, [] { return false; }) == 96);
  std::filesystem::remove_all("model");

  const auto vp = sde::make_sde({"vp"});
  sde::TrainOptions o;
  o.steps = 3;
  o.batch = 16;
  o.log_every = 0;
  sde::Trainer first(vp, sde::ScoreNetwork(small_mlp(), 7), sde::Parameterization::kNoise,
                     sde::TimeConditioning::kTime, o);
  first.run(sde::toy_training_data("ring", 1));
  first.save_checkpoint("checkpoint.pt");
  const int checkpoint_caught = check_bit_flips(
      "checkpoint.pt", 96,
      [&] {
        sde::Trainer resumed(vp, sde::ScoreNetwork(small_mlp(), 8), sde::Parameterization::kNoise,
                             sde::TimeConditioning::kTime, o);
        resumed.load_checkpoint("checkpoint.pt");
        loaded.load_state(resumed.network());
      },
      [&] { return loaded.state_checksum() == first.network().state_checksum(); });
  CHECK(checkpoint_caught >= 90);  // all but the header's own bytes (magic, length, CRC) by the CRC
  std::filesystem::remove("weights.pt");
  std::filesystem::remove("checkpoint.pt");
}

TEST_CASE("a checkpoint is resumed only on the data it was trained on") {
  const auto vp = sde::make_sde({"vp"});
  sde::TrainOptions o;
  o.steps = 2;
  o.batch = 16;
  o.log_every = 0;
  o.data_identity = R"({"data": "toy:ring", "scale": 1.0, "data_seed": 0})";
  sde::Trainer first(vp, sde::ScoreNetwork(small_mlp(), 7), sde::Parameterization::kNoise,
                     sde::TimeConditioning::kTime, o);
  first.save_checkpoint("data_checkpoint.pt");
  o.data_identity = R"({"data": "toy:moons", "scale": 1.0, "data_seed": 0})";
  sde::Trainer other(vp, sde::ScoreNetwork(small_mlp(), 7), sde::Parameterization::kNoise,
                     sde::TimeConditioning::kTime, o);
  CHECK_THROWS_WITH_AS(other.load_checkpoint("data_checkpoint.pt"), doctest::Contains("toy:moons"),
                       sde::InvalidArgument);
  std::filesystem::remove("data_checkpoint.pt");
}

namespace {

// N(0, I) in 2-D (score -x under VP: every flow is smooth), except for rows whose first
// coordinate is above 50: there the score oscillates in t with period ~1e-13 and amplitude 1e12,
// which only steps below 1e-15 would follow.
class OscillatingOutlier : public sde::ScoreModel {
 public:
  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override {
    const torch::Tensor wild = x.select(1, 0).gt(50).unsqueeze(1).to(x.scalar_type());
    const torch::Tensor ripple = torch::sin(t * 6e13).unsqueeze(1) * 1e12;
    return -x + wild * ripple;
  }
  std::vector<int64_t> sample_shape() const override { return {2}; }
};

}  // namespace

TEST_CASE("one point the ODE controller cannot follow fails alone: NaN and a reason; the others are kept") {
  const auto vp = sde::make_sde({"vp"});
  const OscillatingOutlier model;
  torch::Tensor x = sde::NoiseStream(3).normal({0, 40}, {2}, 0, torch::kFloat64);
  x[17][0] = 100.0;
  sde::LikelihoodOptions o;
  const sde::LikelihoodResult result = sde::log_likelihood(*vp, model, x, o);
  REQUIRE(result.ok());
  REQUIRE(result.failures.size() == 1);
  CHECK(result.failures[0].index == 17);
  CHECK(result.failures[0].message.find("step size fell") != std::string::npos);
  CHECK(std::isnan(result.log_p[17].item<double>()));
  // The others: log N(x; 0, I) exactly (the flow of N(0, I) under VP is the identity in
  // distribution), within the ODE tolerances (rtol = atol = 1e-5 over an O(1) integral: 1e-3).
  const torch::Tensor keep = torch::arange(40).ne(17);
  const torch::Tensor exact = -0.5 * x.square().sum(1) - std::log(2 * M_PI);
  CHECK((result.log_p.index({keep}) - exact.index({keep})).abs().max().item<double>() < 1e-3);
  CHECK(std::isfinite(result.mean_log_p()));
  // Without the step-size floor the batch stalled until max_steps (100 000 attempts).
  CHECK(result.nfe < 20000);
}

TEST_CASE("whole numbers in a network description must be written as whole numbers") {
  // "width": 4e100 was cast to int64 without a check (undefined behaviour; found by fuzz_model_dir).
  const std::string good = small_mlp().to_json();
  for (const std::string bad : {"4e100", "12.5", "-1e30", "18446744073709551615"}) {
    CAPTURE(bad);
    std::string text = good;
    const size_t at = text.find("\"width\": ") + 9;
    text.replace(at, text.find_first_of(",\n", at) - at, bad);
    CHECK_THROWS_WITH_AS(sde::NetworkSpec::from_json(text), doctest::Contains("must be a whole number"),
                         sde::InvalidArgument);
  }
  CHECK(sde::NetworkSpec::from_json(good).width == 32);
}
