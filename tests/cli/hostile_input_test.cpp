// The scoresde program under input a hostile user crafts: every case ends with exit code 1 (bad
// input) or 2 (usage) and a message naming the value, never with a signal, and leaves no output.
#include "testing.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include <nlohmann/json.hpp>
#include <torch/script.h>

#include "sde/io/npy.hpp"
#include "sde/core/random.hpp"

namespace {

const sde::testing::ScratchDirectory scratch;

using Run = sde::testing::CommandResult;

Run scoresde(const std::string& args) { return sde::testing::run_command(std::string(SCORESDE_CLI) + " " + args); }

const std::string ring = sde::testing::data_path("ring8.json");

using sde::testing::npy_with_header;
using sde::testing::write_bytes;

std::string shape_npy(const std::string& shape) { return npy_with_header(sde::testing::npy_shape_header(shape)); }

// The outputs the cases name: none may exist after a refused command.
const std::vector<std::string> outputs = {"s.npy", "s.json", "s.png", "s.npy.json", "q.png", "q.json", "m", "d"};

}  // namespace

TEST_CASE("no crafted input ends scoresde with a signal: exit 1 or 2, a message naming it, nothing written") {
  write_bytes("long.npy", npy_with_header("{'descr': '<f4" + std::string(40000, 'a') +
                                          "', 'fortran_order': False, 'shape': (2,), }"));
  write_bytes("negative.npy", shape_npy("(-3, 2)"));
  write_bytes("letters.npy", shape_npy("(abc, 2)"));
  write_bytes("huge.npy", shape_npy("(1000000000000, 2)"));
  write_bytes("overflow.npy", shape_npy("(99999999999999999999999, 2)"));
  sde::save_npy("empty.npy", torch::zeros({0, 2}));
  sde::save_npy("nan.npy", torch::tensor({{0.0, 1.0}, {std::nan(""), 0.0}}));
  sde::save_npy("labelled.npy", torch::randn({16, 2}));
  sde::save_npy("labels.npy", torch::arange(16, torch::kInt64).remainder(2));
  write_bytes("existing_file", "keep me");
  write_bytes("steps.toml", "[sample]\nsteps = 99999999999999999999999\n");
  write_bytes("bool.toml", "[sample]\nsteps = true\n");
  write_bytes("nested.toml", "[sample]\nconfig = \"steps.toml\"\n");
  std::filesystem::create_directory("config_dir");
  // A TorchScript network (its meaning named on the command line) and a model directory whose
  // model.json was edited to a width of 1e9.
  torch::jit::Module m("m");
  m.define("def forward(self, x, label):\n    return x\n");
  m.save("net.pt");
  REQUIRE(scoresde("train --data toy:ring --steps 2 --batch 8 --width 8 --depth 1 --log-every 0 --out model").code == 0);
  {
    std::ifstream in("model/model.json");
    nlohmann::json j = nlohmann::json::parse(in);
    j["network"]["width"] = 1000000000;
    std::ofstream("wide_model.json") << j.dump(2);
    std::filesystem::create_directory("wide");
    std::filesystem::copy_file("model/weights.pt", "wide/weights.pt");
    std::filesystem::rename("wide_model.json", "wide/model.json");
  }
  const std::string net = " --model net.pt --parameterization score --conditioning time";
  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases = {
      {"likelihood --target " + ring + " --data long.npy --out s.npy", "40003-character string"},
      {"likelihood --target " + ring + " --data negative.npy --out s.npy", "not a non-negative integer"},
      {"likelihood --target " + ring + " --data letters.npy --out s.npy", "not a non-negative integer"},
      {"likelihood --target " + ring + " --data huge.npy --out s.npy", "expected 8000000000000 data bytes"},
      {"likelihood --target " + ring + " --data overflow.npy --out s.npy", "overflows 64 bits"},
      {"likelihood --target " + ring + " --data empty.npy --out s.npy", "at least one point"},
      {"likelihood --target " + ring + " --data nan.npy --out s.npy", "row 1 holds NaN"},
      {"sample --target " + ring + " --n 10 --config steps.toml --out s.npy", "take fewer steps"},
      {"sample --target " + ring + " --n 10 --config bool.toml --out s.npy", "'steps' takes a value, not true/false"},
      {"sample --target " + ring + " --n 10 --config nested.toml --out s.npy", "does not include others"},
      {"sample --target " + ring + " --n 10 --config config_dir --out s.npy", "config_dir is a directory"},
      {"sample --target " + ring + " --n 10 --steps 1e11 --out s.npy", "--steps"},
      {"sample --target " + ring + " --n 10 --steps 100000000000 --out s.npy", "take fewer steps"},
      {"sample --target " + ring + " --n 1.2e13 --out s.npy", "'1.2e13' is not a whole number"},
      {"sample --target " + ring + " --n 12000000000000 --out s.npy", "draw fewer samples"},
      {"sample --target " + ring + " --n 10 --threads 0 --out s.npy", "'0' is not a whole number >= 1"},
      {"sample --target " + ring + " --n 10 --out q.png", "must end in .npy"},
      {"sample --target " + ring + " --n 10 --out existing_file", "must end in .npy"},
      {"sample" + net + " --shape -3 --n 2 --out s.npy", "shape"},
      {"sample" + net + " --shape 100000,100000 --n 2 --out s.npy", "check --shape"},
      {"sample --model wide --n 10 --out s.npy", "use a smaller width"},
      {"train --data toy:ring --scale abc --out m", "--scale abc is not a finite number"},
      {"train --data toy:ring --scale 1e400 --out m", "--scale 1e400 is not a finite number"},
      {"train --data toy:ring --lr -1 --out m", "lr = -1"},
      {"train --data toy:ring --steps 5 --out existing_file", "existing_file exists and is not a directory"},
      {"train --data negative.npy --out m", "not a non-negative integer"},
      {"demo --quick --out existing_file", "existing_file exists and is not a directory"},
      {"demo --quick --n 0 --out d", "--n"},
      // Values CLI11 read without a word: NaN through its range checks, -1 and 2^64 as the seed 2^64 - 1.
      {"sample --target " + ring + " --n 10 --threshold nan --x0-range 0,1 --out s.npy", "'nan' is not a finite number"},
      {"sample --target " + ring + " --n 10 --measurement-noise nan --out s.npy", "'nan' is not a finite number"},
      {"sample --target " + ring + " --n 10 --guidance 1 --class 0 --guidance-interval 0.1,inf --out s.npy",
       "'inf' is not a finite number"},
      {"sample --target " + ring + " --n 10 --seed -1 --out s.npy", "'-1' is not a seed"},
      {"sample --target " + ring + " --n 10 --seed 18446744073709551616 --out s.npy", "is not a seed"},
      {"train --data toy:ring --data-seed -3 --out m", "'-3' is not a seed"},
      // Options read and then not used.
      {"likelihood --target " + ring + " --data nan.npy --probes 4 --out s.npy", "give --trace hutchinson"},
      {"train --data labelled.npy --labels labels.npy --steps 2 --out m", "an unconditional network learns no classes"},
      // A T past the cosine process's end was cut to it silently.
      {"sample --target " + ring + " --n 10 --sde cosine --T 5 --out s.npy", "--T 5 lies past where cosine's beta"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const Run run = scoresde(c.args);
    CAPTURE(run.output);
    CHECK((run.code == 1 || run.code == 2));
    CHECK(run.output.find(c.expect) != std::string::npos);
    for (const std::string& out : outputs) {
      CAPTURE(out);
      CHECK_FALSE(std::filesystem::exists(out));
    }
  }
  std::ifstream kept("existing_file");
  CHECK(std::string(std::istreambuf_iterator<char>(kept), std::istreambuf_iterator<char>()) == "keep me");
}

TEST_CASE("a bad discrete schedule file is a usage error naming it, in every command and through --config") {
  // It is read while the options are parsed, where main's handler did not reach: each case used to
  // end in SIGABRT ("terminate called after throwing sde::InvalidArgument").
  const std::vector<std::pair<std::string, std::string>> files = {
      {"b_one.json", R"({"betas": [0.1, 1.0]})"},      {"b_above.json", R"({"betas": [0.1, 1.5]})"},
      {"b_zero.json", R"({"betas": [0.0, 0.1]})"},     {"b_negative.json", R"({"betas": [-0.1, 0.1]})"},
      {"b_nan.json", R"({"betas": [0.1, NaN]})"},      {"b_tiny.json", R"({"betas": [1e-300, 1e-300]})"},
      {"empty.json", R"({"betas": []})"},              {"one.json", R"({"betas": [0.1]})"},
      {"nested.json", R"({"betas": [[0.1, 0.2]]})"},   {"ab_rising.json", R"({"alphas_cumprod": [0.5, 0.9]})"},
      {"ab_above.json", R"({"alphas_cumprod": [1.5, 0.9]})"}, {"ab_zero.json", R"({"alphas_cumprod": [0.9, 0.0]})"},
      {"both.json", R"({"betas": [0.1], "alphas_cumprod": [0.9]})"}, {"string.json", R"("betas")"},
      {"betas_string.json", R"({"betas": "0.1"})"}};
  for (const auto& [name, text] : files) write_bytes(name, text);
  sde::save_npy("matrix.npy", torch::full({2, 2}, 0.5));
  sde::save_npy("ab_nan.npy", torch::tensor({0.9, std::nan("")}, torch::kFloat64));
  sde::save_npy("alphas_cumprod.npy", torch::linspace(0.9999, 0.01, 1000, torch::kFloat64));
  std::filesystem::create_directory("schedule_dir");
  std::vector<std::pair<std::string, std::string>> cases = {
      {"b_one.json", "beta[1] = 1 must lie in (0, 1)"},
      {"b_above.json", "beta[1] = 1.5 must lie in (0, 1)"},
      {"b_zero.json", "beta[0] = 0 must lie in (0, 1)"},
      {"b_negative.json", "must lie in (0, 1)"},
      {"b_nan.json", "--schedule-file"},  // NaN is not JSON: refused as a file that is not a schedule
      {"b_tiny.json", "below double precision"},
      {"empty.json", "at least 2 entries"},
      {"one.json", "at least 2 entries"},
      {"nested.json", "not a number"},
      {"ab_rising.json", "if the values are betas, say so"},
      {"ab_above.json", "alphas_cumprod[0] = 1.5 must lie in (0, 1)"},
      {"ab_zero.json", "alphas_cumprod[1] = 0 must lie in (0, 1)"},
      {"both.json", "one of \"alphas_cumprod\" or \"betas\""},
      {"string.json", "one of \"alphas_cumprod\" or \"betas\""},
      {"betas_string.json", "must be a list of numbers"},
      {"matrix.npy", "expected a 1-D array"},
      {"ab_nan.npy", "alphas_cumprod[1] = nan"},
      {"alphas_cumprod.npy --schedule-values betas", "if the values are alphas_cumprod, say so"},
      {"schedule_dir", "schedule_dir is a directory"},
      {"missing.json", "cannot read missing.json"}};
  const auto check = [](const std::string& args, const std::string& expect) {
    CAPTURE(args);
    const Run run = scoresde(args);
    CAPTURE(run.output);
    CHECK(run.code == 2);
    CHECK(run.output.find(expect) != std::string::npos);
    CHECK(run.output.find("terminate called") == std::string::npos);
    CHECK_FALSE(std::filesystem::exists("s.npy"));
    CHECK_FALSE(std::filesystem::exists("m"));
  };
  for (const auto& [file, expect] : cases)
    check("sample --target " + ring + " --sde discrete --n 10 --schedule-file " + file + " --out s.npy", expect);
  // The other commands, and a config file, parse the same option.
  check("train --data toy:ring --sde discrete --schedule-file b_one.json --steps 2 --out m", "beta[1] = 1");
  sde::save_npy("points.npy", torch::zeros({4, 2}));
  check("likelihood --target " + ring + " --sde discrete --schedule-file b_one.json --data points.npy --out s.npy",
        "beta[1] = 1");
  write_bytes("schedule.toml", "[sample]\nschedule_file = \"b_zero.json\"\n");
  check("sample --target " + ring + " --sde discrete --n 10 --config schedule.toml --out s.npy", "beta[0] = 0");
}

TEST_CASE("a mixture whose labels run past its components is refused, not a crash") {
  nlohmann::json j = nlohmann::json::parse(std::ifstream(sde::testing::data_path("ring8_labelled.json")));
  j["labels"][0] = std::numeric_limits<int64_t>::max();  // num_classes() = max + 1 wrapped: SIGSEGV before
  std::ofstream("big_label.json") << j.dump();
  const Run run = scoresde("sample --target big_label.json --n 10 --out s.npy");
  CAPTURE(run.output);
  CHECK(run.code == 1);
  CHECK(run.output.find("labels[0] = 9223372036854775807 must be a class in [0, C)") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists("s.npy"));
}

TEST_CASE("no output replaces a file the run reads; train keeps a trained model unless --resume") {
  // Each of these replaced its input before: the summary goes beside --out under the same stem.
  std::filesystem::copy_file(ring, "t.json", std::filesystem::copy_options::overwrite_existing);
  write_bytes("sched.json", R"({"betas": [0.1, 0.2, 0.3]})");
  sde::save_npy("pts.npy", torch::zeros({4, 2}));
  REQUIRE(scoresde("train --data toy:ring --steps 2 --batch 8 --width 8 --depth 1 --log-every 0 --out trained").code == 0);
  const auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const std::vector<std::string> kept = {"t.json", "sched.json", "pts.npy", "trained/model.json", "trained/weights.pt",
                                         "trained/checkpoint.pt"};
  std::vector<std::string> before;
  for (const std::string& f : kept) before.push_back(bytes(f));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"sample --target t.json --n 10 --out t.npy", "would write t.json, which this run reads"},
      {"sample --model trained --n 10 --out trained/model.npy", "which this run reads (trained/model.json)"},
      {"sample --target " + ring + " --sde discrete --schedule-file sched.json --n 10 --out sched.npy", "sched.json"},
      {"likelihood --target t.json --data pts.npy --out t.npy", "would write t.json"},
      {"likelihood --target " + ring + " --data pts.npy --out pts.npy", "would write pts.npy"},
      {"train --data toy:ring --steps 2 --batch 8 --width 8 --depth 1 --out trained", "continue it with --resume"}};
  for (const auto& [args, expect] : cases) {
    CAPTURE(args);
    const Run run = scoresde(args);
    CAPTURE(run.output);
    CHECK(run.code == 1);
    CHECK(run.output.find(expect) != std::string::npos);
  }
  for (size_t i = 0; i < kept.size(); ++i) {
    CAPTURE(kept[i]);
    CHECK(bytes(kept[i]) == before[i]);
  }
}

