// Every registered solver's samples on fixed seeds, against a recording committed in
// tests/data/solver_reference.json: the guard of refactorings that must not change the numerics
// (the solver core's). Each case samples 64 points in float64 with the solver's defaults (25
// steps, exact mixture score) and records per coordinate the mean and the mean square, and the
// first two samples. Fixed-grid solvers must agree to 1e-9 (float64 rounding through 25 steps, with
// a margin); adaptive ones, whose accept/reject decisions can flip on a rounding difference, to
// 1e-4 in their moments and are not compared sample by sample.
//
// Re-record (only when a change of the numerics is intended, and say so in the commit):
//   SCORESDE_RECORD_SOLVER_REFERENCE=tests/data/solver_reference.json build/tests/unit_tests -tc="*recorded*"
#include "testing.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>

#include <nlohmann/json.hpp>

#include "sde/core/errors.hpp"
#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/solve/registry.hpp"

namespace {

struct Case {
  std::string name, solver, sde, problem;
  sde::SolverParams params;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const sde::SolverInfo& info : sde::registered_solvers())
    for (const std::string sde_name : {"vp", "subvp", "ve"})
      for (const std::string problem : {"ring8", "aniso16"})
        out.push_back({info.name + "/" + sde_name + "/" + problem, info.name, sde_name, problem, {}});
  out.push_back({"pc-ald/vp/ring8", "pc", "vp", "ring8", sde::SolverParams{{"corrector", "ald"}}});
  // The SNR-rule Langevin corrector, pc's default before ald (recorded then as pc/*/*).
  for (const std::string sde_name : {"vp", "ve"})
    out.push_back({"pc-langevin/" + sde_name + "/aniso16", "pc", sde_name, "aniso16",
                   sde::SolverParams{{"corrector", "langevin"}}});
  out.push_back({"ddim-eta1/ve/ring8", "ddim", "ve", "ring8", sde::SolverParams{{"eta", 1}}});
  // dpmpp-3m's default before issue 17 (the Taylor weight on its D2 term), recorded then as dpmpp-3m/*.
  for (const std::string sde_name : {"vp", "subvp", "ve"})
    for (const std::string problem : {"ring8", "aniso16"})
      out.push_back({"dpmpp-3m-taylor/" + sde_name + "/" + problem, "dpmpp-3m", sde_name, problem,
                     sde::SolverParams{{"third_order", "taylor"}}});
  return out;
}

bool adaptive(const std::string& solver) {
  return solver == "dpm-adaptive" || solver == "sde-adaptive" || solver == "ode-dopri5" || solver == "ode-cash-karp";
}

// The recorded numbers of one case, or the reason it has none (a solver that refuses the SDE).
nlohmann::json run(const Case& c) {
  sde::SampleRequest options;
  options.grid.steps = 25;
  options.seed = 7;
  options.dtype = torch::kFloat64;
  const auto sde = sde::make_sde({c.sde});
  const sde::GaussianMixtureScore model(sde::GaussianMixture::from_json_file(sde::testing::data_path(c.problem + ".json")),
                                        sde);
  try {
    const auto sampler = sde::make_sampler(c.solver, c.params);
    const sde::SampleResult result = sampler->sample(*sde, model, sde::testing::samples_of(options, 64));
    if (!result.ok()) return {{"failed", result.message}};
    const torch::Tensor x = result.samples.to(torch::kFloat64);
    auto list = [](const torch::Tensor& t) {
      const torch::Tensor flat = t.contiguous().reshape({-1});
      return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
    };
    return {{"mean", list(x.mean(0))}, {"mean_square", list(x.square().mean(0))}, {"first", list(x.narrow(0, 0, 2))},
            {"nfe", result.nfe}};
  } catch (const sde::InvalidArgument& e) {
    return {{"refused", e.what()}};
  }
}

