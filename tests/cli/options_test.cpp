// The options researchers reach for: --version, --latents, --dtype float64, --images and --clamp,
// TorchScript files with a data scaler in sample and likelihood, --device, other libraries'
// solver names, typed solver options in --help, --config options another solver lacks, and one
// meaning of --model.
#include "testing.hpp"

#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "sde/io/image.hpp"
#include "sde/io/npy.hpp"

namespace {

const sde::testing::ScratchDirectory scratch;

using Run = sde::testing::CommandResult;

Run scoresde(const std::string& args) { return sde::testing::run_command(std::string(SCORESDE_CLI) + " " + args); }

const std::string ring = sde::testing::data_path("ring8.json");

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// eps(x, sigma) = sigma x: under VP with labels sigma, the exact noise predictor of N(0, I) data.
void save_gaussian_module(const std::string& path) {
  torch::jit::Module m("m");
  m.define(R"(
def forward(self, x, label):
    return label.view([-1] + [1] * (x.dim() - 1)) * x
)");
  m.save(path);
}

}  // namespace

TEST_CASE("--version names the version and commit, and every JSON summary carries them") {
  const Run version = scoresde("--version");
  CAPTURE(version.output);
  CHECK(version.code == 0);
  CHECK(version.output.rfind("scoresde 0.", 0) == 0);
  CHECK(version.output.find("(commit ") != std::string::npos);
  REQUIRE(scoresde("sample --target " + ring + " --steps 10 --n 20 --out v.npy").code == 0);
  const std::string summary = read_text("v.json");
  CHECK(summary.find("\"version\": \"0.") != std::string::npos);
  CHECK(summary.find("\"commit\": ") != std::string::npos);
}

TEST_CASE("--latents starts each sample from its own x_T") {
  // x_T of N(0, sigma_T^2 I) under VE; the probability-flow ODE maps each row on its own, so
  // permuting the latents permutes the samples, and the samples follow the ring.
  const int64_t n = 512;
  const torch::Tensor z = torch::randn({n, 2}, torch::TensorOptions().dtype(torch::kFloat64)) * 50.0;
  sde::save_npy("z.npy", z);
  const torch::Tensor order = torch::flip(torch::arange(n), {0});
  sde::save_npy("z_reversed.npy", z.index_select(0, order));
  const std::string args = "sample --target " + ring + " --sde ve --solver dpmpp-2m --steps 30 --schedule logsnr ";
  const Run run = scoresde(args + "--latents z.npy --out from_z.npy");  // --n: one per latent
  CAPTURE(run.output);
  REQUIRE(run.code == 0);
  REQUIRE(scoresde(args + "--latents z_reversed.npy --out from_reversed.npy").code == 0);
  const torch::Tensor x = sde::load_npy("from_z.npy"), reversed = sde::load_npy("from_reversed.npy");
  REQUIRE(x.size(0) == n);
  // Bit for bit: the solver's rows are independent and the model's calls see the same rows.
  CHECK(torch::equal(x.index_select(0, order), reversed));
  // On the ring: radius 4 within its spread (std 0.2 per coordinate) for nearly all samples.
  const double on_ring = ((x.norm(2, 1) - 4.0).abs() < 1.0).to(torch::kFloat64).mean().item<double>();
  CHECK(on_ring > 0.97);
  CHECK(read_text("from_z.json").find("\"latents\": \"z.npy\"") != std::string::npos);
  // --n takes the first rows; wrong shapes and too few rows are named.
  REQUIRE(scoresde(args + "--latents z.npy --n 10 --out first.npy").code == 0);
  CHECK(torch::equal(sde::load_npy("first.npy"), x.slice(0, 0, 10)));
  sde::save_npy("z3.npy", torch::zeros({5, 3}));
  CHECK(scoresde(args + "--latents z3.npy --out bad.npy").output.find("has shape [5, 3]") != std::string::npos);
  CHECK(scoresde(args + "--latents z.npy --n 1000 --out bad.npy").output.find("holds 512 latents for --n 1000") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists("bad.npy"));
}

TEST_CASE("--dtype float64 computes and writes float64") {
  REQUIRE(scoresde("sample --target " + ring + " --steps 10 --n 20 --dtype float64 --out d.npy").code == 0);
  CHECK((sde::load_npy("d.npy").scalar_type() == torch::kFloat64));
  CHECK(read_text("d.json").find("\"dtype\": \"float64\"") != std::string::npos);
}

