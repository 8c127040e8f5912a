// A Fashion-MNIST image-quality metric of our own: a small convolutional classifier trained here,
// whose 128 penultimate features give a Fréchet distance (FID, Heusel et al. 2017, on our features
// instead of Inception's) between generated images and the 10000 test images, and whose
// predictions say whether class-conditional samples show their class.
//
//   bench_fashion_fid train [--out DIR] [--epochs 3] [--seed 0]     train and save the classifier
//   bench_fashion_fid calibrate [--model DIR]                       FID of real and degraded images
//   bench_fashion_fid score SAMPLES.npy [--model DIR] [--classes]   FID of samples, their class
//                                                                   mix (and per-class accuracy:
//                                                                   sample i of class i mod 10)
//   bench_fashion_fid plot TABLE.csv OUT.png [--floor F]            FID against NFE from
//                                                                   bench/fashion_table.sh's table
//
// SAMPLES.npy holds (n, 1, 28, 28) pixels in [0, 1], as `scoresde sample` writes a Fashion-MNIST
// model's; the classifier sees them centred, 2 x - 1 in [-1, 1], as it was trained.
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sde/core/atomic_file.hpp"
#include "sde/io/idx.hpp"
#include "sde/core/metrics.hpp"
#include "sde/io/image.hpp"
#include "sde/io/npy.hpp"
#include "sde/io/plots.hpp"
#include "sde/core/random.hpp"

