#include "testing.hpp"

#include <map>
#include <set>

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/solve/registry.hpp"
#include "sde/solve/registry.hpp"

using sde::testing::data_path;

namespace {

// A score model that returns NaN after a given time, to exercise the non-finite status.
class NanAfter final : public sde::ScoreModel {
 public:
  explicit NanAfter(double t) : t_(t) {}
  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override {
    return t[0].item<double>() < t_ ? torch::full_like(x, NAN) : -x;
  }
  std::vector<int64_t> sample_shape() const override { return {2}; }

 private:
  double t_;
};

}  // namespace

sde::SolverParams params_of(std::map<std::string, std::string> values) {
  return sde::SolverParams(std::move(values));
}

struct Config {
  std::string solver;
  std::map<std::string, std::string> params;
  int64_t nfe;  // at 50 steps with denoising; 0 for the adaptive solvers, whose NFE varies
  // The adaptive ODE solvers share one step size across a batch: equal within the tolerance only.
  double batch_tolerance = 0;
};

// Every registered solver, and the predictor-corrector combinations.
const std::vector<Config> kConfigs = {
    {"em", {}, 51},
    {"reverse-diffusion", {}, 51},
    {"ancestral", {}, 51},
    {"pc", {}, 101},  // reverse diffusion + one annealed Langevin step per time
    {"pc", {{"predictor", "ancestral"}, {"corrector", "ald"}, {"corrector_steps", "2"}}, 151},
    {"pc", {{"predictor", "none"}, {"corrector", "langevin"}}, 51},
    {"pc", {{"predictor", "em"}, {"corrector", "none"}}, 51},
    {"ddim", {}, 51},
    {"ddim", {{"eta", "0.5"}}, 51},
    {"heun", {}, 101},
    {"heun", {{"s_churn", "20"}}, 101},
    {"dpm-adaptive", {}, 0},
    {"dpm-adaptive", {{"order", "2"}}, 0},
    {"sde-adaptive", {}, 0},
    {"sde-adaptive", {{"error_estimate", "paper"}}, 0},
    {"ode-rk4", {}, 201},
    {"ode-dopri5", {}, 0, 1e-3},
    {"ode-cash-karp", {{"norm", "max"}}, 0, 1e-3},
    {"dpmpp-2m", {}, 51},
    {"dpmpp-3m", {}, 51},
    {"dpmpp-2s", {}, 101},
    {"dpmpp-3m", {{"third_order", "taylor"}, {"lower_order_final", "15"}}, 51},
    {"dpmpp-2m-sde", {}, 51},
    {"dpmpp-3m-sde", {{"eta", "0.5"}}, 51},
    {"euler", {}, 51},
    {"unipc", {}, 51},
    {"unipc", {{"order", "2"}, {"variant", "bh1"}, {"corrector", "off"}}, 51},
    {"deis", {}, 51},
    {"deis", {{"variable", "logrho"}, {"order", "2"}}, 51},
    {"ipndm", {}, 51},
    {"sa-solver", {}, 51},
    {"sa-solver", {{"tau", "0"}, {"predictor_order", "2"}, {"corrector_order", "0"}}, 51},
    {"restart", {}, 113},  // 50 Heun steps, one restart interval: 2 jumps x 3 Heun steps, + denoising
};

TEST_CASE("every solver's samples do not depend on the batch size (bit for bit)") {
  const auto mixture = sde::GaussianMixture::from_json_file(data_path("ring8.json"));
  std::set<std::string> covered;
  for (const Config& config : kConfigs) {
    covered.insert(config.solver);
    for (const std::string name : {"vp", "subvp", "ve"}) {
      CAPTURE(config.solver);
      CAPTURE(config.nfe);
      CAPTURE(name);
      const auto s = sde::make_sde({name});
      const sde::GaussianMixtureScore model(mixture, s);
      sde::SampleRequest options;
      options.grid.steps = 50;
      options.seed = 3;
      const sde::SolverParams params(config.params);
      const auto whole = sde::make_sampler(config.solver, params)->sample(*s, model, sde::testing::samples_of(options, 1000));
      options.batch_size = 64;
      const auto sampler = sde::make_sampler(config.solver, params);
      const auto batched = sampler->sample(*s, model, sde::testing::samples_of(options, 1000));
      CHECK(whole.ok());
      const auto agree = [&](const torch::Tensor& a, const torch::Tensor& b) {
        return config.batch_tolerance == 0 ? torch::equal(a, b)
                                           : (a - b).abs().max().item<double>() <= config.batch_tolerance;
      };
      CHECK(agree(whole.samples, batched.samples));
      if (config.nfe > 0) {
        CHECK(whole.nfe == config.nfe);
        CHECK(batched.nfe == config.nfe);
      }
      // Every sample made the same score calls in both runs (the mean is over the same numbers).
      if (config.batch_tolerance == 0) CHECK(batched.nfe_mean == doctest::Approx(whole.nfe_mean).epsilon(1e-12));
      // A shard [300, 1000) computed alone equals the same rows of the whole run.
      const auto shard = sampler->sample(*s, model, sde::testing::samples_of(options, 700, 300));
      CHECK(agree(shard.samples, whole.samples.narrow(0, 300, 700)));
    }
  }
  for (const auto& solver : sde::registered_solvers()) CHECK(covered.count(solver.name) == 1);
}

