// The scoresde program, run as a user runs it: exit codes, messages and output files.
#include "testing.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <cmath>

#include "sde/io/image.hpp"
#include "sde/io/npy.hpp"
#include "sde/solve/likelihood.hpp"
#include "sde/solve/registry.hpp"
#include "sde/nn/trained_model.hpp"

namespace {

// Every file these tests write has a relative name: they all land in a temporary directory.
const sde::testing::ScratchDirectory scratch;

using Run = sde::testing::CommandResult;

Run scoresde(const std::string& args) { return sde::testing::run_command(std::string(SCORESDE_CLI) + " " + args); }

const std::string ring = sde::testing::data_path("ring8.json");

}  // namespace

TEST_CASE("scoresde sample writes an (n, D) float32 .npy and reports NFE") {
  const std::string out = "cli_test_samples.npy";
  std::filesystem::remove(out);
  const Run run = scoresde("sample --target " + ring + " --sde ve --steps 40 --n 300 --seed 4 --out " + out);
  CAPTURE(run.output);
  CHECK(run.code == 0);
  CHECK(run.output.find("NFE 41") != std::string::npos);
  const auto x = sde::load_npy(out);
  CHECK(x.sizes() == torch::IntArrayRef({300, 2}));
  CHECK((x.scalar_type() == torch::kFloat32));
  // Same seed, same output; --no-denoise saves the last NFE.
  const Run again = scoresde("sample --target " + ring + " --sde ve --steps 40 --n 300 --seed 4 --no-denoise --out " + out);
  CHECK(again.output.find("NFE 40") != std::string::npos);
  // Flow matching's process from T = 1 (a shifted uniform grid), and DDPM's discrete table.
  for (const std::string process : {"flow --shift 0.3", "discrete --schedule logsnr"}) {
    const Run run = scoresde("sample --target " + ring + " --sde " + process + " --solver dpmpp-2m --steps 10 --n 50 --out " + out);
    CAPTURE(run.output);
    CHECK(run.code == 0);
    CHECK(run.output.find("NFE 11") != std::string::npos);
  }
  for (const std::string solver : {"reverse-diffusion", "ancestral", "pc --corrector ald --corrector-steps 2 --snr 0.05"}) {
    const Run other = scoresde("sample --target " + ring + " --solver " + solver +
                               " --schedule karras --rho 5 --steps 20 --n 50 --out " + out);
    CAPTURE(other.output);
    CHECK(other.code == 0);
    CHECK(other.output.find(solver[0] == 'p' ? "NFE 61" : "NFE 21") != std::string::npos);
  }
  std::filesystem::remove(out);
}

