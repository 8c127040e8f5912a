#include "model_options.hpp"

#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <algorithm>
#include <filesystem>

#include "sde/core/errors.hpp"
#include "sde/core/parameterized_score.hpp"

namespace sde::cli {

void add_model_options(CLI::App* cmd, ModelArgs& args) {
  auto* target = add_target_option(cmd, args.problem.target, false);
  auto* model = cmd->add_option("--model", args.model,
                                "model directory written by `scoresde train`, or a TorchScript file (instead of --target)")
                    ->check(CLI::ExistingPath);
  target->excludes(model);
  add_sde_options(cmd, args.problem.sde);
  cmd->add_option("--parameterization", args.parameterization, "a TorchScript model's output: score|noise|data|v")
      ->check(CLI::IsMember(parameterization_names()));
  cmd->add_option("--conditioning", args.conditioning, "a TorchScript model's time label: time|999t|sigma|smld")
      ->check(CLI::IsMember(time_conditioning_names()));
  cmd->add_option("--shape", args.shape, "a TorchScript model's sample shape, e.g. 2 or 1,28,28")->delimiter(',');
  cmd->add_option("--classes", args.classes,
                  "a class-conditional TorchScript model's K: its forward(x, label, y) takes classes y, K = no class")
      ->check(CLI::Range(int64_t(1), int64_t(100000)));
  // score_sde's data scaler: centred data is 2 x - 1 (--data-scale 2 --data-shift -1). --shift
  // is the time grid's shift, hence the longer names.
  cmd->add_option("--data-scale", args.data_scale,
                  "a TorchScript model sees data-scale x + data-shift (score_sde's centred [0, 1] data: 2 and -1)")
      ->capture_default_str();
  cmd->add_option("--data-shift", args.data_shift, "see --data-scale")->capture_default_str();
  cmd->add_option("--device", args.device, "where the model and the samples live: cpu, cuda, cuda:N (a CUDA LibTorch)")
      ->capture_default_str();
}

int64_t default_batch(const std::vector<int64_t>& sample_shape) {
  int64_t entries = 1;
  for (const int64_t n : sample_shape) entries *= n;
  // Points: one batch, as the library does (the score model cuts a network's rows into fixed
  // blocks anyway). Images: a network keeps its activations for the whole batch, about 2 MB per
  // 28 x 28 sample for the shipped U-Net (4 MB guided, measured), and 10000 guided samples in one
  // batch needed 22 GB and were killed by the system without a word. 2^18 entries keep such a
  // batch under a gigabyte, and were faster too (1000 samples, 3 steps, two threads: 10.3 s and
  // 0.93 GB in batches of 334 against 14.9 s and 2.27 GB in one batch).
  if (entries <= kMaxPointEntries) return 0;
  return std::max<int64_t>(1, (int64_t{1} << 18) / entries);
}

torch::Device parse_device(const std::string& name) {
  std::optional<torch::Device> device;
  try {
    device.emplace(name);
  } catch (const c10::Error&) {
  }
  SDE_CHECK(device.has_value() && (device->is_cpu() || device->is_cuda()), "--device ", name,
            " is not a device name; use cpu, cuda or cuda:N");
  if (device->is_cuda()) {
    SDE_CHECK(torch::cuda::is_available(), "--device ", name, ": this LibTorch sees no CUDA device (Debian's libtorch is "
              "CPU-only); build scoresde against a CUDA LibTorch on a machine with a GPU, or use --device cpu");
    SDE_CHECK(!device->has_index() || device->index() < int(torch::cuda::device_count()), "--device ", name,
              ": there are only ", torch::cuda::device_count(), " CUDA devices");
  }
  return *device;
}

ModelSource open_model(const CLI::App* cmd, const ModelArgs& args) {
  SDE_CHECK(!args.problem.target.empty() || !args.model.empty(),
            cmd->get_name(), " needs --target MIXTURE.json (exact score) or --model (a trained model directory or a "
            "TorchScript file)");
  const bool directory = !args.model.empty() && std::filesystem::is_directory(args.model);
  const bool script_file = !args.model.empty() && !directory;
  SDE_CHECK(script_file || (args.parameterization.empty() && args.conditioning.empty() && args.shape.empty() &&
                            args.classes == 0 && !cmd->count("--data-scale") && !cmd->count("--data-shift")),
            "--parameterization, --conditioning, --shape, --classes, --data-scale and --data-shift describe a "
            "TorchScript file given as --model (a model directory or a mixture says all of it itself)");
  ModelSource source;
  source.device = parse_device(args.device);
  if (directory) {
    source.trained = load_model_dir(cmd, args.model);
    source.sde = source.trained->sde;
    source.scale = source.trained->metadata.data_scale;
    source.shift = source.trained->metadata.data_shift;
    if (!source.device.is_cpu()) source.trained->network.to(source.device, torch::kFloat32);
    return source;
  }
  source.sde = make_sde_from(cmd, args.problem.sde);
  if (script_file) {
    SDE_CHECK(!args.parameterization.empty() && !args.conditioning.empty() && !args.shape.empty(),
              "a TorchScript model does not say what it computes: give --parameterization, --conditioning and "
              "--shape (see docs/torchscript.md)");
    SDE_CHECK(std::isfinite(args.data_scale) && args.data_scale != 0 && std::isfinite(args.data_shift),
              "--data-scale ", args.data_scale, " and --data-shift ", args.data_shift,
              " must be finite, the scale nonzero");
    source.scripted = std::make_unique<TorchScriptScoreModel>(
        args.model, source.sde, parse_parameterization(args.parameterization), parse_time_conditioning(args.conditioning),
        args.shape, ConditionInputs{args.classes, false}, kAutoRows, source.device);
    source.scale = args.data_scale;
    source.shift = args.data_shift;
    return source;
  }
  source.exact = std::make_unique<GaussianMixtureScore>(GaussianMixture::from_json_file(args.problem.target), source.sde,
                                                        c10::nullopt, source.device);
  return source;
}

const ScoreModel& ModelSource::score() const {
  if (trained) return *trained->score;
  if (scripted) return *scripted;
  return *exact;
}

torch::Tensor ModelSource::to_data(const torch::Tensor& x) const { return (x - shift) / scale; }

std::pair<double, double> ModelSource::pixel_range(const torch::Tensor& samples) const {
  if (trained && trained->metadata.data_range) {
    const auto [low, high] = *trained->metadata.data_range;
    const double a = (low - shift) / scale, b = (high - shift) / scale;
    return {std::min(a, b), std::max(a, b)};
  }
  // A TorchScript file's data scaler names the data's range: the model's [-1, 1] in the data's units.
  if (scripted && (scale != 1 || shift != 0)) {
    const double a = (-1 - shift) / scale, b = (1 - shift) / scale;
    return {std::min(a, b), std::max(a, b)};
  }
  return samples.min().item<double>() < 0 ? std::make_pair(-1.0, 1.0) : std::make_pair(0.0, 1.0);
}

std::optional<std::pair<double, double>> ModelSource::data_range() const {
  if (trained) return trained->metadata.data_range;
  if (scripted && (scale != 1 || shift != 0)) return std::make_pair(-1.0, 1.0);
  return std::nullopt;
}

std::optional<GaussianMixture> ModelSource::data_density() const {
  if (exact) return exact->mixture();
  if (trained) return trained->metadata.data_density();
  return std::nullopt;
}

}  // namespace sde::cli