TEST_CASE("a TorchScript file with a data scaler: sample, per-image PNGs, clamping, and its likelihood") {
  save_gaussian_module("gauss.pt");
  // Images: the model sees 2 x - 1 ~ N(0, I), so x ~ N(1/2, 1/4): --clamp keeps [0, 1].
  const std::string images = "sample --model gauss.pt --parameterization noise --conditioning sigma --shape 1,6,6 "
                             "--data-scale 2 --data-shift -1 --solver ddim --steps 10 --n 5 ";
  const Run run = scoresde(images + "--clamp --images pngs --out images.npy");
  CAPTURE(run.output);
  REQUIRE(run.code == 0);
  const torch::Tensor x = sde::load_npy("images.npy");
  CHECK(x.sizes() == torch::IntArrayRef({5, 1, 6, 6}));
  CHECK(x.min().item<double>() >= 0.0);
  CHECK(x.max().item<double>() <= 1.0);
  for (int i = 0; i < 5; ++i) {
    const sde::Image png = sde::load_png("pngs/00000" + std::to_string(i) + ".png");
    CHECK(png.width() == 6);
    CHECK(png.height() == 6);
  }
  CHECK(scoresde("sample --target " + ring + " --n 5 --clamp --out p.npy").output.find("for image samples") !=
        std::string::npos);
  // log p(x) = log N(2 x - 1; 0, I) + D log 2 in the data's units, for 2-D points.
  const torch::Tensor points = torch::tensor({{0.5, 0.5}, {1.0, 0.0}, {-0.3, 0.9}}, torch::kFloat64);
  sde::save_npy("points.npy", points);
  const Run likelihood = scoresde("likelihood --model gauss.pt --parameterization noise --conditioning sigma --shape 2 "
                                  "--data-scale 2 --data-shift -1 --rtol 1e-7 --atol 1e-7 --data points.npy --out logp.npy");
  CAPTURE(likelihood.output);
  REQUIRE(likelihood.code == 0);
  const torch::Tensor y = points * 2 - 1;
  const torch::Tensor exact = -0.5 * y.square().sum(1) - std::log(2 * M_PI) + 2 * std::log(2.0);
  // The ODE at 1e-7 tolerances in float32 arithmetic of the module: agreement to 1e-4 nats.
  CHECK(torch::allclose(sde::load_npy("logp.npy"), exact, 0, 1e-4));
}

TEST_CASE("--device names where the model runs, and refuses one this LibTorch lacks") {
  CHECK(scoresde("sample --target " + ring + " --steps 5 --n 5 --device cpu --out c.npy").code == 0);
  const Run gpu = scoresde("sample --target " + ring + " --steps 5 --n 5 --device cuda --out c.npy");
  if (gpu.code != 0) CHECK(gpu.output.find("sees no CUDA device") != std::string::npos);
  CHECK(scoresde("sample --target " + ring + " --n 5 --device tpu --out c.npy").output.find("--device tpu is not a device") !=
        std::string::npos);
}

TEST_CASE("other libraries' solver names run ours, and the summary says which") {
  const std::string args = "sample --target " + ring + " --steps 12 --n 50 --seed 2 ";
  REQUIRE(scoresde(args + "--solver k-diffusion:euler_ancestral --out a.npy").code == 0);
  REQUIRE(scoresde(args + "--solver ddim --eta 1 --out b.npy").code == 0);
  CHECK(torch::equal(sde::load_npy("a.npy"), sde::load_npy("b.npy")));
  CHECK(read_text("a.json").find("\"runs\": \"ddim\"") != std::string::npos);
  const Run aliases = scoresde("solvers --aliases");
  CHECK(aliases.output.find("diffusers:DPMSolverMultistepScheduler\tdpmpp-2m --lower-order-final 15") != std::string::npos);
}

TEST_CASE("sample --help lists the solvers and types every solver option with each solver's default") {
  const std::string help = scoresde("sample --help").output;
  CHECK(help.find("solver: em, reverse-diffusion, ancestral, pc, ddim") != std::string::npos);
  CHECK(help.find("--eta FLOAT") != std::string::npos);
  CHECK(help.find("ddim 0, dpmpp-2m-sde 1") != std::string::npos);
  CHECK(help.find("--corrector-steps INT") != std::string::npos);
  CHECK(help.find("--variant bh1|bh2") != std::string::npos);
  // Each command's TOML example names an option it has.
  CHECK(scoresde("likelihood --help").output.find("[likelihood] rtol = 1e-5") != std::string::npos);
  CHECK(scoresde("demo --help").output.find("[demo] train_steps = 100") != std::string::npos);
}

