// NFE to quality for the fast solvers on the problem suite (sde::mixture_suite(): dimensions 2 to
// 64, isotropic and strongly anisotropic, 1 to 10 components, well and badly separated), with the
// exact score: the table the solvers' defaults are chosen from (docs/solvers.md).
//
// For every problem: sliced W2 between n samples of the solver and n exact samples of p_0, next to
// the noise floor (the same distance between independent exact sets: mean +- std over 8); for every
// solver the error at each NFE, and the smallest NFE of the list whose error is within the floor
// mean + 1 std. No final denoising step (NFE = steps x calls per step), eps = 1e-3, seed 1 (--seed), the
// grid each solver is designed for (log-SNR for the exponential integrators, Karras for heun and
// restart, whose restarts cost more calls on top of the budget's; the
// time grid on flow, whose log-SNR at T is -inf). One PNG per problem (error against NFE,
// log-log) and a CSV of every run.
//
// Usage: bench_solver_suite [--sde vp] [--n 20000] [--seed 1] [--nfe 5,10,15,20,25,40,60,100]
//                           [--solvers name[:key=value...],...] [--problems name,...] [--out DIR]
//        bench_solver_suite --dump DIR          (each problem's mixture as DIR/NAME.json)
//        bench_solver_suite --problems NAME --score SAMPLES.npy [--n 20000]
//                                               (sliced W2 of samples made elsewhere, e.g. by
//                                                bench/suite_reference.py, against the same reference)
// A solver with options is written name:key=value:key=value (e.g. dpmpp-3m:third_order=taylor);
// grid=time|logsnr|karras and rho=R choose its time grid instead of the usual one.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sde/sde.hpp"
#include "sde/solve/registry.hpp"

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, sep);)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

// A solver with its options, and the calls it makes per step.
struct Setup {
  std::string label, solver;
  std::map<std::string, std::string> params;
  int64_t calls_per_step = 1;
  sde::TimeGridKind grid = sde::TimeGridKind::kLogSnr;
  std::string grid_name;  // set by grid=NAME: overrides the solver's usual grid
  double rho = 7.0;
};

Setup parse_setup(const std::string& text) {
  const std::vector<std::string> parts = split(text, ':');
  Setup s;
  s.label = text;
  s.solver = parts.at(0);
  for (size_t i = 1; i < parts.size(); ++i) {
    const auto eq = parts[i].find('=');
    if (eq == std::string::npos) throw std::runtime_error("solver option '" + parts[i] + "' must be key=value");
    const std::string key = parts[i].substr(0, eq), value = parts[i].substr(eq + 1);
    if (key == "grid") s.grid_name = value;  // the time grid, not a solver option
    else if (key == "rho") s.rho = std::atof(value.c_str());
    else s.params[key] = value;
  }
  if (s.solver == "heun" || s.solver == "dpmpp-2s" || s.solver == "restart") s.calls_per_step = 2;
  if (s.solver == "heun" || s.solver == "restart") s.grid = sde::TimeGridKind::kKarras;
  if (!s.grid_name.empty()) s.grid = sde::TimeGrid::parse(s.grid_name);
  return s;
}

