// The README's usage example, built against the installed package: the umbrella header alone
// brings the solvers' front (registry, likelihood), and solver options are written with types.
#include <sde/sde.hpp>

#include <cmath>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto vp = sde::make_sde({"vp"});
  auto ring = sde::GaussianMixture::from_json_file(argv[1]);
  sde::GaussianMixtureScore score(ring, vp);

  // A sampler is settings (the solver and its options); a run is a request.
  auto sampler = sde::make_sampler("em");
  sde::SampleRequest request;
  request.count = 2000;
  request.grid.steps = 200;
  request.seed = 7;
  sde::SampleResult result = sampler->sample(*vp, score, request);

  auto exact = score.sample(sde::NoiseStream(1), {0, 2000}, 0.0);
  const double distance = sde::sliced_w2(result.samples, exact);
  std::printf("NFE %lld, sliced W2 %.4f\n", (long long)result.nfe, distance);

  request.count = 100;
  request.grid.steps = 20;
  const sde::SampleResult ddim = sde::make_sampler("ddim", {{"eta", 0.5}})->sample(*vp, score, request);
  sde::LikelihoodOptions likelihood;
  const double log_p = sde::log_likelihood(*vp, score, exact.slice(0, 0, 20), likelihood).mean_log_p();
  std::printf("ddim NFE %lld, mean log p of 20 exact samples %.3f\n", (long long)ddim.nfe, log_p);
  return result.ok() && result.nfe == 201 && distance < 1.0 && ddim.ok() && std::isfinite(log_p) ? 0 : 1;
}
