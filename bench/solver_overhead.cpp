// Per-step overhead of every registered solver: wall time per step minus the time spent inside
// the score model, at batch 20000 for D = 2 and D = 32, with two scores: an exact 8-component
// mixture (heavy) and a free linear one (below). The overhead is what
// the solver itself costs: its arithmetic, the Gaussian noise of stochastic solvers, the time
// tensor and the finiteness check. The noise alone is measured too: the floor of a stochastic step.
// The adaptive and ODE solvers (rows marked /NFE) are measured per batched score call instead of per step.
//
// Usage: bench_solver_overhead [--csv PATH] [--steps N] [--repeats R] [--only SOLVER] [--score mixture|-2x]
#include <ATen/Parallel.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "sde/sde.hpp"
#include "sde/solve/registry.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Wraps a score model and adds up the wall time spent inside it.
class TimedScore final : public sde::ScoreModel {
 public:
  explicit TimedScore(const sde::ScoreModel& inner) : inner_(inner) {}
  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const override {
    const auto start = Clock::now();
    auto s = inner_.score(x, t);
    seconds_ += seconds_since(start);
    return s;
  }
  std::vector<int64_t> sample_shape() const override { return inner_.sample_shape(); }
  double seconds() const { return seconds_; }
  void reset() { seconds_ = 0; }

 private:
  const sde::ScoreModel& inner_;
  mutable double seconds_ = 0;
};

// A free score, s = -2x: one operation, so the solver's own cost shows alone. It is the score of
// N(0, I/2), not of the diffused marginals, and that is on purpose: with the exact score of N(0, I)
// (s = -x, p_t = N(0, I) under VP) the probability-flow drift is exactly zero and an adaptive ODE
// solver crosses [eps, T] in a handful of steps, so a per-step figure would be mostly set-up.
class LinearScore final : public sde::ScoreModel {
 public:
  explicit LinearScore(int64_t d) : d_(d) {}
  torch::Tensor score(const torch::Tensor& x, const torch::Tensor&) const override { return x * -2.0; }
  std::vector<int64_t> sample_shape() const override { return {d_}; }

 private:
  int64_t d_;
};

// A K-component mixture in D dimensions with well-separated means and unit covariances.
sde::GaussianMixture mixture(int64_t d, int64_t k) {
  std::vector<double> w(k, 1.0 / double(k));
  std::vector<Eigen::VectorXd> means;
  std::vector<Eigen::MatrixXd> covs;
  for (int64_t i = 0; i < k; ++i) {
    Eigen::VectorXd m = Eigen::VectorXd::Zero(d);
    m(i % d) = 4.0 * std::cos(2 * M_PI * double(i) / double(k));
    m((i + 1) % d) += 4.0 * std::sin(2 * M_PI * double(i) / double(k));
    means.push_back(m);
    covs.push_back(0.04 * Eigen::MatrixXd::Identity(d, d));
  }
  return sde::GaussianMixture(w, means, covs);
}

}  // namespace

int main(int argc, char** argv) {
  std::string csv_path = "solver_overhead.csv";
  int64_t steps = 200, repeats = 3;
  std::string only;        // a single solver's name, or all
  std::string only_score;  // "mixture" or "-2x", or both
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--csv")) csv_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--steps")) steps = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    else if (!std::strcmp(argv[i], "--score")) only_score = argv[i + 1];
  }
  const int64_t batch = 20000;
  std::printf("Per-step solver cost, scores: the exact 8-component mixture; s = -2x, VP, batch %lld, %lld steps, "
              "float32, %d thread(s); best of %lld runs\n\n", (long long)batch, (long long)steps,
              at::get_num_threads(), (long long)repeats);
  std::printf("%-18s %-8s %4s | %12s | %13s | %16s\n", "solver", "score", "D", "wall us/step",
              "score us/step", "overhead us/step");
  std::string csv = "solver,score,dim,batch,steps,wall_us_per_step,score_us_per_step,overhead_us_per_step\n";
  const auto vp = sde::make_sde({"vp"});
  for (const auto& solver : sde::registered_solvers())
  if (only.empty() || solver.name == only)
  for (const std::string kind : {"mixture", "-2x"})
  if (only_score.empty() || kind == only_score)
  for (int64_t d : {2, 32}) {
    const sde::GaussianMixtureScore exact(mixture(d, 8), vp, torch::kFloat32);
    const LinearScore linear(d);
    TimedScore timed(kind == "mixture" ? static_cast<const sde::ScoreModel&>(exact) : linear);
    sde::SampleRequest options;
    options.count = batch;
    options.grid.steps = steps;
    options.denoise = false;
    double best_wall = 1e300, best_overhead = 1e300, score_at_best = 0;
    int64_t units = steps;  // what "per step" divides by; an adaptive solver's batched score calls
    for (int64_t r = 0; r < repeats; ++r) {
      timed.reset();
      const auto sampler = sde::make_sampler(solver.name);
      const auto start = Clock::now();
      const auto result = sampler->sample(*vp, timed, options);
      const double wall = seconds_since(start);
      if (!result.ok()) std::fprintf(stderr, "sampling failed: %s\n", result.message.c_str());
      // Adaptive and ODE solvers: per batched score call (one right-hand side for the ODE methods).
      if (solver.name.rfind("ode-", 0) == 0 || solver.name.find("adaptive") != std::string::npos) units = result.nfe;
      if (wall - timed.seconds() < best_overhead) {
        best_overhead = wall - timed.seconds();
        best_wall = wall;
        score_at_best = timed.seconds();
      }
    }
    const double us = 1e6 / double(units);
    std::printf("%-18s %-8s %4lld | %12.1f | %13.1f | %16.1f\n", (solver.name + (units != steps ? " /NFE" : "")).c_str(), kind.c_str(),
                (long long)d, best_wall * us, score_at_best * us, best_overhead * us);
    csv += sde::detail::concat(solver.name, ",", kind, ",", d, ",", batch, ",", steps, ",", best_wall * us, ",",
                               score_at_best * us, ",", best_overhead * us, "\n");
  }
  // The noise alone: the draws a stochastic solver makes per step.
  for (int64_t d : {2, 32}) {
    const sde::NoiseStream noise(0);
    double best_noise = 1e300;
    for (int64_t r = 0; r < repeats; ++r) {
      const auto start = Clock::now();
      for (int64_t k = 0; k < steps; ++k) noise.normal({0, batch}, {d}, uint32_t(k + 1));
      best_noise = std::min(best_noise, seconds_since(start));
    }
    std::printf("%-18s %-8s %4lld | %12.1f |\n", "(noise alone)", "-", (long long)d, best_noise * 1e6 / double(steps));
    csv += sde::detail::concat("noise-alone,-,", d, ",", batch, ",", steps, ",", best_noise * 1e6 / double(steps), ",0,0\n");
  }
  sde::write_file_atomic(csv_path, csv);
  std::printf("\nwrote %s\n", csv_path.c_str());
  return 0;
}
