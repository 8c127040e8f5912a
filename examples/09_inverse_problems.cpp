// Example 09 — inpainting and SDEdit, on a toy whose answer is known and on Fashion-MNIST.
//
// Part 1, the ring of 8 Gaussians with x_1 known: each sample i is given its own x_1 between -5 and
// 5, and we want x_2 | x_1. The exact posterior is a mixture again (Schur complements, components
// reweighted by how well they explain x_1: GaussianMixture::conditioned), drawn on the left. Beside
// it: replacement (the known part reset to its noised observation after every step), RePaint
// (replacement, each segment of 10 steps solved r = 5 times) and diffusion posterior sampling
// (the model's score plus the gradient of the measurement's log-likelihood through Tweedie's
// x0_hat). The table gives the mean exact log-density of the (x_1, x_2) pairs under the posterior.
//
// Part 2, Fashion-MNIST (with --model DIR, a class-conditional U-Net trained by
// `scoresde train --data fashion-mnist --network unet --classes 10 ...`): test images with their
// lower half removed, filled in by RePaint under their own class; and SDEdit: a test image noised
// to t0 = 0.3, 0.5, 0.7 and denoised under another class. Without a model only part 1 runs.
//
// Usage: 09_inverse_problems [--out DIR] [--model DIR] [--n COUNT] [--quick]
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "example_args.hpp"
#include "sde/sde.hpp"
#include "sde/solve/registry.hpp"
#include "sde/solve/repaint.hpp"