double max_difference(const nlohmann::json& a, const nlohmann::json& b) {
  const auto x = a.get<std::vector<double>>(), y = b.get<std::vector<double>>();
  if (x.size() != y.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

}  // namespace

TEST_CASE("every solver gives the samples recorded before (fixed seeds, every SDE, two mixtures)") {
  nlohmann::json now;
  for (const Case& c : cases()) now[c.name] = run(c);
  if (const char* out = std::getenv("SCORESDE_RECORD_SOLVER_REFERENCE")) {
    std::ofstream(out) << now.dump(1) << "\n";
    MESSAGE("recorded ", now.size(), " cases into ", std::string(out));
    return;
  }
  std::ifstream in(std::string(SCORESDE_SOURCE_DIR) + "/tests/data/solver_reference.json");
  REQUIRE(in);
  const nlohmann::json recorded = nlohmann::json::parse(in);
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    REQUIRE(recorded.contains(c.name));  // a new solver or case: record it (see the header)
    const nlohmann::json& then = recorded[c.name];
    const nlohmann::json& got = now[c.name];
    CHECK(then.contains("mean") == got.contains("mean"));  // refused or failed then and now alike
    if (!then.contains("mean") || !got.contains("mean")) continue;
    const double tolerance = adaptive(c.solver) ? 1e-4 : 1e-9;
    CHECK(max_difference(got["mean"], then["mean"]) <= tolerance);
    CHECK(max_difference(got["mean_square"], then["mean_square"]) <= tolerance);
    if (!adaptive(c.solver)) {
      CHECK(max_difference(got["first"], then["first"]) <= tolerance);
      CHECK(got["nfe"] == then["nfe"]);
    }
  }
}

TEST_CASE("docs/solvers.md carries the registry's table, and a measured row for every registered solver") {
  std::ifstream in(std::string(SCORESDE_SOURCE_DIR) + "/docs/solvers.md");
  REQUIRE(in);
  const std::string guide((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Regenerate with: build/cli/scoresde solvers --markdown
  const std::string table = sde::solver_table_markdown();
  const size_t at = guide.find(table);
  REQUIRE(at != std::string::npos);
  const std::string measured = guide.substr(0, at) + guide.substr(at + table.size());
  for (const sde::SolverInfo& info : sde::registered_solvers()) {
    CAPTURE(info.name);
    CHECK(measured.find("\n| `" + info.name + "` | ") != std::string::npos);
  }
}

TEST_CASE("other libraries' solver names run our solvers with their options, and docs/solvers.md lists them") {
  const auto vp = sde::make_sde({"vp"});
  const sde::GaussianMixtureScore score(sde::GaussianMixture::from_json_file(sde::testing::data_path("ring8.json")), vp);
  sde::SampleRequest options;
  options.grid.steps = 12;
  options.seed = 3;
  // An alias is its solver with its options; options given with it win over the alias's own.
  const auto ancestral = sde::make_sampler("k-diffusion:euler_ancestral")->sample(*vp, score, sde::testing::samples_of(options, 64));
  CHECK(torch::equal(ancestral.samples, sde::make_sampler("ddim", {{"eta", 1}})->sample(*vp, score, sde::testing::samples_of(options, 64)).samples));
  const auto half = sde::make_sampler("k-diffusion:euler_ancestral", {{"eta", 0.5}})->sample(*vp, score, sde::testing::samples_of(options, 64));
  CHECK(torch::equal(half.samples, sde::make_sampler("ddim", {{"eta", 0.5}})->sample(*vp, score, sde::testing::samples_of(options, 64)).samples));
  CHECK(sde::solver_info("diffusers:UniPCMultistepScheduler").name == "unipc");
  CHECK_THROWS_WITH_AS(sde::make_sampler("k-diffusion:eulr"), doctest::Contains("scoresde solvers --aliases"),
                       sde::InvalidArgument);
  // Every alias builds (its options are ones its solver has), and names a registered solver.
  for (const sde::SolverAlias& alias : sde::solver_aliases()) {
    CAPTURE(alias.name);
    CHECK_NOTHROW(sde::make_sampler(alias.name));
  }
  std::ifstream in(std::string(SCORESDE_SOURCE_DIR) + "/docs/solvers.md");
  const std::string guide((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Regenerate with: build/cli/scoresde solvers --aliases --markdown
  CHECK(guide.find(sde::solver_alias_table_markdown()) != std::string::npos);
}

TEST_CASE("solver options are written with their types in C++") {
  // The forms that once were ambiguous overloads or needed text.
  const sde::SolverParams text({{"eta", "0.5"}});
  const sde::SolverParams typed{{"eta", 0.5}, {"order", 3}, {"variant", "bh1"}};
  CHECK(text.values().at("eta") == "0.5");
  CHECK(typed.values().at("eta") == "0.5");
  CHECK(typed.values().at("order") == "3");
  CHECK(typed.values().at("variant") == "bh1");
  // Numbers are kept as text that reads back to the same double.
  CHECK(std::stod(sde::SolverParams{{"rtol", 0.1}}.values().at("rtol")) == 0.1);
  CHECK(std::stod(sde::SolverParams{{"rtol", 1.0 / 3.0}}.values().at("rtol")) == 1.0 / 3.0);
  sde::SolverParams set;
  set.set("eta", 1).set("lower_order_final", 0);
  CHECK(set.values().size() == 2);
}