TEST_CASE("--out never replaces a device node or a FIFO, and a symbolic link stays a link") {
  REQUIRE(::mkfifo("fifo.npy", 0600) == 0);
  const Run fifo = scoresde("sample --target " + ring + " --n 10 --steps 5 --out fifo.npy");
  CHECK(fifo.code == 1);
  CHECK(fifo.output.find("it is a FIFO") != std::string::npos);
  CHECK(std::filesystem::is_fifo("fifo.npy"));
  if (::mknod("null.npy", S_IFCHR | 0600, makedev(1, 3)) == 0) {  // as root: /dev/null's numbers
    const Run device = scoresde("sample --target " + ring + " --n 10 --steps 5 --out null.npy");
    CHECK(device.code == 1);
    CHECK(device.output.find("character device") != std::string::npos);
    CHECK(std::filesystem::is_character_file("null.npy"));
  }
  // The picture's name is a directory: refused before sampling, and the samples are not written.
  std::filesystem::create_directory("pic.png");
  const Run picture = scoresde("sample --target " + ring + " --n 10 --steps 5 --out pic.npy");
  CHECK(picture.code == 1);
  CHECK(picture.output.find("'pic.png': it is a directory") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists("pic.npy"));
  // Through a link: the file it points to gets the samples.
  sde::save_npy("real.npy", torch::zeros({1}));
  std::filesystem::create_symlink("real.npy", "link.npy");
  REQUIRE(scoresde("sample --target " + ring + " --n 10 --steps 5 --out link.npy").code == 0);
  CHECK(std::filesystem::is_symlink("link.npy"));
  CHECK(sde::load_npy("real.npy").sizes() == torch::IntArrayRef({10, 2}));
}

