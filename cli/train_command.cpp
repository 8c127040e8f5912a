#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "sde_options.hpp"
#include "validators.hpp"
#include "sde/core/checksum.hpp"
#include "sde/core/errors.hpp"
#include "sde/io/idx.hpp"
#include "sde/io/npy.hpp"
#include "sde/core/random.hpp"
#include "sde/core/sde_factory.hpp"
#include "sde/core/toy_data.hpp"
#include "sde/nn/trained_model.hpp"
#include "sde/nn/training.hpp"

namespace sde::cli {
namespace {

struct TrainArgs {
  std::string data, architecture = "mlp", out, parameterization = "noise", conditioning = "time", scale = "auto";
  std::string objective = "dsm";
  SdeConfig sde;
  NetworkSpec network;
  TrainOptions train;
  std::string labels;  ///< an .npy data file's class labels
  uint64_t data_seed = 0;
  bool resume = false;
};

// The data as a training source, and a sample of it for choosing the scale.
struct Data {
  TrainingData source;
  torch::Tensor sample;
  int64_t classes = 0;  ///< how many classes its labels name (0: no labels)
  torch::Tensor labels;  ///< an .npy file's labels (for the run's fingerprint)
  /// The data centred before --scale: centred = centre_scale x + centre_shift (Fashion-MNIST's
  /// pixels in [0, 1] to [-1, 1], score_sde's centred data; the identity for other data).
  double centre_scale = 1, centre_shift = 0;
};

Data open_data(const std::string& spec, uint64_t seed, const std::string& labels_file) {
  SDE_CHECK(labels_file.empty() || (spec.rfind("toy:", 0) != 0 && spec != "fashion-mnist"),
            "--labels is for an .npy --data file; toys and fashion-mnist bring their own labels");
  if (spec.rfind("toy:", 0) == 0) {
    const std::string name = spec.substr(4);
    return {toy_training_data(name, seed), toy_data(name, NoiseStream(seed), {0, 10000}), toy_classes(name)};
  }
  if (spec == "fashion-mnist") {
    // The data's units are pixels in [0, 1] (what samples come back in); the network sees them
    // centred to [-1, 1], as score_sde's data (docs/likelihood.md gives the bits/dim offset).
    const ImageDataset d = load_fashion_mnist("train", PixelScaling::kUnit);
    return {dataset_training_data(d.images, seed, d.labels), d.images, 10, {}, 2.0, -1.0};
  }
  const torch::Tensor x = load_npy(spec).to(torch::kFloat32);
  SDE_CHECK(x.dim() >= 2, "--data ", spec, " has shape ", x.sizes(), "; training data is (n, D) or (n, C, H, W)");
  if (labels_file.empty()) return {dataset_training_data(x, seed), x, 0};
  const torch::Tensor labels = load_npy(labels_file);
  SDE_CHECK(labels.dim() == 1 && !labels.is_floating_point(), "--labels ", labels_file, " must hold one integer class "
            "per row of the data (shape (n,)), got ", labels.scalar_type(), " of shape ", labels.sizes());
  SDE_CHECK(labels.numel() > 0 && labels.min().item<int64_t>() >= 0, "--labels ", labels_file, " must hold classes >= 0");
  return {dataset_training_data(x, seed, labels), x, labels.max().item<int64_t>() + 1, labels};
}

// The data's scale, and the model's space it gives: scale (centre_scale x + centre_shift). For
// centre_scale 2 and scale 1 the floats are those of 2 x - 1, so runs from before the data's units
// were pixels resume bit for bit.
struct Scaling {
  double scale = 1, model_scale = 1, model_shift = 0;
  /// "data scale 0.35", or "data scale 1 (the network sees 2 x - 1)" where the data are centred
  /// first: what model.json records as data_scale and data_shift.
  std::string describe() const {
    std::ostringstream text;
    text << "data scale " << scale;
    if (model_scale != scale || model_shift != 0)
      text << " (the network sees " << model_scale << " x " << (model_shift < 0 ? "- " : "+ ")
           << std::abs(model_shift) << ")";
    return text.str();
  }
};

// Checks the options against the data and completes the network and training settings from it.
Scaling configure(TrainArgs& args, const CLI::App* cmd, const Data& data, const Sde& sde) {
  SDE_CHECK(args.network.classes == 0 || args.network.classes == data.classes, "--classes ", args.network.classes,
            " does not match the data, whose labels name ", data.classes, " classes",
            data.classes == 0 ? " (it has none: give --labels FILE.npy)" : "; use --classes " + std::to_string(data.classes));
  const bool images = data.sample.dim() == 4;
  const bool classifier = args.objective == "classifier";
  SDE_CHECK(args.labels.empty() || classifier || args.network.classes > 0, "--labels ", args.labels,
            " would be read and not used: an unconditional network learns no classes; give --classes ", data.classes,
            " (or --objective classifier), or drop --labels");
  if (classifier) {
    // A noisy classifier: an MLP head of K logits over the (flattened) sample, no class input.
    SDE_CHECK(data.classes > 0, "--objective classifier learns the data's labels, and ", args.data,
              " has none: give --labels FILE.npy");
    SDE_CHECK(args.network.classes == 0, "--objective classifier trains a classifier of the data's ", data.classes,
              " classes; drop --classes (a classifier takes no class input)");
    SDE_CHECK(args.architecture == "mlp", "--objective classifier trains an mlp (images are flattened); drop --network unet");
    args.network.outputs = data.classes;
  }
  Scaling scaling;
  scaling.scale = args.scale != "auto" ? parse_finite("--scale", args.scale)
                  : images             ? 1.0
                                       : 1.0 / data.sample.std().item<double>();
  SDE_CHECK(std::isfinite(scaling.scale) && scaling.scale > 0, "--scale ", args.scale, " gives ", scaling.scale,
            "; it must be > 0");
  scaling.model_scale = scaling.scale * data.centre_scale;
  scaling.model_shift = scaling.scale * data.centre_shift;
  args.network.kind = args.architecture;
  args.network.sample_shape = data.sample.sizes().slice(1).vec();
  SDE_CHECK(classifier || images == (args.architecture == "unet"), "--network ", args.architecture, " does not take data of shape ",
            data.sample.sizes(), ": use --network mlp for (n, D) points and --network unet for (n, C, H, W) images");
  args.train.checkpoint_path = args.out + "/checkpoint.pt";
  args.train.objective = parse_training_objective(args.objective);
  if (!cmd->count("--fourier-scale"))
    args.network.fourier_scale = default_fourier_scale(parse_time_conditioning(args.conditioning), sde);
  // A checkpoint resumes only on the same data: the name, its scaling and seed, and a file's contents.
  nlohmann::json identity = {{"data", args.data}, {"scale", scaling.scale}, {"data_seed", args.data_seed}};
  if (data.labels.defined()) identity["labels_crc32"] = tensors_crc32({data.labels.contiguous()});
  if (args.data.rfind("toy:", 0) != 0 && args.data != "fashion-mnist") identity["crc32"] = tensors_crc32({data.sample});
  args.train.data_identity = identity.dump();
  return scaling;
}

// Runs the trainer to --steps. On a terminal a progress bar; otherwise (logs) a line every
// --log-every steps. Either way a final line with the loss and the time stays (rank 0 only).
void train_with_progress(Trainer& trainer, const TrainArgs& args, const TrainingData& source, const Scaling& scaling,
                         bool root) {
  const bool terminal = root && stderr_is_terminal();
  ProgressBarOptions bar_options;
  bar_options.initial = double(trainer.steps_done());
  bar_options.enabled = terminal;
  ProgressBar bar("training", double(args.train.steps), bar_options);
  const int64_t first_step = trainer.steps_done();
  double last_loss = NAN;
  trainer.run(scaled_training_data(source, scaling.model_scale, scaling.model_shift), [&](const TrainProgress& p) {
    if (!root) return;
    last_loss = p.loss;
    char loss[32];
    std::snprintf(loss, sizeof loss, "loss %.5f", p.loss);
    if (terminal) {
      bar.update(double(p.step), loss);
    } else {
      std::printf("step %7lld/%lld  %s  %.1f it/s  ETA %s\n", (long long)p.step, (long long)p.steps, loss,
                  p.steps_per_second, clock_time(p.eta_seconds).c_str());
      std::fflush(stdout);
    }
  });
  const double seconds = bar.elapsed();
  bar.close();
  if (!root) return;
  if (trainer.steps_done() == first_step) {
    std::printf("no steps to train: the model is at step %lld of --steps %lld already\n", (long long)first_step,
                (long long)args.train.steps);
    return;
  }
  const int64_t steps = trainer.steps_done() - first_step;
  std::printf("trained steps %lld to %lld in %s (%.1f it/s), loss %.5f (mean over the last --log-every steps)\n",
              (long long)first_step, (long long)trainer.steps_done(), clock_time(seconds).c_str(),
              seconds > 0 ? double(steps) / seconds : 0.0, last_loss);
}

// What model.json records: the process, the network, the data's scaling and the sampler to use.
ModelMetadata model_metadata(const TrainArgs& args, const Data& data, const Scaling& scaling, const Trainer& trainer) {
  ModelMetadata meta;
  meta.sde = args.sde;
  meta.parameterization = parse_parameterization(args.parameterization);
  meta.conditioning = parse_time_conditioning(args.conditioning);
  meta.network = args.network;
  meta.data = args.data;
  meta.data_scale = scaling.model_scale;
  meta.data_shift = scaling.model_shift;
  meta.steps_trained = trainer.steps_done();
  if (data.sample.dim() == 4) {  // images: the range the data prediction may be bounded to, in the model's space
    const auto [low, high] = data.sample.aminmax();
    meta.data_range = std::make_pair(low.item<double>() * scaling.model_scale + scaling.model_shift,
                                     high.item<double>() * scaling.model_scale + scaling.model_shift);
    // An image network costs ~1000x a toy's per call: sample it with a fast solver by default,
    // its data prediction clipped to the data's range (measured on Fashion-MNIST: FID no worse
    // unguided, 10-13 % lower under guidance; models/README.md).
    meta.sampler = {"dpmpp-2m", 20, "logsnr", true};
  }
  return meta;
}

}  // namespace

Action add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "train a score network by denoising score matching");
  std::string toys;
  for (const auto& name : toy_data_names()) toys += (toys.empty() ? "toy:" : "|toy:") + name;
  cmd->add_option("--data", args->data, toys + "|fashion-mnist|FILE.npy (n, D) or (n, C, H, W)")->required();
  add_sde_options(cmd, args->sde);
  cmd->add_option("--network", args->architecture, "architecture: mlp for (n, D) points, unet for (n, C, H, W) images")
      ->check(CLI::IsMember({"mlp", "unet"}))->capture_default_str();
  // --model names a model (a directory or file) everywhere else; here it once named the network.
  cmd->add_option_function<std::string>(
         "--model",
         [](const std::string& value) -> void {
           throw CLI::ValidationError("--model", "train writes the model to --out; the architecture is --network " +
                                                     value + " (--model names a trained model in sample and likelihood)");
         },
         "")
      ->group("");
  cmd->add_option("--channels", args->network.channels, "U-Net base channels")->capture_default_str();
  cmd->add_option("--channel-mult", args->network.channel_mult, "U-Net channel multipliers per level")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--res-blocks", args->network.res_blocks, "U-Net residual blocks per level")->capture_default_str();
  cmd->add_option("--dropout", args->network.dropout, "U-Net dropout")->capture_default_str();
  cmd->add_option("--width", args->network.width, "hidden units per layer")->capture_default_str();
  cmd->add_option("--depth", args->network.depth, "hidden layers")->capture_default_str();
  cmd->add_option("--activation", args->network.activation, "silu|relu|gelu|tanh")->capture_default_str();
  cmd->add_option("--classes", args->network.classes,
                  "class-conditional network over K classes (the data's: toy:ring 8, fashion-mnist 10; 0: unconditional)")
      ->capture_default_str();
  cmd->add_option("--label-dropout", args->train.label_dropout,
                  "class-conditional: fraction of labels replaced by 'no class' (classifier-free guidance)")
      ->capture_default_str();
  cmd->add_option("--labels", args->labels, "class labels of an .npy --data file: .npy of shape (n,), integers")
      ->check(CLI::ExistingFile);
  cmd->add_option("--fourier-scale", args->network.fourier_scale,
                  "std of the time-embedding frequencies (default: 16 / the label range)");
  cmd->add_option("--parameterization", args->parameterization, "what the network predicts")
      ->check(CLI::IsMember(parameterization_names()))->capture_default_str();
  cmd->add_option("--conditioning", args->conditioning, "time label the network sees")
      ->check(CLI::IsMember(time_conditioning_names()))->capture_default_str();
  cmd->add_option("--objective", args->objective,
                  "dsm (continuous) | ddpm (VP, --parameterization noise --conditioning 999t) | "
                  "smld (VE, --parameterization noise|score --conditioning smld) | "
                  "classifier (a noisy classifier p_t(y | x) of the data's labels, for classifier guidance)")
      ->check(CLI::IsMember(training_objective_names()))->capture_default_str();
  cmd->add_option("--steps", args->train.steps, "optimizer steps")->capture_default_str();
  cmd->add_option("--batch", args->train.batch, "samples per step")->capture_default_str();
  cmd->add_option("--lr", args->train.lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--warmup", args->train.warmup, "linear warm-up steps")->capture_default_str();
  cmd->add_option("--lr-decay-steps", args->train.lr_decay_steps,
                  "cosine decay of the lr after the warm-up, to 0 at this step (0: constant; >= --steps)")
      ->capture_default_str();
  cmd->add_option("--grad-clip", args->train.grad_clip, "gradient-norm clip (0: off)")->capture_default_str();
  cmd->add_option("--ema", args->train.ema_decay, "EMA decay of the weights")->capture_default_str();
  cmd->add_option("--ema-power", args->train.ema_power,
                  "power-function EMA p, decay (1 - 1/k)^(p + 1) at step k, instead of --ema (0: off; 7: the "
                  "average's mean age is a ninth of the run)")
      ->capture_default_str();
  cmd->add_option("--seed", args->train.seed, "seed of the times, the noise and the initial weights")->capture_default_str();
  cmd->add_option("--data-seed", args->data_seed, "seed of the data draws")->capture_default_str();
  cmd->add_flag("--likelihood-weighting", args->train.loss.likelihood_weighting, "weight the loss by g(t)^2");
  cmd->add_flag("--reduce-mean", args->train.loss.reduce_mean, "average the loss over a sample's entries");
  cmd->add_option("--scale", args->scale, "data scale: auto (points: 1 / the data's std; images: 1) or a number; fashion-mnist's pixels "
                  "in [0, 1] are centred to [-1, 1] first")
      ->capture_default_str();
  cmd->add_option("--log-every", args->train.log_every, "progress line every K steps (0: none)")->capture_default_str();
  cmd->add_option("--checkpoint-every", args->train.checkpoint_every, "checkpoint every K steps (0: at the end)")
      ->capture_default_str();
  cmd->add_flag("--resume", args->resume, "continue from OUT/checkpoint.pt");
  cmd->add_option("--out", args->out, "model directory (model.json, weights.pt, checkpoint.pt)")->required();

  return [args, cmd](const Invocation&) {
    const auto sde = make_sde_from(cmd, args->sde);
    const Data data = open_data(args->data, args->data_seed, args->labels);
    const Scaling scaling = configure(*args, cmd, data, *sde);
    Trainer trainer(sde, ScoreNetwork(args->network, args->train.seed), parse_parameterization(args->parameterization),
                    parse_time_conditioning(args->conditioning), args->train);  // checks the options
    for (const char* file : {"model.json", "checkpoint.pt"})
      SDE_CHECK(args->resume || !std::filesystem::exists(args->out + "/" + file), "--out ", args->out,
                " holds a trained model (", file, "); continue it with --resume, or train anew into another --out "
                "(or remove this one first)");
    const OutputDirectory out(args->out);  // refused if a file; removed again if training fails before writing
    // Several processes (torchrun's RANK/WORLD_SIZE or mpirun): data-parallel, rank 0 logs and writes.
    const ProcessGroupOptions distributed = ProcessGroupOptions::from_environment();
    std::unique_ptr<ProcessGroup> group;
    if (distributed.world_size > 1) {
      group = std::make_unique<ProcessGroup>(distributed);
      trainer.set_process_group(group.get());
    }
    const bool root = !group || group->is_root();
    if (args->resume) trainer.load_checkpoint(args->train.checkpoint_path);
    if (root)
      std::cout << (group ? "data-parallel over " + std::to_string(group->world_size()) + " processes: " : "")
                << "training " << args->architecture << " (" << trainer.network().parameter_count() << " parameters) on "
                << args->data << " under " << sde->name() << ", " << scaling.describe() << ", from step "
                << trainer.steps_done() << " to " << args->train.steps << "\n";
    train_with_progress(trainer, *args, data.source, scaling, root);
    if (!root) return 0;  // rank 0 writes the model
    save_trained_model(args->out, model_metadata(*args, data, scaling, trainer), trainer.ema());
    std::cout << "wrote " << args->out << "/model.json, weights.pt (EMA), checkpoint.pt\n";
    return 0;
  };
}

}  // namespace sde::cli