TEST_CASE("scoresde rejects bad arguments with a message naming them") {
  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases = {
      {"sample --sde vp --n 10 --out x.npy", "needs --target MIXTURE.json (exact score) or --model (a trained model directory"},
      {"sample --target /nonexistent.json --n 10 --out x.npy", "/nonexistent.json"},
      {"sample --target " + ring + " --sde vq --n 10 --out x.npy", "--sde"},
      {"sample --target " + ring + " --n 10 --out x.npy --solver eulr", "unknown solver 'eulr'; known solvers: em, reverse-diffusion, ancestral, pc, ddim, euler, heun, dpmpp-2m, dpmpp-3m, dpmpp-2m-sde"},
      {"sample --target " + ring + " --n 10 --out x.npy --schedule log", "--schedule"},
      {"sample --target " + ring + " --n 10 --out x.npy --snr 0.1", "solver 'em' has no option --snr"},
      {"sample --target " + ring + " --n 10 --out x.npy --solver pc --corrector hmc", "corrector = 'hmc' is not one of"},
      {"sample --target " + ring + " --n 10 --out x.npy --steps 0", "steps = 0"},
      {"sample --target " + ring + " --n -5 --out x.npy", "--n"},
      {"sample --target " + ring + " --n 10 --out x.npy --sde ve --beta-min 0.2", "--beta-min/--beta-max apply to --sde vp|subvp"},
      {"sample --target " + ring + " --n 10 --out x.npy --beta-min 30", "beta_min must be < beta_max"},
      {"sample --target " + ring + " --n 10 --out /nonexistent/dir/x.npy", "cannot write '/nonexistent/dir/x.npy'"},
      {"sample --target " + ring + " --n 10 --out x.npy --sde flow --solver em", "em steps with them"},
      {"sample --target " + ring + " --n 10 --out x.npy --sde flow --solver ddim --schedule logsnr", "use the 'time' grid"},
      {"sample --target " + ring + " --n 10 --out x.npy --sde flow --shift 0", "shift = 0"},
      {"sample --target " + ring + " --n 10 --out x.npy --sde discrete --schedule-file /nonexistent.json",
       "cannot read /nonexistent.json"},
      {"frobnicate", "frobnicate"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const Run run = scoresde(c.args);
    CAPTURE(run.output);
    CHECK(run.code != 0);
    CHECK(run.output.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("every solver option is a flag of sample, checked by the chosen solver") {
  const std::string out = "cli_test_adaptive.npy";
  std::filesystem::remove(out);
  const Run adaptive = scoresde("sample --target " + ring + " --solver dpm-adaptive --rtol 0.01 --atol 0.01 --order 2 --n 200 --out " + out);
  CAPTURE(adaptive.output);
  CHECK(adaptive.code == 0);
  CHECK(adaptive.output.find("solver dpm-adaptive") != std::string::npos);
  CHECK(adaptive.output.find("(mean per sample ") != std::string::npos);
  CHECK(std::filesystem::exists(out));
  std::filesystem::remove(out);
  const Run wrong = scoresde("sample --target " + ring + " --solver ddim --rtol 0.01 --n 10 --out " + out);
  CAPTURE(wrong.output);
  CHECK(wrong.code == 1);
  CHECK(wrong.output.find("solver 'ddim' has no option --rtol; its options: --eta") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("scoresde likelihood writes log p per point and prints bits/dim") {
  const std::string points = "cli_test_points.npy", out = "cli_test_logp.npy";
  std::filesystem::remove(out);
  sde::save_npy(points, torch::tensor({{4.0, 0.0}, {0.0, -4.0}, {2.8, 2.8}}, torch::kFloat64));
  const Run run = scoresde("likelihood --target " + ring + " --data " + points + " --rtol 1e-6 --atol 1e-6 --out " + out);
  CAPTURE(run.output);
  CHECK(run.code == 0);
  CHECK(run.output.find("points 3  mean log p ") != std::string::npos);
  CHECK(run.output.find("bits/dim") != std::string::npos);
  const auto logp = sde::load_npy(out);
  CHECK(logp.sizes() == torch::IntArrayRef({3}));
  CHECK((logp.scalar_type() == torch::kFloat64));
  std::filesystem::remove(out);
  const Run wrong = scoresde("likelihood --target " + sde::testing::data_path("aniso16.json") + " --data " + points + " --out " + out);
  CHECK(wrong.code == 1);
  CHECK(wrong.output.find("has shape [3, 2]; the model takes [3, 16]") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("scoresde train writes a model directory that sample loads; --resume continues it exactly") {
  const std::string dir = "cli_test_model", resumed = "cli_test_model_resumed";
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(resumed);
  const std::string common = " --data toy:moons --sde subvp --width 16 --depth 2 --batch 64 --seed 3 --log-every 5";
  const Run train = scoresde("train" + common + " --steps 20 --out " + dir);
  CAPTURE(train.output);
  REQUIRE(train.code == 0);
  CHECK(train.output.find("step      20/20  loss") != std::string::npos);
  CHECK(std::filesystem::exists(dir + "/model.json"));
  CHECK(std::filesystem::exists(dir + "/checkpoint.pt"));
  // Ten steps, then ten more from the checkpoint: the same weights as twenty at once.
  REQUIRE(scoresde("train" + common + " --steps 10 --out " + resumed).code == 0);
  const Run more = scoresde("train" + common + " --steps 20 --resume --out " + resumed);
  CAPTURE(more.output);
  CHECK(more.output.find("from step 10 to 20") != std::string::npos);
  const std::string a = "cli_test_model_a.npy", b = "cli_test_model_b.npy";
  const Run sample = scoresde("sample --model " + dir + " --solver ddim --steps 10 --n 100 --out " + a);
  CAPTURE(sample.output);
  CHECK(sample.code == 0);
  CHECK(sample.output.find("sde subvp") != std::string::npos);
  REQUIRE(scoresde("sample --model " + resumed + " --solver ddim --steps 10 --n 100 --out " + b).code == 0);
  CHECK(torch::equal(sde::load_npy(a), sde::load_npy(b)));
  CHECK(sde::load_npy(a).sizes() == torch::IntArrayRef({100, 2}));
  // The model knows its SDE; the exact score and a model exclude each other.
  CHECK(scoresde("sample --model " + dir + " --sde ve --n 10 --out " + a).output.find("drop --sde") != std::string::npos);
  CHECK(scoresde("sample --model " + dir + " --target " + ring + " --n 10 --out " + a).code != 0);
  CHECK(scoresde("train --data toy:spiral --steps 5 --out " + dir).output.find("spiral") != std::string::npos);
  CHECK(scoresde("sample --model /nonexistent_model --n 10 --out " + a).output.find("/nonexistent_model") != std::string::npos);
  // A recommended sampler in model.json fills in what the command line leaves out, and only that.
  const auto recommend = [&](const nlohmann::json& sampler) {
    nlohmann::json j = nlohmann::json::parse(std::ifstream(dir + "/model.json"));
    j["sampler"] = sampler;
    std::ofstream(dir + "/model.json") << j.dump(2);
  };
  const auto summary = [](const std::string& npy) {
    return nlohmann::json::parse(std::ifstream(npy.substr(0, npy.size() - 4) + ".json"));
  };
  recommend({{"solver", "dpmpp-2m"}, {"steps", 7}, {"schedule", "logsnr"}});
  const Run recommended = scoresde("sample --model " + dir + " --n 10 --out " + a);
  CAPTURE(recommended.output);
  CHECK(recommended.output.find("the model's recommended sampler: --solver dpmpp-2m --steps 7 --schedule logsnr") !=
        std::string::npos);
  CHECK(summary(a)["solver"] == "dpmpp-2m");
  CHECK(summary(a)["steps"] == 7);
  REQUIRE(scoresde("sample --model " + dir + " --solver heun --n 10 --out " + a).code == 0);
  CHECK(summary(a)["solver"] == "heun");
  CHECK(summary(a)["steps"] == 7);
  CHECK_FALSE(summary(a).contains("x0_bounds"));
  // Clipping needs the data's range, which a model of points does not have.
  recommend({{"solver", "dpmpp-2m"}, {"clip_x0", true}});
  CHECK(scoresde("sample --model " + dir + " --n 10 --out " + a).output.find("sampler.clip_x0 needs the data's range") !=
        std::string::npos);
  recommend({{"solver", "dpm-solver-9"}});
  const Run unknown = scoresde("sample --model " + dir + " --n 10 --out " + a);
  CHECK(unknown.code == 1);
  CHECK(unknown.output.find("sampler: unknown solver 'dpm-solver-9'") != std::string::npos);
  for (const auto& path : {a, b}) std::filesystem::remove(path);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(resumed);
}

TEST_CASE("scoresde sample --model FILE.pt samples a TorchScript network with its meaning named") {
  // eps(x, sigma) = sigma x: with `noise` and `sigma` named, the exact score -x of N(0, I) under VP,
  // whose probability-flow drift -beta x / 2 - beta s / 2 is then zero: the samples are the prior
  // draw, N(0, I). A misread output or label makes the drift non-zero and the variance moves.
  torch::jit::Module m("m");
  m.define(R"(
def forward(self, x, label):
    return label.view(-1, 1) * x
)");
  const std::string path = "cli_test_module.pt", out = "cli_test_module.npy";
  m.save(path);
  const std::string named = " --parameterization noise --conditioning sigma --shape 2";
  const Run run = scoresde("sample --model " + path + named + " --sde vp --solver ode-dopri5 --no-denoise --n 4000 --out " + out);
  CAPTURE(run.output);
  REQUIRE(run.code == 0);
  const auto x = sde::load_npy(out).to(torch::kFloat64);
  // N(0, I): each coordinate's variance within 4 standard errors (sqrt(2 / n)) of 1.
  CHECK((x.var(0) - 1.0).abs().max().item<double>() < 4 * std::sqrt(2.0 / 4000));
  CHECK(scoresde("sample --model " + path + " --sde vp --n 10 --out " + out).output.find("give --parameterization") !=
        std::string::npos);
  CHECK(scoresde("sample --target " + ring + named + " --n 10 --out " + out).output.find("describe a TorchScript") !=
        std::string::npos);
  std::filesystem::remove(path);
  std::filesystem::remove(out);
}

TEST_CASE("sample and likelihood batch image samples by default (memory); points stay one batch") {
  // eps(x, sigma) = sigma x on 1 x 16 x 16 images: 256 entries a sample, so the default batch is
  // 2^18 / 256 = 1024 samples. The module is elementwise, so its samples cannot depend on the
  // batches: the default and --batch 0 (one batch) agree bit for bit.
  torch::jit::Module m("m");
  m.define(R"(
def forward(self, x, label):
    return label.view(-1, 1, 1, 1) * x
)");
  m.save("batch_module.pt");
  const std::string model =
      "--model batch_module.pt --parameterization noise --conditioning sigma --sde vp --shape 1,16,16 ";
  const auto batch_of = [](const std::string& json) {
    std::ifstream in(json);
    return nlohmann::json::parse(in).at("batch").get<int64_t>();
  };
  const std::string sample = "sample --solver ddim --steps 3 ";
  REQUIRE(scoresde(sample + model + "--n 1500 --out default.npy").code == 0);
  CHECK(batch_of("default.json") == 1024);
  REQUIRE(scoresde(sample + model + "--n 1500 --batch 0 --out whole.npy").code == 0);
  CHECK(batch_of("whole.json") == 0);
  CHECK(torch::equal(sde::load_npy("default.npy"), sde::load_npy("whole.npy")));
  REQUIRE(scoresde(sample + "--target " + ring + " --n 10 --out points.npy").code == 0);
  CHECK(batch_of("points.json") == 0);

  sde::save_npy("images.npy", torch::rand({3, 1, 16, 16}));
  const std::string likelihood = "likelihood --data images.npy --trace hutchinson ";
  REQUIRE(scoresde(likelihood + model + "--out logp.npy").code == 0);
  CHECK(batch_of("logp.json") == 1024);
  REQUIRE(scoresde(likelihood + model + "--batch 2 --out logp2.npy").code == 0);
  CHECK(batch_of("logp2.json") == 2);
}

TEST_CASE("scoresde likelihood --model gives log p in the data's units") {
  // A model trained briefly with --scale 0.25 sees x / 4: the program must report
  // log p(x) = log p_model(x / 4) + D log(1/4), which the library gives for the same model.
  const std::string dir = "cli_test_likelihood_model", points = "cli_test_likelihood_points.npy",
                    out = "cli_test_likelihood_logp.npy";
  std::filesystem::remove_all(dir);
  REQUIRE(scoresde("train --data toy:moons --sde vp --width 16 --depth 2 --steps 30 --batch 64 --scale 0.25 --log-every 0 --out " +
                   dir).code == 0);
  sde::save_npy(points, torch::tensor({{0.0, 1.0}, {1.0, -0.5}, {2.0, 0.25}}, torch::kFloat64));
  const Run run = scoresde("likelihood --model " + dir + " --data " + points + " --out " + out);
  CAPTURE(run.output);
  REQUIRE(run.code == 0);
  const auto log_p = sde::load_npy(out);
  CHECK(log_p.sizes() == torch::IntArrayRef({3}));
  CHECK(torch::isfinite(log_p).all().item<bool>());
  const sde::LoadedModel model = sde::load_trained_model(dir);
  const auto direct = sde::log_likelihood(*model.sde, *model.score, sde::load_npy(points) * 0.25, sde::LikelihoodOptions{});
  REQUIRE(direct.ok());
  CHECK(torch::allclose(log_p, direct.log_p + 2 * std::log(0.25), 0, 1e-9));
  CHECK(scoresde("likelihood --model " + dir + " --sde ve --data " + points + " --out " + out).output.find("drop --sde") !=
        std::string::npos);
  CHECK(scoresde("likelihood --target " + ring + " --data fashion-mnist:test --out " + out).output.find("needs --model") !=
        std::string::npos);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(points);
  std::filesystem::remove(out);
}

TEST_CASE("scoresde demo --quick trains, samples with every solver family and writes its files") {
  const std::string out = "cli_test_demo";
  std::filesystem::remove_all(out);
  const Run run = scoresde("demo --quick --out " + out);
  CAPTURE(run.output);
  REQUIRE(run.code == 0);
  for (const std::string solver : {"em", "pc", "ancestral", "ode-dopri5", "ddim", "heun", "dpmpp-2m", "dpmpp-3m",
                                   "dpm-adaptive", "sde-adaptive"}) {
    CAPTURE(solver);
    CHECK(sde::load_npy(out + "/samples/" + solver + ".npy").sizes() == torch::IntArrayRef({500, 2}));
  }
  const sde::Image gallery = sde::load_png(out + "/gallery.png");
  CHECK(gallery.width() > 4 * 240);   // four panels of 240 pixels in a row
  CHECK(gallery.height() > 3 * 240);  // eleven panels: three rows
  CHECK(std::filesystem::file_size(out + "/demo.md") > 0);
  CHECK(std::filesystem::file_size(out + "/summary.json") > 0);
  CHECK(run.output.find("wrote") != std::string::npos);
  // Same seed, same samples.
  const auto first = sde::load_npy(out + "/samples/ddim.npy");
  REQUIRE(scoresde("demo --quick --out " + out).code == 0);
  CHECK(torch::equal(first, sde::load_npy(out + "/samples/ddim.npy")));
  std::filesystem::remove_all(out);
}

TEST_CASE("scoresde demo --sde flow trains a velocity network and samples with solvers that start at alpha = 0") {
  // It was refused: a noise-predicting network and em cannot start where alpha(T) = 0.
  const std::string out = "cli_test_demo_flow";
  std::filesystem::remove_all(out);
  const Run run = scoresde("demo --quick --sde flow --out " + out);
  CAPTURE(run.output);
  REQUIRE(run.code == 0);
  CHECK(nlohmann::json::parse(std::ifstream(out + "/model/model.json"))["parameterization"] == "velocity");
  for (const std::string solver : {"euler", "ddim", "ode-dopri5", "dpmpp-2m", "dpmpp-3m", "dpmpp-2m-sde", "unipc"}) {
    CAPTURE(solver);
    CHECK(sde::load_npy(out + "/samples/" + solver + ".npy").sizes() == torch::IntArrayRef({500, 2}));
  }
  std::filesystem::remove_all(out);
}

TEST_CASE("--config reads a command's options from TOML; flags on the command line override it") {
  const std::string config = "cli_test_run.toml", out = "cli_test_config.npy";
  std::ofstream(config) << "# options per command\n[sample]\ntarget = \"" << ring
                        << "\"\nsde = \"ve\"\nsteps = 40\nn = 30\nno_denoise = true\nout = \"" << out
                        << "\"\n\n[train]\nsteps = 5\n";
  const Run from_file = scoresde("sample --config " + config);
  CAPTURE(from_file.output);
  CHECK(from_file.code == 0);
  CHECK(from_file.output.find("NFE 40") != std::string::npos);  // 40 steps, no denoising step
  const Run overridden = scoresde("--config " + config + " sample --steps 20");
  CHECK(overridden.output.find("NFE 20") != std::string::npos);
  CHECK(sde::load_npy(out).size(0) == 30);

  // The summary and the picture beside the samples.
  CHECK(std::filesystem::exists("cli_test_config.json"));
  CHECK(sde::load_png("cli_test_config.png").width() > 400);
  std::ifstream summary("cli_test_config.json");
  const std::string json((std::istreambuf_iterator<char>(summary)), std::istreambuf_iterator<char>());
  CHECK(json.find("\"nfe\": 20") != std::string::npos);
  CHECK(json.find("\"sliced_w2\"") != std::string::npos);

  std::ofstream("cli_test_bad.toml") << "[sample]\nstepz = 3\n";
  const Run unknown = scoresde("sample --config cli_test_bad.toml");
  CHECK(unknown.code == 2);
  CHECK(unknown.output.find("[sample] has no option 'stepz'") != std::string::npos);
  std::ofstream("cli_test_bad.toml") << "steps = 3\n";
  CHECK(scoresde("sample --config cli_test_bad.toml").output.find("not in a table named after a command") !=
        std::string::npos);
  CHECK(scoresde("sample --config missing.toml").output.find("cannot read missing.toml") != std::string::npos);
  for (const std::string f : {config, out, std::string("cli_test_config.json"), std::string("cli_test_config.png"),
                              std::string("cli_test_bad.toml")})
    std::filesystem::remove(f);
}

TEST_CASE("--threads sets LibTorch's thread count for any command and refuses nonsense") {
  CHECK(scoresde("solvers --threads 2").code == 0);
  const Run bad = scoresde("solvers --threads 0");
  CHECK(bad.code != 0);
  CHECK(bad.output.find("--threads") != std::string::npos);
}

TEST_CASE("scoresde sample controls generation: --class, --guidance, --classifier, --known/--mask, --start") {
  const std::string labelled = sde::testing::data_path("ring8_labelled.json"), out = "cli_test_control.npy";
  const std::string common = " --solver dpmpp-2m --schedule logsnr --steps 25 --n 400 --out " + out;
  // One class of the labelled ring (classes k mod 4): its samples on the class's two modes, and the
  // summary measures them against that class's sub-mixture.
  const Run one = scoresde("sample --target " + labelled + " --class 1" + common);
  CAPTURE(one.output);
  REQUIRE(one.code == 0);
  const auto x = sde::load_npy(out).to(torch::kFloat64);
  const auto angle = torch::atan2(x.select(1, 1), x.select(1, 0));
  const auto nearest = torch::remainder(torch::round(angle / (M_PI / 4)), 8).to(torch::kInt64);
  CHECK(torch::remainder(nearest, 4).eq(1).all().item<bool>());
  CHECK(one.output.find("sliced W2 to exact samples") != std::string::npos);
  // Guidance on top; the exact classifier of the labelled target; all classes at once.
  for (const std::string control : {"--class 2 --guidance 2 --guidance-interval 0.1,10", "--class 3 --classifier exact",
                                    "--class all --classifier exact --classifier-scale 2"}) {
    const Run run = scoresde("sample --target " + labelled + " " + control + common);
    CAPTURE(control);
    CAPTURE(run.output);
    CHECK(run.code == 0);
  }
  // Refusals that name the fix.
  CHECK(scoresde("sample --target " + labelled + " --class 4" + common).output.find("classes are 0..3") != std::string::npos);
  CHECK(scoresde("sample --target " + ring + " --class 1" + common).output.find("no classes") != std::string::npos);
  CHECK(scoresde("sample --target " + labelled + " --guidance 2" + common).output.find("give --class") != std::string::npos);
  CHECK(scoresde("sample --target " + labelled + " --class x" + common).output.find("or 'all'") != std::string::npos);

  // Inpainting: the first coordinate known (4 for every sample), exactly so in the output.
  const std::string known = "cli_test_known.npy", mask = "cli_test_mask.npy";
  sde::save_npy(known, torch::tensor({4.0f, 0.0f}));
  sde::save_npy(mask, torch::tensor({1.0f, 0.0f}));
  const Run inpaint = scoresde("sample --target " + ring + " --known " + known + " --mask " + mask + common);
  CAPTURE(inpaint.output);
  REQUIRE(inpaint.code == 0);
  CHECK(sde::load_npy(out).select(1, 0).eq(4.0f).all().item<bool>());
  CHECK(scoresde("sample --target " + ring + " --known " + known + common).output.find("both --known and --mask") !=
        std::string::npos);
  // RePaint keeps them exactly too; DPS (a noisy measurement) comes close to them.
  const Run repainted = scoresde("sample --target " + ring + " --known " + known + " --mask " + mask +
                                 " --resamplings 3 --jump-length 5" + common);
  CAPTURE(repainted.output);
  REQUIRE(repainted.code == 0);
  CHECK(repainted.output.find("NFE 76") != std::string::npos);  // 25 steps x 3 passes, + the final denoising call
  CHECK(sde::load_npy(out).select(1, 0).eq(4.0f).all().item<bool>());
  const Run dps = scoresde("sample --target " + ring + " --known " + known + " --mask " + mask + " --measurement-noise 0.1" + common);
  CAPTURE(dps.output);
  REQUIRE(dps.code == 0);
  // Mean |x_1 - 4|: 4.0 for the whole ring, 0.65 measured (DPS puts some samples on the neighbouring
  // modes at x_1 = 2.83: its likelihood approximation is loose at high noise; docs/guidance.md).
  CHECK((sde::load_npy(out).select(1, 0) - 4.0f).abs().mean().item<float>() < 1.0f);
  CHECK(scoresde("sample --target " + ring + " --resamplings 3" + common).output.find("give --known and --mask") !=
        std::string::npos);
  // SDEdit from one point at a small t0 stays near it.
  sde::save_npy(known, torch::tensor({{0.0f, 4.0f}}));
  const Run edit = scoresde("sample --target " + ring + " --start " + known + " --start-time 0.05" + common);
  CAPTURE(edit.output);
  REQUIRE(edit.code == 0);
  CHECK((sde::load_npy(out).mean(0) - torch::tensor({0.0f, 4.0f})).abs().max().item<float>() < 0.2f);
  CHECK(scoresde("sample --target " + ring + " --start " + known + " --start-time 2" + common).output.find("(0, T]") !=
        std::string::npos);
  for (const auto& path : {out, known, mask}) std::filesystem::remove(path);
}

TEST_CASE("scoresde train --classes trains a class-conditional network that sample guides") {
  const std::string dir = "cli_test_conditional", out = "cli_test_conditional.npy";
  std::filesystem::remove_all(dir);
  const Run train = scoresde("train --data toy:ring --classes 8 --label-dropout 0.2 --width 16 --depth 2 --batch 64 "
                             "--steps 20 --log-every 0 --out " + dir);
  CAPTURE(train.output);
  REQUIRE(train.code == 0);
  const Run sample = scoresde("sample --model " + dir + " --class 5 --guidance 2 --solver ddim --steps 10 --n 50 --out " + out);
  CAPTURE(sample.output);
  CHECK(sample.code == 0);
  CHECK(scoresde("train --data toy:ring --classes 3 --steps 5 --out " + dir).output.find("--classes 8") != std::string::npos);
  // A noisy classifier of the ring's components, trained at the target's scale, guides the exact score.
  const std::string classifier = "cli_test_classifier";
  const Run trained = scoresde("train --data toy:ring --objective classifier --scale 1 --width 16 --depth 2 --batch 64 "
                               "--steps 20 --log-every 0 --out " + classifier);
  CAPTURE(trained.output);
  REQUIRE(trained.code == 0);
  const Run guided = scoresde("sample --target " + ring + " --class 2 --classifier " + classifier +
                              " --solver ddim --steps 10 --n 50 --out " + out);
  CAPTURE(guided.output);
  CHECK(guided.code == 0);
  CHECK(scoresde("sample --model " + classifier + " --n 5 --out " + out).output.find("not a score model") != std::string::npos);
  CHECK(scoresde("sample --target " + ring + " --sde ve --class 2 --classifier " + classifier + " --n 5 --out " + out)
            .output.find("trained under vp") != std::string::npos);
  std::filesystem::remove_all(classifier);
  CHECK(scoresde("train --data toy:ring --label-dropout 1 --classes 8 --steps 5 --out " + dir).output.find("label_dropout") !=
        std::string::npos);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(out);
}

TEST_CASE("scoresde sample --times and --sigmas: explicit grids, replayed from the summary bit for bit; --first") {
  const std::string out = "cli_test_grid.npy", again = "cli_test_grid_again.npy";
  const auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const auto summary = [](const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
  };
  // A Karras run, then the same run from its summary's sigmas and from its times: the same samples.
  for (const std::string process : {"vp", "ve", "edm"}) {
    CAPTURE(process);
    const std::string common = " --target " + ring + " --sde " + process + " --solver dpmpp-2m --n 64 --seed 5";
    const Run karras = scoresde("sample" + common + " --schedule karras --steps 12 --out " + out);
    CAPTURE(karras.output);
    REQUIRE(karras.code == 0);
    const nlohmann::json recorded = summary("cli_test_grid.json");
    CHECK(recorded["times"].size() == 13);
    CHECK(recorded["grid"] == "karras (N = 12, rho 7, eps 0.001)");
    for (const std::string key : {"sigmas", "times"}) {
      const Run replay = scoresde("sample" + common + " --" + key + " cli_test_grid.json --out " + again);
      CAPTURE(replay.output);
      REQUIRE(replay.code == 0);
      CHECK(bytes(again) == bytes(out));
      CHECK(summary("cli_test_grid_again.json")["times"] == recorded["times"]);
    }
  }
  // A list; --first 37 --n 1 re-renders sample 37 of the 64.
  const std::string common = " --target " + ring + " --solver ddim --seed 5";
  REQUIRE(scoresde("sample" + common + " --times 1,0.6,0.3,0.1,0.001 --n 64 --out " + out).code == 0);
  const Run one = scoresde("sample" + common + " --times 1,0.6,0.3,0.1,0.001 --first 37 --n 1 --out " + again);
  CAPTURE(one.output);
  REQUIRE(one.code == 0);
  CHECK(one.output.find("NFE 5") != std::string::npos);
  CHECK(torch::equal(sde::load_npy(again)[0], sde::load_npy(out)[37]));
  CHECK(summary("cli_test_grid_again.json")["first"] == 37);
  // Refused with the reason: a grid that does not decrease, a sigma the process never reaches, a
  // formula option beside an explicit grid, an adaptive solver on explicit times.
  CHECK(scoresde("sample" + common + " --times 1,0.3,0.6 --n 4 --out " + out).output.find("is not below") != std::string::npos);
  CHECK(scoresde("sample" + common + " --sigmas 500,1,0.01 --n 4 --out " + out).output.find("largest noise level") !=
        std::string::npos);
  CHECK(scoresde("sample" + common + " --times 1,0.5,0.1 --steps 4 --n 4 --out " + out).output.find("excludes") !=
        std::string::npos);
  CHECK(scoresde("sample" + common + " --times 1,0.5,x --n 4 --out " + out).output.find("'x' is not a number") !=
        std::string::npos);
  CHECK(scoresde("sample --target " + ring + " --solver ode-dopri5 --times 1,0.5,0.1 --n 4 --out " + out)
            .output.find("chooses its own steps") != std::string::npos);
  for (const auto& path : {out, again}) std::filesystem::remove(path);
}

TEST_CASE("RePaint steps through the grid's own times, shifted or not") {
  // Each segment is a slice of the one grid: a shift applies once (issue 33's reproducer failed with
  // "shift = 3 moves t_1 = 0.563 outside (eps, start)": each segment's grid was shifted again).
  const std::string out = "cli_test_repaint.npy", known = "cli_test_repaint_known.npy", mask = "cli_test_repaint_mask.npy";
  sde::save_npy(known, torch::tensor({{1.0f, 0.0f}}));
  sde::save_npy(mask, torch::tensor({{1.0f, 0.0f}}));
  const std::string common = " --target " + ring + " --sde flow --shift 3 --solver euler --steps 8 --n 200 --known " +
                             known + " --mask " + mask + " --out " + out;
  const Run plain = scoresde("sample" + common);
  REQUIRE(plain.code == 0);
  std::ifstream plain_summary("cli_test_repaint.json");
  const nlohmann::json grid = nlohmann::json::parse(plain_summary)["times"];
  const Run repaint = scoresde("sample" + common + " --resamplings 2 --jump-length 4");
  CAPTURE(repaint.output);
  REQUIRE(repaint.code == 0);
  CHECK(repaint.output.find("NFE 17") != std::string::npos);  // 8 steps x 2 passes + denoising
  std::ifstream repaint_summary("cli_test_repaint.json");
  CHECK(nlohmann::json::parse(repaint_summary)["times"] == grid);
  CHECK(sde::load_npy(out).select(1, 0).eq(1.0f).all().item<bool>());
  for (const auto& path : {out, known, mask}) std::filesystem::remove(path);
}

TEST_CASE("a summary records the whole run, and --replay reproduces its samples bit for bit with every solver") {
  // Runs that differ only in a solver option (heun's s_churn) once had summaries that differed only
  // in their output's name.
  const std::string labelled = sde::testing::data_path("ring8_labelled.json");
  const auto summary_of = [](const std::string& npy) {
    return nlohmann::json::parse(std::ifstream(npy.substr(0, npy.size() - 4) + ".json"));
  };
  const auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  REQUIRE(scoresde("sample --target " + ring + " --solver heun --schedule karras --s-churn 0 --steps 8 --n 20 "
                   "--out churn0.npy").code == 0);
  REQUIRE(scoresde("sample --target " + ring + " --solver heun --schedule karras --s-churn 5 --steps 8 --n 20 "
                   "--out churn5.npy").code == 0);
  const nlohmann::json churn0 = summary_of("churn0.npy"), churn5 = summary_of("churn5.npy");
  CHECK(churn0["solver_options"]["s_churn"] == "0");
  CHECK(churn5["solver_options"]["s_churn"] == "5");
  CHECK(churn5["solver_options"].contains("s_noise"));  // the options not given, at their defaults
  CHECK(churn5["options"]["schedule"] == "karras");
  CHECK(churn5["options"]["rho"] == "7");
  CHECK(churn5["inputs"][0]["path"] == std::filesystem::absolute(ring).lexically_normal().string());
  CHECK(churn5["version"].is_string());
  // Every registered solver, under guidance towards a class: the replay's samples are the run's.
  for (const sde::SolverInfo& info : sde::registered_solvers()) {
    CAPTURE(info.name);
    const std::string steps = info.uses_time_grid ? " --steps 6" : "";
    const Run run = scoresde("sample --target " + labelled + " --class 1 --guidance 0.5 --solver " + info.name + steps +
                             " --n 30 --seed 7 --out run.npy");
    CAPTURE(run.output);
    REQUIRE(run.code == 0);
    const Run replay = scoresde("sample --replay run.json --out replay.npy");
    CAPTURE(replay.output);
    REQUIRE(replay.code == 0);
    CHECK(bytes("run.npy") == bytes("replay.npy"));
    CHECK(summary_of("replay.npy")["command"] == summary_of("run.npy")["command"]);
  }
  // A likelihood replays too; a changed input or an option beside --replay is refused.
  sde::save_npy("replay_points.npy", torch::randn({8, 2}, torch::kFloat64));
  REQUIRE(scoresde("likelihood --target " + ring + " --data replay_points.npy --out lik.npy").code == 0);
  REQUIRE(scoresde("likelihood --replay lik.json --out lik2.npy").code == 0);
  CHECK(bytes("lik.npy") == bytes("lik2.npy"));
  const Run other = scoresde("sample --replay run.json --n 5 --out x.npy");
  CHECK(other.code == 2);
  CHECK(other.output.find("--n cannot change it") != std::string::npos);
  sde::save_npy("replay_points.npy", torch::randn({8, 2}, torch::kFloat64) + 1);
  const Run changed = scoresde("likelihood --replay lik.json --out lik3.npy");
  CHECK(changed.code == 2);
  CHECK(changed.output.find("replay_points.npy has changed since the run") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists("lik3.npy"));
}
