// Numerical experiment: the weak order of Euler–Maruyama on the reverse SDE, measured as the
// log-log slope of the covariance error against the number of steps.
#include "testing.hpp"

#include <numeric>

#include "sde/gaussian_mixture.hpp"
#include "sde/metrics.hpp"
#include "sde/sde_factory.hpp"
#include "sde/solvers/euler_maruyama.hpp"

TEST_CASE("EM has weak order 1 on a Gaussian target (slope 1 +- 0.25)") {
  // Target N(m, C) in 2-D, C = [[2, 0.6], [0.6, 0.5]]. Without denoising the exact law at eps is
  // N(alpha m, alpha^2 C + sigma^2 I) (eps = 1e-3); the error is the Frobenius norm of the sample
  // covariance minus that. n = 400000 samples give a Monte Carlo error of ~0.006 in the norm,
  // below a tenth of the smallest EM bias measured here (N = 64), so the slope is the bias's.
  Eigen::VectorXd m(2);
  m << 1.0, -1.0;
  Eigen::MatrixXd c(2, 2);
  c << 2.0, 0.6, 0.6, 0.5;
  const sde::GaussianMixture target({1.0}, {m}, {c});
  const int64_t n = 400000;
  // VP and sub-VP. VE is left out on purpose: its g(t) grows like sigma_max, so EM on a uniform
  // t grid is unstable below N ~ 16 (error 8e2 at N = 8) and pre-asymptotic until N ~ 100, where
  // its bias (0.015 at N = 64) meets the Monte Carlo error of any affordable n.
  for (const std::string name : {"vp", "subvp"}) {
    CAPTURE(name);
    const auto s = sde::make_sde({name});
    const sde::GaussianMixtureScore model(target, s);
    const double eps = 1e-3;
    const Eigen::MatrixXd exact = target.perturbed(s->alpha(eps), s->sigma(eps)).covariance();
    std::vector<double> log_n, log_err;
    for (int64_t steps : {8, 16, 32, 64}) {
      sde::SamplerOptions options;
      options.steps = steps;
      options.eps = eps;
      options.denoise = false;
      options.dtype = torch::kFloat64;
      options.seed = 5;
      const auto result = sde::EulerMaruyama(options).sample(*s, model, n);
      const double err = (sde::sample_covariance(result.samples) - exact).norm();
      MESSAGE(name << " N = " << steps << ": covariance error " << err);
      log_n.push_back(std::log(double(steps)));
      log_err.push_back(std::log(err));
    }
    // Least-squares slope of log error against log N.
    const double mx = std::accumulate(log_n.begin(), log_n.end(), 0.0) / log_n.size();
    const double my = std::accumulate(log_err.begin(), log_err.end(), 0.0) / log_err.size();
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < log_n.size(); ++i) {
      sxy += (log_n[i] - mx) * (log_err[i] - my);
      sxx += (log_n[i] - mx) * (log_n[i] - mx);
    }
    const double order = -sxy / sxx;
    MESSAGE(name << ": measured weak order " << order);
    CHECK(order == doctest::Approx(1.0).epsilon(0.25));
  }
}