TEST_CASE("the reference's batch-mean Langevin step size makes samples depend on the batch") {
  const auto s = sde::make_sde({"ve"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  sde::SampleRequest options;
  options.grid.steps = 20;
  const sde::SolverParams params = params_of({{"corrector", "langevin"}, {"step_size", "batch-mean"}});
  const auto whole = sde::make_sampler("pc", params)->sample(*s, model, sde::testing::samples_of(options, 256));
  options.batch_size = 64;
  const auto batched = sde::make_sampler("pc", params)->sample(*s, model, sde::testing::samples_of(options, 256));
  CHECK_FALSE(torch::equal(whole.samples, batched.samples));
}

TEST_CASE("solver options are checked by name and type") {
  sde::SampleRequest options;
  CHECK_THROWS_WITH_AS(sde::make_sampler("pc", params_of({{"snrr", "0.1"}})),
                       doctest::Contains("solver 'pc' has no option snrr; its options: predictor, corrector, snr"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_sampler("em", params_of({{"snr", "0.1"}})),
                       doctest::Contains("solver 'em' has no option snr; its options: (none)"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_sampler("pc", params_of({{"snr", "abc"}})),
                       doctest::Contains("snr = 'abc' is not a finite number"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_sampler("pc", params_of({{"snr", "-1"}})),
                       doctest::Contains("snr = -1 must be > 0"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_sampler("pc", params_of({{"corrector", "hmc"}})),
                       doctest::Contains("corrector = 'hmc' is not one of: langevin, ald, none"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::make_sampler("pc", params_of({{"predictor", "none"}, {"corrector", "none"}})),
                       doctest::Contains("both 'none'"), sde::InvalidArgument);
}

TEST_CASE("NFE counts the denoising call only when it is made") {
  const auto s = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(data_path("ring8.json")), s);
  sde::SampleRequest options;
  options.grid.steps = 10;
  options.denoise = false;
  CHECK(sde::make_sampler("em")->sample(*s, model, sde::testing::samples_of(options, 8)).nfe == 10);
}

TEST_CASE("a non-finite state stops the solver and names the step and time") {
  const auto s = sde::make_sde({"vp"});
  const NanAfter model(0.5);
  sde::SampleRequest options;
  options.grid.steps = 10;
  const auto result = sde::make_sampler("em")->sample(*s, model, sde::testing::samples_of(options, 4));
  CHECK(result.status == sde::SolveStatus::kNonFinite);
  // t_k = 1 - 0.0999 k: the first score below t = 0.5 is at k = 6, the 7th step, ending at t = 0.3007.
  CAPTURE(result.message);
  CHECK(result.message.find("non-finite at step 7 of 10 (t = 0.3007") != std::string::npos);
}

TEST_CASE("the registry builds solvers by name and lists the known ones") {
  sde::SampleRequest options;
  CHECK(sde::make_sampler("em")->name() == "em");
  CHECK_THROWS_WITH_AS(sde::make_sampler("eulr"), doctest::Contains("unknown solver 'eulr'; known solvers: em, reverse-diffusion, ancestral, pc, ddim, euler, heun, dpmpp-2m, dpmpp-3m, dpmpp-2m-sde, dpmpp-3m-sde, dpmpp-2s, unipc, deis, ipndm, sa-solver, restart, dpm-adaptive, sde-adaptive, ode-dopri5, ode-cash-karp, ode-rk4"),
                       sde::InvalidArgument);
  CHECK(sde::registered_solvers().front().name == "em");
}

TEST_CASE("invalid requests are rejected before any work") {
  const auto s = sde::make_sde({"vp"});
  const NanAfter model(0);
  const auto em = sde::make_sampler("em");
  sde::SampleRequest request;
  request.count = 4;
  request.grid.steps = 0;
  CHECK_THROWS_WITH_AS(em->sample(*s, model, request), doctest::Contains("steps = 0"), sde::InvalidArgument);
  request.grid.steps = 10;
  request.grid.eps = -1;
  CHECK_THROWS_WITH_AS(em->sample(*s, model, request), doctest::Contains("eps = -1"), sde::InvalidArgument);
  request.grid.eps = 2.0;  // valid alone, but not below T = 1
  CHECK_THROWS_WITH_AS(em->sample(*s, model, request), doctest::Contains("smaller than the SDE's end time"),
                       sde::InvalidArgument);
  request.grid.eps = 1e-3;
  request.count = -1;
  CHECK_THROWS_WITH_AS(em->sample(*s, model, request), doctest::Contains("count = -1"), sde::InvalidArgument);
  request.count = 3;
  request.latents = torch::zeros({4, 2});
  CHECK_THROWS_WITH_AS(em->sample(*s, model, request), doctest::Contains("4 latents"), sde::InvalidArgument);
  request.count = 0;
  request.latents = torch::zeros({4, 3});
  CHECK_THROWS_WITH_AS(em->sample(*s, model, request), doctest::Contains("latents of shape [4, 3]"), sde::InvalidArgument);
}
