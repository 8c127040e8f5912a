// TorchScript models: a module built and saved from C++ (and, where Debian's python3-torch is
// installed, one exported from Python) loads as the score model it is, with its parameterization
// and labels named; bad files and signatures fail at load time with the reason.
#include "testing.hpp"

#include <torch/script.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sde/core/errors.hpp"
#include "sde/core/random.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/core/torchscript_model.hpp"

namespace {

using sde::testing::temp_file;

// forward(x, label) with the given body, saved to a file. Its parameter requires grad, as those of
// a module saved from Python do.
std::string save_module(const std::string& name, const std::string& forward) {
  torch::jit::Module m("m");
  m.register_parameter("gain", torch::ones({1}).requires_grad_(), false);
  m.define(forward);
  const std::string path = temp_file(name);
  m.save(path);
  return path;
}

// Data N(0, I) under VP: x_t ~ N(0, I), the score is -x and E[eps | x_t] = sigma x_t. A network
// eps(x, sigma) = sigma x, with `noise` and `sigma` named, must give -x exactly (to rounding).
void check_exact_score(const sde::TorchScriptScoreModel& model) {
  const auto x = sde::NoiseStream(1).normal({0, 64}, {2}, 0, torch::kFloat64);
  const auto t = sde::NoiseStream(1).uniform({0, 64}, {}, 1, torch::kFloat64) * 0.99 + 0.01;
  const auto s = model.score(x, t);
  CHECK(bool(s.scalar_type() == torch::kFloat64));
  CHECK((s + x).abs().max().item<double>() < 1e-5);  // the module computes in float32
}

}  // namespace

TEST_CASE("a TorchScript module from C++ loads as the score model its parameterization and labels say") {
  const std::string path = save_module("sigma_x.pt", R"(
def forward(self, x, label):
    return self.gain * label.view(-1, 1) * x
)");
  const auto vp = sde::make_sde({"vp"});
  const sde::TorchScriptScoreModel model(path, vp, sde::Parameterization::kNoise, sde::TimeConditioning::kSigma, {2});
  CHECK(model.sample_shape() == std::vector<int64_t>{2});
  check_exact_score(model);
  // No graph on the output unless x asks for one: the solvers' out= arithmetic refuses graphs.
  CHECK_FALSE(model.score(torch::ones({3, 2}), torch::full({3}, 0.5)).requires_grad());
  CHECK(model.score(torch::ones({3, 2}).requires_grad_(), torch::full({3}, 0.5)).requires_grad());
  // Named wrongly (t labels instead of sigma), the same file is another score: the names matter.
  const sde::TorchScriptScoreModel wrong(path, vp, sde::Parameterization::kNoise, sde::TimeConditioning::kTime, {2});
  const auto x = torch::ones({3, 2});
  CHECK_FALSE(torch::allclose(wrong.score(x, torch::full({3}, 0.5)), -x));
}

TEST_CASE("bad TorchScript files and signatures fail at load time, naming the file and the problem") {
  const auto vp = sde::make_sde({"vp"});
  const auto load = [&](const std::string& path) {
    sde::TorchScriptScoreModel(path, vp, sde::Parameterization::kNoise, sde::TimeConditioning::kTime, {2});
  };
  CHECK_THROWS_WITH_AS(load("/nonexistent/model.pt"), doctest::Contains("/nonexistent/model.pt"), sde::FileError);
  const std::string garbage = temp_file("garbage.pt");
  std::ofstream(garbage) << "not a model";
  CHECK_THROWS_WITH_AS(load(garbage), doctest::Contains("cannot load the TorchScript model"), sde::FileError);
  const std::string one_input = save_module("one_input.pt", R"(
def forward(self, x):
    return x
)");
  CHECK_THROWS_WITH_AS(load(one_input), doctest::Contains("must take (x, label)"), sde::InvalidArgument);
  const std::string reduces = save_module("reduces.pt", R"(
def forward(self, x, label):
    return x.sum(1)
)");
  // (The probe's two samples reach the module in a block of 2048 rows: ParameterizedScoreModel.)
  CHECK_THROWS_WITH_AS(load(reduces), doctest::Contains("returned [2048] for x of shape [2048, 2]"), sde::InvalidArgument);
  // Integer and complex outputs were cast to x's dtype without a word (rounded; imaginary part dropped).
  const std::string integers = save_module("integers.pt", R"(
def forward(self, x, label):
    return (x * 10).long()
)");
  CHECK_THROWS_WITH_AS(load(integers), doctest::Contains("returned Long values; a score network returns floating point"),
                       sde::InvalidArgument);
  const std::string complex_out = save_module("complex.pt", R"(
def forward(self, x, label):
    return torch.complex(x, x)
)");
  CHECK_THROWS_WITH_AS(load(complex_out), doctest::Contains("returned ComplexFloat values"), sde::InvalidArgument);
}

TEST_CASE("a model exported from Python loads and gives the exact score (needs python3-torch)") {
  const std::string path = temp_file("from_python.pt");
  const std::string script = std::string(SCORESDE_SOURCE_DIR) + "/scripts/export_torchscript_example.py";
  if (std::system("/usr/bin/python3 -c 'import torch' > /dev/null 2>&1") != 0) {
    MESSAGE("skipped: /usr/bin/python3 cannot import torch (apt install python3-torch to run this test)");
    return;
  }
  REQUIRE(std::system(("/usr/bin/python3 " + script + " " + path).c_str()) == 0);
  const sde::TorchScriptScoreModel model(path, sde::make_sde({"vp"}), sde::Parameterization::kNoise,
                                         sde::TimeConditioning::kSigma, {2});
  check_exact_score(model);
}