std::string fmt(double v, const char* format = "%.4f") {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

struct Stats {
  double mean = 0, std = 0;
};

Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x / double(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean) / double(v.size() - 1);
  s.std = std::sqrt(s.std);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string sde_name = "vp", out_dir = "solver_suite";
  int64_t n = 20000;
  uint64_t seed = 1;
  std::vector<int64_t> nfes = {5, 10, 15, 20, 25, 40, 60, 100};
  std::vector<std::string> solvers = {"ddim",     "heun",      "dpmpp-2s",
                                      "dpmpp-2m", "dpmpp-3m",  "dpmpp-3m:third_order=taylor:lower_order_final=15"};
  std::vector<std::string> only;
  std::string dump_dir, score_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--sde") sde_name = value;
    else if (key == "--n") n = std::atoll(value.c_str());
    else if (key == "--seed") seed = std::strtoull(value.c_str(), nullptr, 10);
    else if (key == "--out") out_dir = value;
    else if (key == "--solvers") solvers = split(value, ',');
    else if (key == "--problems") only = split(value, ',');
    else if (key == "--dump") dump_dir = value;
    else if (key == "--score") score_file = value;
    else if (key == "--nfe") {
      nfes.clear();
      for (const std::string& v : split(value, ',')) nfes.push_back(std::atoll(v.c_str()));
    } else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return 2;
    }
  }
  if (!dump_dir.empty()) {
    std::filesystem::create_directories(dump_dir);
    for (const sde::MixtureProblem& problem : sde::mixture_suite())
      sde::write_file_atomic(dump_dir + "/" + problem.name + ".json", problem.mixture.to_json());
    return 0;
  }
  const auto sde = sde::make_sde({sde_name});
  if (!score_file.empty()) {
    for (const sde::MixtureProblem& problem : sde::mixture_suite()) {
      if (only.size() != 1 || problem.name != only[0]) continue;
      const sde::GaussianMixtureScore model(problem.mixture, sde, torch::kFloat32);
      const auto reference = model.sample(sde::NoiseStream(999), {0, n}, 0.0);
      std::printf("%s: sliced W2 %.4f\n", score_file.c_str(), sde::sliced_w2(sde::load_npy(score_file), reference));
      return 0;
    }
    std::fprintf(stderr, "--score needs --problems with one name of the suite\n");
    return 2;
  }
  std::filesystem::create_directories(out_dir);
  std::string csv = "problem,sde,solver,nfe_budget,nfe,steps,sliced_w2,floor_mean,floor_std,seconds\n";
  std::string markdown;
  for (const sde::MixtureProblem& problem : sde::mixture_suite()) {
    if (!only.empty() && std::find(only.begin(), only.end(), problem.name) == only.end()) continue;
    const sde::GaussianMixtureScore model(problem.mixture, sde, torch::kFloat32);
    const auto reference = model.sample(sde::NoiseStream(999), {0, n}, 0.0);
    std::vector<double> floor_values;
    for (int p = 0; p < 8; ++p) floor_values.push_back(sde::sliced_w2(model.sample(sde::NoiseStream(1000 + p), {0, n}, 0.0), reference));
    const Stats floor = stats(floor_values);
    std::printf("\n%s (%s), %s, n = %lld. Floor: sliced W2 %.4f +- %.4f\n", problem.name.c_str(),
                problem.description.c_str(), sde_name.c_str(), (long long)n, floor.mean, floor.std);
    markdown += sde::detail::concat("\n**", problem.name, "** (", problem.description, "); floor ",
                                    fmt(floor.mean), " +- ", fmt(floor.std), "\n\n| solver | NFE to floor |");
    for (int64_t b : nfes) markdown += sde::detail::concat(" ", b, " |");
    markdown += "\n|---|---:|";
    for (size_t i = 0; i < nfes.size(); ++i) markdown += "---:|";
    markdown += "\n";
    std::vector<sde::Series> curves;
    for (const std::string& text : solvers) {
      Setup setup = parse_setup(text);
      if (sde_name == "flow") setup.grid = sde::TimeGridKind::kTime;
      sde::Series curve{setup.label, {}, {}};
      std::string row = "| `" + setup.label + "` |", cells;
      int64_t to_floor = -1;
      std::printf("%-52s", setup.label.c_str());
      for (int64_t budget : nfes) {
        sde::SampleRequest options;
        options.grid.steps = budget / setup.calls_per_step;
        options.grid.kind = setup.grid;
        options.grid.rho = setup.rho;
        options.denoise = false;
        options.seed = seed;
        const auto start = std::chrono::steady_clock::now();
        options.count = n;
        const auto result = sde::make_sampler(setup.solver, sde::SolverParams(setup.params))->sample(*sde, model, options);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double w2 = result.ok() ? sde::sliced_w2(result.samples, reference) : NAN;
        std::printf(" %8.4f", w2);
        std::fflush(stdout);
        cells += " " + (std::isfinite(w2) ? fmt(w2) : std::string("diverged")) + " |";
        if (to_floor < 0 && w2 <= floor.mean + floor.std) to_floor = result.nfe;
        curve.x.push_back(double(result.nfe));
        curve.y.push_back(w2);
        csv += sde::detail::concat(problem.name, ",", sde_name, ",", setup.label, ",", budget, ",", result.nfe, ",",
                                   options.grid.steps, ",", w2, ",", floor.mean, ",", floor.std, ",", seconds, "\n");
      }
      std::printf("\n");
      markdown += row + " " + (to_floor > 0 ? std::to_string(to_floor) : std::string("> ") + std::to_string(nfes.back())) + " |" + cells + "\n";
      curves.push_back(curve);
    }
    sde::LinePlotOptions plot;
    plot.title = problem.name + " under " + sde_name + ": sliced W2 to exact samples";
    plot.x_label = "NFE";
    plot.y_label = "sliced W2";
    plot.reference = floor.mean;
    plot.reference_label = "noise floor";
    sde::save_png(out_dir + "/" + problem.name + "_" + sde_name + ".png", sde::log_log_plot(curves, plot));
  }
  sde::write_file_atomic(out_dir + "/solver_suite_" + sde_name + ".csv", csv);
  sde::write_file_atomic(out_dir + "/solver_suite_" + sde_name + ".md", markdown);
  std::printf("\n%s\n", markdown.c_str());
  return 0;
}