TEST_CASE("--config: a solver option the chosen solver lacks is left out with a note; typed, it is an error") {
  std::ofstream("run.toml") << "[sample]\ntarget = \"" << ring << "\"\nsolver = \"ode-dopri5\"\nrtol = 1e-4\nn = 20\n";
  const Run heun = scoresde("sample --config run.toml --solver heun --steps 5 --out h.npy");
  CAPTURE(heun.output);
  CHECK(heun.code == 0);
  CHECK(heun.output.find("note: heun has no option rtol; the --config value is not used") != std::string::npos);
  CHECK(scoresde("sample --config run.toml --solver heun --rtol 1e-4 --out h.npy").output.find("has no option --rtol") !=
        std::string::npos);
}

TEST_CASE("--model names a model everywhere: train takes its architecture as --network") {
  const Run old = scoresde("train --data toy:ring --model unet --out m");
  CHECK(old.code == 2);
  CHECK(old.output.find("the architecture is --network unet") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists("m"));
}

TEST_CASE("points of more than two dimensions get a scatter matrix") {
  REQUIRE(scoresde("sample --target " + sde::testing::data_path("aniso16.json") + " --steps 20 --n 300 --out m16.npy").code ==
          0);
  const sde::Image matrix = sde::load_png("m16.png");
  CHECK(matrix.width() >= 3 * 240);  // three panels a row: the six pairs of the first four coordinates
  CHECK(matrix.height() >= 2 * 240);
}

TEST_CASE("--clip-x0 and --threshold bound the data prediction within the data's range") {
  save_gaussian_module("gauss_bounded.pt");
  // The model sees 2 x - 1 ~ N(0, I): its model-space range is [-1, 1], [0, 1] in the data's units,
  // and the last Tweedie step returns the bounded prediction.
  const std::string images = "sample --model gauss_bounded.pt --parameterization noise --conditioning sigma --shape 1,6,6 "
                             "--data-scale 2 --data-shift -1 --solver dpmpp-2m --steps 10 --n 20 ";
  for (const std::string bound : {"--clip-x0", "--threshold 0.9"}) {
    CAPTURE(bound);
    const Run run = scoresde(images + bound + " --out bounded.npy");
    CAPTURE(run.output);
    REQUIRE(run.code == 0);
    const torch::Tensor x = sde::load_npy("bounded.npy");
    CHECK(x.min().item<double>() >= -1e-6);
    CHECK(x.max().item<double>() <= 1 + 1e-6);
    CHECK(read_text("bounded.json").find("\"x0_bounds\": \"") != std::string::npos);
  }
  // Without a range the model does not record, it is asked for; with one it runs.
  CHECK(scoresde("sample --target " + ring + " --clip-x0 --n 5 --out r.npy").output.find("give --x0-range") !=
        std::string::npos);
  REQUIRE(scoresde("sample --target " + ring + " --clip-x0 --x0-range -2,2 --steps 10 --n 50 --out r.npy").code == 0);
  CHECK(sde::load_npy("r.npy").abs().max().item<double>() <= 2 + 1e-6);
}

TEST_CASE("messages name options as the command line spells them, and train's scale as model.json records it") {
  // The solver's option table has keys (lower_order_final); the user typed flags.
  const Run eta = scoresde("sample --target " + ring + " --solver dpmpp-2m --eta 0.5 --n 10 --out s.npy");
  CAPTURE(eta.output);
  CHECK(eta.code == 1);
  CHECK(eta.output.find("solver 'dpmpp-2m' has no option --eta; its options: --lower-order-final") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists("s.npy"));
  // Images in [0, 1] are centred to [-1, 1] before --scale: the line says what the network sees.
  const Run train = scoresde("train --data fashion-mnist --network unet --channels 8 --channel-mult 1 --res-blocks 1 "
                             "--steps 1 --batch 2 --log-every 0 --out fashion_scale");
  CAPTURE(train.output);
  REQUIRE(train.code == 0);
  CHECK(train.output.find("data scale 1 (the network sees 2 x - 1)") != std::string::npos);
  const nlohmann::json meta = nlohmann::json::parse(read_text("fashion_scale/model.json"));
  CHECK(meta["data_scale"].get<double>() == 2.0);
  CHECK(meta["data_shift"].get<double>() == -1.0);
  // The help lists every accepted value.
  const Run help = scoresde("train --help");
  CHECK(help.output.find("velocity") != std::string::npos);
  CHECK(help.output.find("index") != std::string::npos);
}
