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

  sde::SamplerOptions options;
  options.steps = 200;
  options.seed = 7;
  auto sampler = sde::make_sampler("em", options);
  sde::SampleResult result = sampler->sample(*vp, score, 2000);

  auto exact = score.sample(sde::NoiseStream(1), {0, 2000}, 0.0);
  const double distance = sde::sliced_w2(result.samples, exact);
  std::printf("NFE %lld, sliced W2 %.4f\n", (long long)result.nfe, distance);

  options.steps = 20;
  const sde::SampleResult ddim = sde::make_sampler("ddim", options, {{"eta", 0.5}})->sample(*vp, score, 100);
  sde::LikelihoodOptions likelihood;
  const double log_p = sde::log_likelihood(*vp, score, exact.slice(0, 0, 20), likelihood).mean_log_p();
  std::printf("ddim NFE %lld, mean log p of 20 exact samples %.3f\n", (long long)ddim.nfe, log_p);
  return result.ok() && result.nfe == 201 && distance < 1.0 && ddim.ok() && std::isfinite(log_p) ? 0 : 1;
}
