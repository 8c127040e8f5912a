// The adaptive solvers' controller and the per-sample-time paths they use; EDM churn for heun.
#include "testing.hpp"

#include <map>

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/reverse_sde.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/solve/registry.hpp"

using sde::testing::data_path;

namespace {

sde::SolverParams params_of(std::map<std::string, std::string> values) {
  return sde::SolverParams(std::move(values));
}

// Returns NaN for every t below a threshold (and the unit Gaussian's score above it).
class NanBelow final : public sde::ScoreModel {
 public:
  explicit NanBelow(double t) : t_(t) {}
  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override {
    return torch::where(sde::per_sample(t, x) < t_, torch::full_like(x, NAN), -x);
  }
  std::vector<int64_t> sample_shape() const override { return {2}; }

 private:
  double t_;
};

}  // namespace

TEST_CASE("per-sample times give what the scalar time gives when all are equal") {
  const auto s = sde::make_sde({"subvp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  int64_t calls = 0;
  const sde::ReverseSde reverse = sde::ReverseSde(*s, model).on({}, [&calls] { ++calls; });
  const auto x = sde::NoiseStream(4).normal({0, 16}, {2}, 0, torch::kFloat64);
  const auto t = torch::full({16}, 0.3, torch::kFloat64);
  CHECK(torch::allclose(reverse.drift(x, t), reverse.drift(x, 0.3), 1e-14, 1e-14));
  CHECK(torch::allclose(reverse.denoise(x, t), reverse.denoise(x, 0.3), 1e-14, 1e-14));
  CHECK(calls == 4);
}

TEST_CASE("adaptive solvers stop with a status when the step budget runs out") {
  const auto s = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  for (const std::string solver : {"sde-adaptive", "dpm-adaptive"}) {
    CAPTURE(solver);
    const auto result = sde::make_sampler(solver, params_of({{"max_steps", "3"}}))->sample(*s, model, sde::testing::samples_of({}, 32));
    CHECK(result.status == sde::SolveStatus::kStepLimit);
    CHECK(result.message.find("32 samples did not reach t = 0.001 within max_steps = 3 attempts (sample 0 is at t = ") != std::string::npos);
    CHECK(result.message.find("raise max_steps or loosen rtol/atol") != std::string::npos);
  }
}

TEST_CASE("adaptive solvers report a non-finite state with the sample and time") {
  const auto s = sde::make_sde({"vp"});
  const NanBelow model(0.5);
  for (const std::string solver : {"sde-adaptive", "dpm-adaptive"}) {
    CAPTURE(solver);
    const auto result = sde::make_sampler(solver)->sample(*s, model, sde::testing::samples_of({}, 8, 100));
    CHECK(result.status == sde::SolveStatus::kNonFinite);
    CAPTURE(result.message);
    CHECK(result.message.find(solver + ": sample 10") != std::string::npos);
    CHECK(result.message.find("became non-finite in attempt") != std::string::npos);
  }
}

TEST_CASE("adaptive options are checked") {
  CHECK_THROWS_WITH_AS(sde::make_sampler("sde-adaptive", params_of({{"rtol", "0"}})),
                       doctest::Contains("sde-adaptive: rtol = 0 must be finite and > 0"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_sampler("dpm-adaptive", params_of({{"order", "4"}})),
                       doctest::Contains("order = 4 must be 2 (DPM-Solver-12) or 3 (DPM-Solver-23)"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_sampler("dpm-adaptive", params_of({{"exponent", "0.5"}})),
                       doctest::Contains("solver 'dpm-adaptive' has no option exponent"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_sampler("sde-adaptive", params_of({{"error_estimate", "noisy"}})),
                       doctest::Contains("error_estimate = 'noisy' is not one of: drift, paper"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_sampler("heun", params_of({{"s_churn", "-1"}})),
                       doctest::Contains("heun: s_churn = -1 must be >= 0"), sde::InvalidArgument);
}

TEST_CASE("a tighter tolerance costs more score calls and the count is exact") {
  const auto s = sde::make_sde({"ve"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  const auto loose = sde::make_sampler("dpm-adaptive", params_of({{"rtol", "1e-2"}}))->sample(*s, model, sde::testing::samples_of({}, 64));
  const auto tight = sde::make_sampler("dpm-adaptive", params_of({{"rtol", "1e-4"}, {"atol", "1e-4"}}))->sample(*s, model, sde::testing::samples_of({}, 64));
  CHECK(tight.nfe_mean > loose.nfe_mean);
  // Batched calls are at least the calls of the sample that needed most, and no sample needs
  // more than the batch made.
  CHECK(double(loose.nfe) >= loose.nfe_mean);
  // One sample alone: its own calls are the batched calls.
  const auto one = sde::make_sampler("dpm-adaptive")->sample(*s, model, sde::testing::samples_of({}, 1, 5));
  CHECK(one.nfe_mean == double(one.nfe));
}

TEST_CASE("heun: EDM churn adds noise only inside [s_tmin, s_tmax] and is deterministic without it") {
  const auto s = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  sde::SampleRequest options;
  options.grid.steps = 20;
  const auto plain = sde::make_sampler("heun")->sample(*s, model, sde::testing::samples_of(options, 64)).samples;
  const auto zero = sde::make_sampler("heun", params_of({{"s_churn", "0"}}))->sample(*s, model, sde::testing::samples_of(options, 64)).samples;
  const auto churned = sde::make_sampler("heun", params_of({{"s_churn", "10"}}))->sample(*s, model, sde::testing::samples_of(options, 64)).samples;
  // sigma/alpha stays below 1e-6 nowhere on the grid, so this window holds no step.
  const auto outside = sde::make_sampler("heun", params_of({{"s_churn", "10"}, {"s_tmax", "1e-6"}}))->sample(*s, model, sde::testing::samples_of(options, 64)).samples;
  CHECK(torch::equal(plain, zero));
  CHECK_FALSE(torch::allclose(plain, churned));
  CHECK(torch::equal(plain, outside));
}
