// The README's usage example, built against the installed package.
#include <sde/sde.hpp>
#include <sde/solvers/registry.hpp>

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
  return result.ok() && result.nfe == 201 && distance < 1.0 ? 0 : 1;
}