namespace {

// Exact posterior samples of x_2 given each row's x_1 (one conditioned mixture per row).
torch::Tensor exact_posterior(const sde::GaussianMixture& ring, const torch::Tensor& x1, uint64_t seed) {
  const auto vp = sde::make_sde({"vp"});
  torch::Tensor out = torch::empty({x1.size(0), 2}, torch::kFloat64);
  for (int64_t i = 0; i < x1.size(0); ++i) {
    const double v = x1[i].item<double>();
    const sde::GaussianMixtureScore posterior(ring.conditioned({0}, Eigen::VectorXd::Constant(1, v)), vp);
    out[i][0] = v;
    out[i][1] = posterior.sample(sde::NoiseStream(seed), {i, 1}, 0.0)[0][0];
  }
  return out;
}

// Mean over the rows of log p(x_2 | x_1) under the exact posterior.
double posterior_log_p(const sde::GaussianMixture& ring, const torch::Tensor& pairs) {
  double total = 0;
  for (int64_t i = 0; i < pairs.size(0); ++i) {
    const sde::GaussianMixture posterior = ring.conditioned({0}, Eigen::VectorXd::Constant(1, pairs[i][0].item<double>()));
    total += posterior.log_prob(Eigen::VectorXd::Constant(1, pairs[i][1].item<double>()));
  }
  return total / double(pairs.size(0));
}

void fashion_mnist(const std::string& model_dir, const std::string& out, bool quick) {
  const sde::LoadedModel model = sde::load_score_model(model_dir);
  SDE_CHECK(model.score->num_classes() == 10, "--model ", model_dir, " is not class-conditional (train it with --classes 10)");
  const auto test = sde::load_fashion_mnist("test", sde::PixelScaling::kUnit);  // the model's data units
  const int64_t n = quick ? 2 : 8;
  const torch::Tensor images = model.metadata.to_model(test.images.narrow(0, 0, n));
  const torch::Tensor labels = test.labels.narrow(0, 0, n);
  torch::Tensor mask = torch::ones({1, 28, 28});
  mask.narrow(1, 14, 14).zero_();  // the lower half is to be filled in
  sde::SampleRequest options;
  options.count = n;
  options.grid.steps = quick ? 10 : 100;
  options.seed = 3;
  options.condition = {labels, {}};
  sde::RePaintOptions repaint;
  repaint.resamplings = quick ? 2 : 5;
  const auto filled = sde::repaint(*sde::make_sampler("em"), *model.sde, *model.score, options,
                                   sde::mask_measurement(images, mask, {1, 28, 28}), repaint);
  // SDEdit: image 0 under class (its label + 1) mod 10, from three start times.
  std::vector<torch::Tensor> edits;
  for (const double t0 : {0.3, 0.5, 0.7}) {
    sde::SampleRequest o;
    o.grid.steps = quick ? 10 : 50;
    o.grid.kind = sde::TimeGridKind::kLogSnr;
    o.grid.start = t0;  // SDEdit: the grid starts at t0, from the image noised to it
    o.count = 1;
    o.seed = 4;
    o.condition = sde::Condition::of_class((labels[0].item<int64_t>() + 1) % 10, 1);
    o.hooks = sde::sdedit_hooks(*model.sde, images.narrow(0, 0, 1), 4);
    edits.push_back(sde::make_sampler("dpmpp-2m")->sample(*model.sde, *model.score, o).samples);
  }
  const auto to_image = [&](const torch::Tensor& x) { return model.metadata.to_data(x).clamp(0, 1); };
  std::vector<sde::Panel> panels = {
      {sde::image_grid(to_image(images), int(n), 0, 1, 2), "test images"},
      {sde::image_grid(to_image(images * mask), int(n), 0, 1, 2), "lower half removed"},
      {sde::image_grid(to_image(filled.samples), int(n), 0, 1, 2), "RePaint, own class"},
      {sde::image_grid(to_image(torch::cat(edits)), 3, 0, 1, 2), "SDEdit to the next class, t0 = 0.3, 0.5, 0.7"}};
  sde::save_png(out + "/09_fashion_mnist.png", sde::gallery(panels, 1, "09: inpainting and SDEdit on Fashion-MNIST"));
  std::printf("Fashion-MNIST: RePaint NFE %lld; wrote %s/09_fashion_mnist.png\n", (long long)filled.nfe, out.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const ExampleArgs args(argc, argv, {{"out", "."}, {"model", ""}, {"n", "1000"}});
  const std::string out = args.text("out");
  const int64_t n = args.quick() ? 100 : args.integer("n");
  const auto vp = sde::make_sde({"vp"});
  const sde::GaussianMixture ring = sde::GaussianMixture::from_json_file(std::string(SCORESDE_DATA_DIR) + "/ring8.json");
  const sde::GaussianMixtureScore model(ring, vp);

  // ---- Part 1: x_1 known, each sample its own value in [-5, 5].
  const torch::Tensor x1 = torch::linspace(-5, 5, n, torch::kFloat64);
  const torch::Tensor known = torch::stack({x1, torch::zeros_like(x1)}, 1);
  const torch::Tensor mask = torch::tensor({1.0, 0.0}, torch::kFloat64);
  const sde::Measurement measurement = sde::mask_measurement(known, mask, {2});
  sde::SampleRequest options;
  options.count = n;
  options.grid.steps = args.quick() ? 50 : 500;
  options.seed = 1;
  options.dtype = torch::kFloat64;

  struct Row {
    std::string name;
    torch::Tensor pairs;
    int64_t nfe;
  };
  std::vector<Row> rows;
  rows.push_back({"exact posterior", exact_posterior(ring, x1, 2), 0});
  {
    sde::SampleRequest o = options;
    o.hooks = sde::replacement_hooks(*vp, measurement, 1);
    const auto r = sde::make_sampler("em")->sample(*vp, model, o);
    rows.push_back({"replacement", r.samples, r.nfe});
  }
  {
    sde::RePaintOptions o;
    o.resamplings = 5;
    const auto r = sde::repaint(*sde::make_sampler("em"), *vp, model, options, measurement, o);
    rows.push_back({"RePaint r = 5", r.samples, r.nfe});
  }
  {
    sde::PosteriorSamplingOptions o;
    o.noise_std = 0.1;
    const sde::PosteriorSampling dps(model, *vp, [mask](const torch::Tensor& x) { return x * mask.to(x.options()); }, o);
    sde::SampleRequest so = options;
    so.condition = {{}, known};
    const auto r = sde::make_sampler("em")->sample(*vp, dps, so);
    rows.push_back({"DPS (noise 0.1)", r.samples, r.nfe});
  }

  std::printf("the ring with x_1 known (%lld samples, x_1 from -5 to 5), EM with %lld steps\n\n", (long long)n,
              (long long)options.grid.steps);
  std::printf("%-16s | %6s | %24s\n", "method", "NFE", "mean log p(x_2 | x_1)");
  std::string csv = "method,nfe,mean_log_posterior\n";
  sde::ScatterOptions plot;
  plot.size = 220;
  plot.range = sde::PlotRange{-6, 6, -6, 6};
  plot.log_density = sde::log_density_of(ring);
  std::vector<sde::Panel> panels;
  for (const Row& row : rows) {
    const double lp = posterior_log_p(ring, row.pairs);
    std::printf("%-16s | %6lld | %24.3f\n", row.name.c_str(), (long long)row.nfe, lp);
    csv += sde::detail::concat(row.name, ",", row.nfe, ",", lp, "\n");
    panels.push_back({sde::scatter_plot(row.pairs, plot), row.name});
  }
  sde::write_file_atomic(out + "/09_inverse_problems.csv", csv);
  sde::save_png(out + "/09_inverse_problems.png", sde::gallery(panels, 4, "09: the ring with x_1 known"));
  std::printf("\nwrote %s/09_inverse_problems.csv and 09_inverse_problems.png\n", out.c_str());

  // ---- Part 2: Fashion-MNIST, with a class-conditional model.
  if (args.text("model").empty()) {
    std::printf("Fashion-MNIST part skipped: give --model DIR (a class-conditional U-Net, scoresde train --data "
                "fashion-mnist --network unet --classes 10)\n");
    return 0;
  }
  fashion_mnist(args.text("model"), out, args.quick());
  return 0;
}