namespace {

constexpr int64_t kFeatures = 128;

// Two 3x3 convolution blocks with max pooling (28 -> 14 -> 7), a 128-unit layer (the features)
// and the 10 logits.
struct ClassifierImpl : torch::nn::Module {
  ClassifierImpl()
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3).padding(1)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)))),
        hidden(register_module("hidden", torch::nn::Linear(64 * 7 * 7, kFeatures))),
        logits(register_module("logits", torch::nn::Linear(kFeatures, 10))) {}

  torch::Tensor features(const torch::Tensor& x) {
    torch::Tensor h = torch::max_pool2d(torch::relu(conv1(x)), 2);
    h = torch::max_pool2d(torch::relu(conv2(h)), 2);
    return torch::relu(hidden(h.flatten(1)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return logits(features(x)); }

  torch::nn::Conv2d conv1, conv2;
  torch::nn::Linear hidden, logits;
};
TORCH_MODULE(Classifier);

std::string weights_path(const std::string& dir) { return dir + "/classifier.pt"; }

Classifier load_classifier(const std::string& dir) {
  Classifier net;
  torch::load(net, weights_path(dir));
  net->eval();
  return net;
}

// What the classifier sees in images: their features and its labels, from one pass in batches of
// 500 without gradients (the test set's serve every FID and class share of a run).
struct Seen {
  torch::Tensor features, labels;
};

Seen classify(Classifier& net, const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> features, labels;
  for (int64_t first = 0; first < images.size(0); first += 500) {
    const torch::Tensor x = images.slice(0, first, std::min(first + 500, images.size(0))).to(torch::kFloat32);
    features.push_back(net->features(x));
    labels.push_back(net->logits(features.back()).argmax(1));
  }
  return {torch::cat(features), torch::cat(labels)};
}

double accuracy(Classifier& net, const torch::Tensor& images, const torch::Tensor& labels) {
  return classify(net, images).labels.eq(labels).to(torch::kFloat64).mean().item<double>();
}

// FID between two image sets from their classifier features: the squared W2 of fitted Gaussians.
double fid(const torch::Tensor& a, const torch::Tensor& b) {
  const double w2 = sde::gaussian_w2(a, b);
  return w2 * w2;
}

int train(const std::string& out, int64_t epochs, uint64_t seed) {
  const sde::ImageDataset train = sde::load_fashion_mnist("train", sde::PixelScaling::kSymmetric);
  const sde::ImageDataset test = sde::load_fashion_mnist("test", sde::PixelScaling::kSymmetric);
  torch::manual_seed(seed);
  Classifier net;
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  const int64_t batch = 128, n = train.images.size(0);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    // Each epoch's order from the seed: randperm under a generator seeded by (seed, epoch).
    torch::manual_seed(seed * 1000 + uint64_t(epoch));
    const torch::Tensor order = torch::randperm(n);
    net->train();
    double loss_sum = 0;
    for (int64_t first = 0; first + batch <= n; first += batch) {
      const torch::Tensor index = order.slice(0, first, first + batch);
      const torch::Tensor loss =
          torch::nn::functional::cross_entropy(net->forward(train.images.index_select(0, index)), train.labels.index_select(0, index));
      adam.zero_grad();
      loss.backward();
      adam.step();
      loss_sum += loss.item<double>();
    }
    net->eval();
    std::printf("epoch %lld: mean loss %.4f, test accuracy %.4f, %.0f s\n", (long long)epoch + 1,
                loss_sum / double(n / batch), accuracy(net, test.images, test.labels),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    std::fflush(stdout);
  }
  std::filesystem::create_directories(out);
  const std::string temporary = weights_path(out) + ".tmp";
  torch::save(net, temporary);
  std::filesystem::rename(temporary, weights_path(out));
  std::printf("wrote %s\n", weights_path(out).c_str());
  return 0;
}

// A 3x3 box blur (edges replicated), in the images' own range.
torch::Tensor blurred(const torch::Tensor& images) {
  const torch::Tensor padded = torch::replication_pad2d(images, {1, 1, 1, 1});
  return torch::avg_pool2d(padded, 3, 1);
}

int calibrate(const std::string& model) {
  Classifier net = load_classifier(model);
  const sde::ImageDataset train = sde::load_fashion_mnist("train", sde::PixelScaling::kSymmetric);
  const sde::ImageDataset test = sde::load_fashion_mnist("test", sde::PixelScaling::kSymmetric);
  // Per class too: the ceiling of "classified as asked" for samples of that class (real shirts
  // are often taken for T-shirts, pullovers or coats).
  const Seen seen = classify(net, test.images);
  const torch::Tensor& predicted = seen.labels;
  std::printf("classifier test accuracy %.4f; per class:",
              predicted.eq(test.labels).to(torch::kFloat64).mean().item<double>());
  for (int64_t k = 0; k < 10; ++k) {
    const torch::Tensor mine = test.labels.eq(k);
    std::printf(" %lld %.3f", (long long)k, predicted.index({mine}).eq(k).to(torch::kFloat64).mean().item<double>());
  }
  std::printf("\n\n| images (10000 each unless said) | FID to the test set |\n|---|---:|\n");
  const torch::Tensor real = train.images.slice(0, 0, 10000);
  const sde::NoiseStream noise(7);
  const torch::Tensor z = noise.normal({0, 10000}, {1, 28, 28}, 0).to(torch::kFloat32);
  const struct {
    const char* name;
    torch::Tensor images;
  } rows[] = {
      {"training images (the floor: other real images)", real},
      {"training images, 1000", real.slice(0, 0, 1000)},
      {"training images, 2000", real.slice(0, 0, 2000)},
      {"training images blurred 3x3", blurred(real)},
      {"training images blurred twice", blurred(blurred(real))},
      {"training images + N(0, 0.05^2) noise", (real + 0.05 * z).clamp(-1, 1)},
      {"training images + N(0, 0.1^2) noise", (real + 0.1 * z).clamp(-1, 1)},
      {"training images + N(0, 0.2^2) noise", (real + 0.2 * z).clamp(-1, 1)},
      {"training images of classes 0-4 only",
       real.index_select(0, train.labels.slice(0, 0, 10000).lt(5).nonzero().squeeze(1))},
      {"pure noise N(0, 0.5^2), clamped", (0.5 * z).clamp(-1, 1)},
  };
  for (const auto& row : rows)
    std::printf("| %s | %.2f |\n", row.name, fid(classify(net, row.images).features, seen.features));
  return 0;
}

// The classes the classifier sees in the samples against those it sees in the test images (a
// classifier's own confusions cancel): FID rises when a sampler misses or favours classes, and
// this says which. The total variation sum_k |p_k - q_k| / 2 is compared with what n draws from
// the test mix give by chance alone, sum_k sqrt(2 q_k (1 - q_k) / (pi n)) / 2 (the mean absolute
// deviation of a binomial share, to a normal approximation).
void print_class_mix(const torch::Tensor& got, const torch::Tensor& test_labels) {
  const double n = double(got.size(0));
  const torch::Tensor p = torch::bincount(got, {}, 10).to(torch::kFloat64) / n;
  const torch::Tensor q = torch::bincount(test_labels, {}, 10).to(torch::kFloat64) / double(test_labels.size(0));
  std::printf("class\tshare of samples\tof test images (the classifier's labels)\n");
  for (int64_t k = 0; k < 10; ++k)
    std::printf("%lld\t%.3f\t%.3f\n", (long long)k, p[k].item<double>(), q[k].item<double>());
  const double chance = (q * (1 - q) * (2 / (M_PI * n))).sqrt().sum().item<double>() / 2;
  std::printf("class mix: total variation %.3f from the test images' (n draws of theirs: about %.3f)\n",
              ((p - q).abs().sum() / 2).item<double>(), chance);
}

int score(const std::string& samples_path, const std::string& model, bool classes) {
  Classifier net = load_classifier(model);
  const sde::ImageDataset test = sde::load_fashion_mnist("test", sde::PixelScaling::kSymmetric);
  const torch::Tensor pixels = sde::load_npy(samples_path).to(torch::kFloat32);
  if (pixels.dim() != 4 || pixels.size(1) != 1 || pixels.size(2) != 28 || pixels.size(3) != 28) {
    std::fprintf(stderr, "%s has shape %s; Fashion-MNIST samples are (n, 1, 28, 28)\n", samples_path.c_str(),
                 c10::str(pixels.sizes()).c_str());
    return 1;
  }
  if (!torch::isfinite(pixels).all().item<bool>()) {
    std::fprintf(stderr, "%s holds NaN or infinite pixels; a diverged sampler made them (sample again)\n",
                 samples_path.c_str());
    return 1;
  }
  const torch::Tensor samples = pixels * 2 - 1;
  const Seen seen = classify(net, samples), test_seen = classify(net, test.images);
  std::printf("FID %.3f (%lld samples against the 10000 test images)\n", fid(seen.features, test_seen.features),
              (long long)samples.size(0));
  const torch::Tensor& got = seen.labels;
  print_class_mix(got, test_seen.labels);
  if (classes) {
    // Sample i was asked for class i mod 10 (scoresde sample --class all).
    const torch::Tensor asked = torch::arange(samples.size(0)).remainder(10);
    std::printf("class\tshare classified as asked\n");
    double worst = 1;
    for (int64_t k = 0; k < 10; ++k) {
      const torch::Tensor mine = asked.eq(k);
      const double share = got.index({mine}).eq(k).to(torch::kFloat64).mean().item<double>();
      worst = std::min(worst, share);
      std::printf("%lld\t%.3f\n", (long long)k, share);
    }
    std::printf("all\t%.3f (worst class %.3f)\n", got.eq(asked).to(torch::kFloat64).mean().item<double>(), worst);
  }
  return 0;
}

// FID against NFE from bench/fashion_table.sh's CSV (solver,setting,steps,nfe,fid,...): a panel
// per setting, a curve per solver (an adaptive solver's single cell is a point), and the FID of
// real images at the table's sample count as the dashed floor.
int plot(const std::string& table, const std::string& out, double floor) {
  std::ifstream in(table);
  if (!in) throw std::runtime_error("cannot read " + table + " (bench/fashion_table.sh writes it)");
  std::string line;
  std::getline(in, line);
  if (line.rfind("solver,setting,steps,nfe,fid", 0) != 0)
    throw std::runtime_error(table + " is not a table of bench/fashion_table.sh (header: " + line + ")");
  std::map<std::string, std::map<std::string, sde::Series>> curves;  // setting -> solver -> points
  std::vector<std::string> settings;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    if (cells.size() < 5) continue;
    if (!curves.count(cells[1])) settings.push_back(cells[1]);
    sde::Series& series = curves[cells[1]][cells[0]];
    series.label = cells[0];
    series.x.push_back(std::stod(cells[3]));
    series.y.push_back(std::stod(cells[4]));
  }
  if (settings.empty()) throw std::runtime_error(table + " has no rows yet");
  // One colour per solver in every panel, though not every panel holds every solver.
  std::map<std::string, int> colors;
  for (auto& [setting, solvers] : curves)
    for (auto& [solver, points] : solvers) colors.emplace(solver, int(colors.size()));
  std::vector<sde::Panel> panels;
  for (const std::string& setting : settings) {
    std::vector<sde::Series> series;
    for (auto& [solver, points] : curves[setting]) {
      series.push_back(points);
      series.back().color = colors.at(solver);
    }
    sde::LinePlotOptions options;
    options.width = 560;
    options.height = 380;
    options.x_label = "NFE per sample";
    options.y_label = "FID (our features)";
    options.reference = floor;
    options.reference_label = "real images";
    panels.push_back({sde::log_log_plot(series, options), setting});
  }
  sde::save_png(out, sde::gallery(panels, std::min<int>(int(panels.size()), 2), "FID against NFE"));
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fashion-MNIST FID on the features of our own classifier"};
  app.require_subcommand(1);
  std::string model = std::string(SCORESDE_SOURCE_DIR) + "/models/fashion-mnist-classifier", samples;
  int64_t epochs = 3;
  uint64_t seed = 0;
  bool classes = false;
  CLI::App* train_cmd = app.add_subcommand("train", "train the classifier and save it");
  train_cmd->add_option("--out", model, "directory of classifier.pt")->capture_default_str();
  train_cmd->add_option("--epochs", epochs, "passes over the 60000 training images")->capture_default_str();
  train_cmd->add_option("--seed", seed, "initial weights and batch order")->capture_default_str();
  CLI::App* calibrate_cmd = app.add_subcommand("calibrate", "FID of real and degraded images against the test set");
  calibrate_cmd->add_option("--model", model, "the classifier's directory")->capture_default_str();
  CLI::App* score_cmd = app.add_subcommand("score", "FID of samples; per-class accuracy of class-conditional ones");
  score_cmd->add_option("samples", samples, "an .npy of (n, 1, 28, 28) images, pixels in [0, 1]")->required();
  score_cmd->add_option("--model", model, "the classifier's directory")->capture_default_str();
  score_cmd->add_flag("--classes", classes, "sample i was asked for class i mod 10 (scoresde sample --class all)");
  std::string table, picture;
  double floor = std::nan("");
  CLI::App* plot_cmd = app.add_subcommand("plot", "FID against NFE from bench/fashion_table.sh's table.csv");
  plot_cmd->add_option("table", table, "table.csv")->required()->check(CLI::ExistingFile);
  plot_cmd->add_option("out", picture, "the picture (.png)")->required();
  plot_cmd->add_option("--floor", floor, "FID of real images at the table's sample count (dashed line)");
  CLI11_PARSE(app, argc, argv);
  try {
    if (app.got_subcommand(train_cmd)) return train(model, epochs, seed);
    if (app.got_subcommand(calibrate_cmd)) return calibrate(model);
    if (app.got_subcommand(plot_cmd)) return plot(table, picture, floor);
    return score(samples, model, classes);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_fashion_fid: %s\n", e.what());
    return 1;
  }
}