TEST_CASE("--resume refuses a checkpoint of other data, scale or data seed") {
  const std::string common = " --width 8 --depth 1 --batch 16 --log-every 0 --steps 4 --out run";
  REQUIRE(scoresde("train --data toy:ring" + common).code == 0);
  for (const std::string changed : {"--data toy:moons", "--data toy:ring --scale 2", "--data toy:ring --data-seed 5"}) {
    CAPTURE(changed);
    const Run resumed = scoresde("train " + changed + common + " --resume");
    CHECK(resumed.code == 1);
    CHECK(resumed.output.find("comes from a different run") != std::string::npos);
  }
  CHECK(scoresde("train --data toy:ring" + common + " --resume").code == 0);
}

TEST_CASE("likelihood with one point far out finishes promptly and keeps the other points") {
  // One point at 1e30 among 50 made the shared step size collapse: 100 000 steps (210 s), then
  // nothing written for any point. Now the batch is split until the point is alone.
  torch::Tensor x = sde::NoiseStream(2).normal({0, 50}, {2}, 0, torch::kFloat64);
  x[7][0] = 1e30;
  sde::save_npy("far.npy", x);
  sde::save_npy("near.npy", torch::cat({x.narrow(0, 0, 7), x.narrow(0, 8, 42)}));
  const Run far = scoresde("likelihood --target " + ring + " --data far.npy --out far_logp.npy");
  CAPTURE(far.output);
  REQUIRE(far.code == 0);
  REQUIRE(scoresde("likelihood --target " + ring + " --data near.npy --out near_logp.npy").code == 0);
  const torch::Tensor with = sde::load_npy("far_logp.npy"), without = sde::load_npy("near_logp.npy");
  const torch::Tensor others = torch::cat({with.narrow(0, 0, 7), with.narrow(0, 8, 42)});
  // Integrated in other groups, the points take other steps: equal within the ODE tolerances
  // (rtol = atol = 1e-5 on integrals of size ~100: 1e-2 absolute).
  CHECK((others - without).abs().max().item<double>() < 1e-2);
  std::ifstream summary("far_logp.json");
  const nlohmann::json j = nlohmann::json::parse(summary);
  CHECK(j["nfe"].get<int64_t>() < 20000);
}
