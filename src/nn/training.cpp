#include "sde/nn/training.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/archive_errors.hpp"
#include "sde/core/atomic_file.hpp"
#include "sde/core/checksum.hpp"
#include "sde/core/errors.hpp"
#include "sde/core/random.hpp"
#include "sde/core/toy_data.hpp"
#include "sde/core/ve_sde.hpp"
#include "sde/core/vp_sde.hpp"

namespace sde {

namespace {

// A checkpoint file: this line, then the archive's length (8 bytes) and CRC-32 (4 bytes), both
// little-endian, then LibTorch's archive. The line says what the file is, so a weights file or
// another program's archive is refused by name rather than half-read; the CRC is checked before
// LibTorch parses anything (its archive reader crashes on some damaged files: found by
// fuzz_checkpoint in LibTorch 1.13's TorchScript type parser).
constexpr char kCheckpointMagic[] = "scoresde checkpoint 2\n";
constexpr size_t kMagicBytes = sizeof kCheckpointMagic - 1, kHeaderBytes = kMagicBytes + 12;

// The draws of a training step (see the header): t from draw 0, z from draw 1 of the trainer's
// stream; a data set's row indices from draw 0 of the data's own stream.
constexpr uint32_t kTimeDraw = 0, kNoiseDraw = 1, kIndexDraw = 0, kLabelDropDraw = 2;

}  // namespace

TrainingData scaled_training_data(TrainingData data, double scale, double shift) {
  return [data = std::move(data), scale, shift](int64_t step, int64_t batch) {
    TrainingBatch b = data(step, batch);
    b.x0 = b.x0 * scale + shift;
    return b;
  };
}

TrainingData toy_training_data(const std::string& name, uint64_t seed) {
  toy_data(name, NoiseStream(seed), {0, 1});  // an unknown name fails here, not at the first step
  return [name, seed](int64_t step, int64_t batch) {
    const SampleRange range{step * batch, batch};
    return TrainingBatch(toy_data(name, NoiseStream(seed), range), toy_labels(name, NoiseStream(seed), range));
  };
}

TrainingData dataset_training_data(torch::Tensor data, uint64_t seed, torch::Tensor labels) {
  SDE_CHECK(data.defined() && data.dim() >= 2 && data.size(0) >= 1,
            "training data must have shape [N, ...] with N >= 1, got ", data.defined() ? data.sizes() : c10::IntArrayRef{});
  const torch::Tensor finite = torch::isfinite(data).reshape({data.size(0), -1}).all(1);
  if (!finite.all().item<bool>()) {
    const int64_t row = (~finite).nonzero()[0][0].item<int64_t>();
    throw InvalidArgument(detail::concat("training data row ", row, " holds NaN or infinity; clean or drop it"));
  }
  SDE_CHECK(!labels.defined() || (labels.dim() == 1 && labels.size(0) == data.size(0) && !labels.is_floating_point()),
            "training labels must be integers, one per row of the data (", data.size(0), "), got ",
            labels.defined() ? labels.sizes() : c10::IntArrayRef{});
  return [data = data.contiguous(), labels = labels.defined() ? labels.to(torch::kInt64) : labels, seed](int64_t step,
                                                                                                       int64_t batch) {
    const torch::Tensor u = NoiseStream(seed).uniform({step * batch, batch}, {}, kIndexDraw, torch::kFloat64);
    const torch::Tensor index = (u * double(data.size(0))).floor().clamp_max(double(data.size(0) - 1)).to(torch::kLong);
    return TrainingBatch(data.index_select(0, index), labels.defined() ? labels.index_select(0, index) : labels);
  };
}

void TrainOptions::validate() const {
  SDE_CHECK(steps >= 1, "training steps = ", steps, " must be >= 1");
  SDE_CHECK(batch >= 1, "training batch = ", batch, " must be >= 1");
  SDE_CHECK(std::isfinite(lr) && lr > 0, "learning rate lr = ", lr, " must be finite and > 0");
  SDE_CHECK(warmup >= 0, "warmup = ", warmup, " must be >= 0 steps");
  SDE_CHECK(lr_decay_steps == 0 || lr_decay_steps > warmup, "lr_decay_steps = ", lr_decay_steps,
            " must be 0 (no decay) or past the warm-up (", warmup, " steps)");
  SDE_CHECK(lr_decay_steps == 0 || steps <= lr_decay_steps, "training to step ", steps, " past lr_decay_steps = ",
            lr_decay_steps, " would take steps at learning rate 0; set the decay to at least the steps");
  SDE_CHECK(std::isfinite(grad_clip) && grad_clip >= 0, "grad_clip = ", grad_clip, " must be >= 0 (0: off)");
  SDE_CHECK(ema_decay >= 0 && ema_decay < 1, "ema_decay = ", ema_decay, " must lie in [0, 1)");
  SDE_CHECK(std::isfinite(ema_power) && ema_power >= 0, "ema_power = ", ema_power,
            " must be >= 0 (0: the fixed ema_decay; EDM2's sigma_rel 0.10 is about 6.9)");
  SDE_CHECK(std::isfinite(eps) && eps > 0 && eps < 1, "eps = ", eps, " must lie in (0, 1)");
  SDE_CHECK(log_every >= 0 && checkpoint_every >= 0, "log_every and checkpoint_every must be >= 0");
  SDE_CHECK(label_dropout >= 0 && label_dropout < 1, "label_dropout = ", label_dropout,
            " must lie in [0, 1) (0.1 trains the unconditional score on a tenth of the batch)");
  SDE_CHECK(objective == TrainingObjective::kDsm || !loss.likelihood_weighting,
            "the likelihood weighting is a DSM option; the ", training_objective_name(objective),
            " loss has its own fixed weighting");
}

double learning_rate_at(const TrainOptions& o, int64_t k) {
  // Linear warm-up (the reference's optimization_manager): lr min(1, (k + 1) / warmup).
  const double warm = o.warmup > 0 ? std::min(1.0, double(k + 1) / double(o.warmup)) : 1.0;
  if (o.lr_decay_steps == 0) return o.lr * warm;
  const double progress = std::max(0.0, double(k - o.warmup) / double(o.lr_decay_steps - o.warmup));
  return o.lr * warm * 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, progress)));
}

double ema_decay_at(const TrainOptions& o, int64_t k) {
  if (o.ema_power == 0) return o.ema_decay;
  return std::pow(1.0 - 1.0 / double(k + 1), o.ema_power + 1.0);
}

TrainingObjective parse_training_objective(const std::string& name) {
  if (name == "dsm") return TrainingObjective::kDsm;
  if (name == "ddpm") return TrainingObjective::kDdpm;
  if (name == "smld") return TrainingObjective::kSmld;
  if (name == "classifier") return TrainingObjective::kClassifier;
  throw InvalidArgument("unknown training objective '" + name + "'; known: dsm, ddpm, smld, classifier");
}

std::vector<std::string> training_objective_names() { return {"dsm", "ddpm", "smld", "classifier"}; }

std::string training_objective_name(TrainingObjective objective) {
  switch (objective) {
    case TrainingObjective::kDsm: return "dsm";
    case TrainingObjective::kDdpm: return "ddpm";
    case TrainingObjective::kSmld: return "smld";
    case TrainingObjective::kClassifier: return "classifier";
  }
  return "?";
}

namespace {

// One process's share of a training step: its rows of the global batch, with the draws those
// rows have in one process, and their condition.
struct LocalBatch {
  torch::Tensor x0, u, z;  ///< data, uniform time draws, noise
  Condition condition;
};

}  // namespace

struct Trainer::Impl {
  std::shared_ptr<const Sde> sde;
  ScoreNetwork network, ema;
  Parameterization parameterization;
  TimeConditioning conditioning;
  TrainOptions options;
  std::unique_ptr<torch::optim::Adam> adam;
  int64_t step = 0;
  const ProcessGroup* group = nullptr;
  DdpmSchedule ddpm;          // objective ddpm
  torch::Tensor smld_sigmas;  // objective smld

  /// The step's loss under the objective, on this process's rows.
  torch::Tensor loss(const LocalBatch& batch) const;
  /// Backward, all-reduce, finiteness check, clipping, Adam and the EMA; the (global) loss.
  double apply(const torch::Tensor& loss);

  // What a checkpoint must match to be resumed here: everything that changes the trajectory
  // except the number of steps.
  std::string fingerprint() const {
    nlohmann::json j = {{"network", nlohmann::json::parse(network.spec().to_json())},
                        {"sde", sde->name()},
                        {"sde_sigma_half", sde->sigma(0.5)},
                        {"sde_T", sde->t_max()},
                        {"parameterization", name_of(parameterization)},
                        {"conditioning", name_of(conditioning)},
                        {"batch", options.batch},
                        {"lr", options.lr},
                        {"warmup", options.warmup},
                        {"grad_clip", options.grad_clip},
                        {"ema_decay", options.ema_decay},
                        {"seed", options.seed},
                        {"eps", options.eps},
                        {"objective", training_objective_name(options.objective)},
                        {"likelihood_weighting", options.loss.likelihood_weighting},
                        {"reduce_mean", options.loss.reduce_mean},
                        {"label_dropout", network.spec().classes > 0 ? options.label_dropout : 0.0},
                        {"data", options.data_identity}};
    // Only where they are on, so that checkpoints written before the options existed still resume.
    if (options.lr_decay_steps > 0) j["lr_decay_steps"] = options.lr_decay_steps;
    if (options.ema_power > 0) {
      j.erase("ema_decay");  // unused then
      j["ema_power"] = options.ema_power;
    }
    return j.dump();
  }

  std::unique_ptr<ScoreModel> score_model(const ScoreNetwork& net) const {
    return score_model_of(sde, net, parameterization, conditioning);
  }
};

Trainer::Trainer(std::shared_ptr<const Sde> sde, ScoreNetwork network, Parameterization parameterization,
                 TimeConditioning conditioning, TrainOptions options)
    : impl_(std::make_unique<Impl>(Impl{std::move(sde), network, network.clone(), parameterization, conditioning,
                                        std::move(options), nullptr, 0, nullptr, {}, {}})) {
  SDE_CHECK(impl_->sde != nullptr, "trainer: the SDE must not be null");
  impl_->options.validate();
  // The discrete losses fix the SDE family, the output and the labels (score_sde's conventions).
  const TrainingObjective objective = impl_->options.objective;
  if (objective == TrainingObjective::kDdpm) {
    const auto* vp = dynamic_cast<const VpSde*>(impl_->sde.get());
    SDE_CHECK(vp != nullptr && parameterization == Parameterization::kNoise &&
                  conditioning == TimeConditioning::kDiscrete999,
              "the ddpm objective trains a VP noise predictor with 999t labels; got sde ", impl_->sde->name(),
              ", parameterization ", name_of(parameterization), ", conditioning ", name_of(conditioning));
    impl_->ddpm = DdpmSchedule::of(vp->schedule());
  } else if (objective == TrainingObjective::kSmld) {
    const auto* ve = dynamic_cast<const VeSde*>(impl_->sde.get());
    SDE_CHECK(ve != nullptr &&
                  (parameterization == Parameterization::kScore || parameterization == Parameterization::kNoise) &&
                  conditioning == TimeConditioning::kSmldIndex,
              "the smld objective trains a VE score or noise network with smld labels; got sde ", impl_->sde->name(),
              ", parameterization ", name_of(parameterization), ", conditioning ", name_of(conditioning));
    impl_->smld_sigmas = smld_sigmas(ve->schedule());
  } else if (objective == TrainingObjective::kClassifier) {
    const NetworkSpec& spec = impl_->network.spec();
    SDE_CHECK(spec.outputs > 0 && spec.classes == 0, "the classifier objective trains a network with a head of K "
              "outputs (NetworkSpec::outputs = K) and no class input; got outputs = ", spec.outputs, ", classes = ",
              spec.classes);
  }
  impl_->network.set_training(true);
  impl_->ema.set_training(false);
  for (auto& p : impl_->ema.parameters()) p.requires_grad_(false);  // sampling builds no graph
  impl_->adam = std::make_unique<torch::optim::Adam>(impl_->network.parameters(),
                                                     torch::optim::AdamOptions(impl_->options.lr));
}

Trainer::~Trainer() = default;

namespace {

// The rows of the global batch this process trains on, in the network's dtype and device (an
// .npy file is often float64, the network float32), with their draws. A class-conditional network
// learns from the labels, a fraction label_dropout of them replaced by "no class" (its null class:
// the unconditional score of classifier-free guidance); a classifier keeps every label.
LocalBatch local_batch(const TrainingBatch& batch, const ScoreNetwork& network, const TrainOptions& o,
                              int64_t step, const ProcessGroup* group) {
  const torch::Tensor& data = batch.x0;
  const torch::Tensor first = network.parameters().front();
  const int world = group ? group->world_size() : 1;
  const int64_t global_batch = data.size(0), b = global_batch / world;
  SDE_CHECK(global_batch % world == 0, "the batch ", global_batch, " does not divide by the ", world,
            " processes; choose a batch that is a multiple of the world size");
  const int64_t offset = group ? group->rank() * b : 0;
  LocalBatch local;
  local.x0 = data.narrow(0, offset, b).to(first.device(), first.scalar_type());
  const NoiseStream noise(o.seed);
  const SampleRange range{step * global_batch + offset, b};
  local.u = noise.uniform(range, {}, kTimeDraw, local.x0.options());
  local.z = noise.normal(range, local.x0.sizes().slice(1), kNoiseDraw, local.x0.options());
  const bool classifier = o.objective == TrainingObjective::kClassifier;
  const int64_t classes = classifier ? network.spec().outputs : network.spec().classes;
  if (classes == 0) return local;
  SDE_CHECK(batch.labels.defined() && batch.labels.dim() == 1 && batch.labels.size(0) == global_batch,
            classifier ? "a classifier (" : "a class-conditional network (", "classes = ", classes,
            ") trains on labelled data: give one class label "
            "per sample (toys and Fashion-MNIST have them; an .npy data file needs --labels FILE)");
  torch::Tensor labels = batch.labels.narrow(0, offset, b).to(first.device(), torch::kInt64);
  SDE_CHECK(labels.numel() == 0 || (labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < classes),
            "training labels must lie in [0, ", classes, ") for a network of ", classes, " classes");
  const double dropout = classifier ? 0.0 : o.label_dropout;
  const torch::Tensor drop = noise.uniform(range, {}, kLabelDropDraw, torch::kFloat64).to(first.device()).lt(dropout);
  local.condition.labels = labels.masked_fill(drop, kUnconditional);
  return local;
}

}  // namespace

torch::Tensor Trainer::Impl::loss(const LocalBatch& b) const {
  const TrainOptions& o = options;
  const torch::Tensor& x0 = b.x0;
  if (o.objective == TrainingObjective::kClassifier) {
    const torch::Tensor t = b.u * (sde->t_max() - o.eps) + o.eps;
    const torch::Tensor x_t = per_sample(sde->alpha(t), x0) * x0 + per_sample(sde->sigma(t), x0) * b.z;
    const torch::Tensor logits = network.forward(x_t, time_label(conditioning, *sde, t).to(x0.dtype()));
    return torch::nn::functional::cross_entropy(logits, b.condition.labels);
  }
  if (o.objective == TrainingObjective::kDsm) {
    const torch::Tensor t = b.u * (sde->t_max() - o.eps) + o.eps;
    return dsm_loss(*sde, *score_model(network), x0, t, b.z, o.loss, b.condition).mean();
  }
  // A step index, uniform on [0, 1000), from the same draw as the continuous time.
  const torch::Tensor labels = (b.u.to(torch::kFloat64) * 1000.0).floor().clamp_max(999).to(torch::kLong);
  const ScoreNetwork net = network;
  const torch::Tensor classes_seen = b.condition.labels;
  Network forward = [net, classes_seen](const torch::Tensor& x, const torch::Tensor& label) {
    return net.forward(x, label, classes_seen);
  };
  if (o.objective == TrainingObjective::kSmld && parameterization == Parameterization::kNoise) {
    // A noise predictor as the score smld_loss takes: s = -eps / sigma_i. Its loss is then
    // || z - eps ||^2, as well scaled at sigma_min as at sigma_max (a raw score spans 1e-4..1e4).
    const torch::Tensor sigma = per_sample(smld_sigmas.index_select(0, labels).to(x0.dtype()), x0);
    forward = [net, sigma, classes_seen](const torch::Tensor& x, const torch::Tensor& label) {
      return -net.forward(x, label, classes_seen) / sigma;
    };
  }
  return (o.objective == TrainingObjective::kDdpm ? ddpm_loss(forward, ddpm, x0, labels, b.z, o.loss.reduce_mean)
                                                  : smld_loss(forward, smld_sigmas, x0, labels, b.z, o.loss.reduce_mean))
      .mean();
}

double Trainer::Impl::apply(const torch::Tensor& loss) {
  const TrainOptions& o = options;
  const double lr = learning_rate_at(o, step);
  for (auto& g : adam->param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
  adam->zero_grad();
  loss.backward();
  double value = loss.item<double>();
  if (group && group->world_size() > 1) {
    // One all-reduce per step, of the gradients and the loss together: the mean of the ranks'
    // gradients is the gradient of the global mean loss (two collectives cost a step's worth of
    // latency at the MLP's size).
    std::vector<torch::Tensor> reduced;
    for (const auto& p : network.parameters())
      if (p.grad().defined()) reduced.push_back(p.mutable_grad());
    reduced.push_back(loss.detach().reshape({1}).clone());
    group->average(reduced);
    value = reduced.back().item<double>();
  }
  // Checked before anything is applied: a non-finite loss leaves the weights and Adam untouched.
  SDE_CHECK(std::isfinite(value), "the training loss became ", value, " at step ", step + 1,
            "; nothing was applied. Lower --lr, raise --warmup, or check the data");
  if (o.grad_clip > 0) torch::nn::utils::clip_grad_norm_(network.parameters(), o.grad_clip);
  adam->step();
  {
    torch::NoGradGuard no_grad;
    const auto from = network.state();
    const auto to = ema.state();
    const double decay = ema_decay_at(o, step);
    for (size_t k = 0; k < to.size(); ++k) to[k].second.mul_(decay).add_(from[k].second, 1.0 - decay);
  }
  ++step;
  return value;
}

double Trainer::step(const TrainingBatch& batch) {
  Impl& m = *impl_;
  return m.apply(m.loss(local_batch(batch, m.network, m.options, m.step, m.group)));
}

void Trainer::run(const TrainingData& data, const std::function<void(const TrainProgress&)>& on_progress,
                  const std::function<void(int64_t, const ScoreModel&)>& evaluate, int64_t evaluate_every) {
  using Clock = std::chrono::steady_clock;
  const TrainOptions& o = impl_->options;
  auto since = Clock::now();
  double loss_sum = 0;
  int64_t loss_count = 0;
  while (impl_->step < o.steps) {
    loss_sum += step(data(impl_->step, o.batch));
    ++loss_count;
    const int64_t k = impl_->step;
    if (on_progress && ((o.log_every > 0 && k % o.log_every == 0) || k == o.steps)) {
      const double seconds = std::chrono::duration<double>(Clock::now() - since).count();
      TrainProgress p;
      p.step = k;
      p.steps = o.steps;
      p.loss = loss_sum / double(loss_count);
      p.steps_per_second = seconds > 0 ? double(loss_count) / seconds : 0;
      p.eta_seconds = p.steps_per_second > 0 ? double(o.steps - k) / p.steps_per_second : 0;
      on_progress(p);
      since = Clock::now();
      loss_sum = 0;
      loss_count = 0;
    }
    if (evaluate && evaluate_every > 0 && k % evaluate_every == 0) evaluate(k, *ema_score_model());
    const bool writes = !impl_->group || impl_->group->is_root();
    if (writes && !o.checkpoint_path.empty() &&
        ((o.checkpoint_every > 0 && k % o.checkpoint_every == 0) || k == o.steps))
      save_checkpoint(o.checkpoint_path);
  }
}

int64_t Trainer::steps_done() const { return impl_->step; }
void Trainer::set_process_group(const ProcessGroup* group) { impl_->group = group; }
const ScoreNetwork& Trainer::network() const { return impl_->network; }
const ScoreNetwork& Trainer::ema() const { return impl_->ema; }
std::unique_ptr<ScoreModel> Trainer::ema_score_model() const { return impl_->score_model(impl_->ema); }

void Trainer::save_checkpoint(const std::string& path) const {
  torch::serialize::OutputArchive archive, network, ema, adam;
  archive.write("fingerprint", c10::IValue(impl_->fingerprint()));
  archive.write("step", c10::IValue(impl_->step));
  impl_->network.module()->save(network);
  impl_->ema.module()->save(ema);
  impl_->adam->save(adam);
  archive.write("network", network);
  archive.write("ema", ema);
  archive.write("adam", adam);
  std::ostringstream out;
  archive.save_to(out);
  const std::string payload = out.str();
  std::string bytes(kCheckpointMagic, kMagicBytes);
  const uint64_t length = payload.size();
  const uint32_t crc = bytes_crc32(payload.data(), payload.size());
  for (int i = 0; i < 8; ++i) bytes += char((length >> (8 * i)) & 0xff);
  for (int i = 0; i < 4; ++i) bytes += char((crc >> (8 * i)) & 0xff);
  write_file_atomic(path, bytes + payload);
}

void Trainer::load_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot read a checkpoint from '" + path + "': cannot open it; check the path");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < kHeaderBytes || bytes.compare(0, kMagicBytes, kCheckpointMagic) != 0)
    throw FileError("'" + path + "' is not a scoresde training checkpoint");
  uint64_t length = 0;
  uint32_t crc = 0;
  for (int i = 0; i < 8; ++i) length |= uint64_t(uint8_t(bytes[kMagicBytes + i])) << (8 * i);
  for (int i = 0; i < 4; ++i) crc |= uint32_t(uint8_t(bytes[kMagicBytes + 8 + i])) << (8 * i);
  if (length != bytes.size() - kHeaderBytes)
    throw FileError(detail::concat("corrupt checkpoint '", path, "': it holds ", bytes.size() - kHeaderBytes,
                                   " bytes of archive, its header says ", length, " (a truncated copy?)"));
  if (bytes_crc32(bytes.data() + kHeaderBytes, length) != crc)
    throw FileError("corrupt checkpoint '" + path + "': its contents do not match their checksum (a damaged copy?); "
                    "resume from another copy or start again without --resume");
  torch::serialize::InputArchive archive, network, ema, adam;
  c10::IValue fingerprint, step;
  try {
    archive.load_from(bytes.data() + kHeaderBytes, length);
    archive.read("fingerprint", fingerprint);
    archive.read("step", step);
    archive.read("network", network);
    archive.read("ema", ema);
    archive.read("adam", adam);
  } catch (const std::exception& e) {
    throw FileError("corrupt checkpoint '" + path + "': " + detail::archive_error_text(e));
  }
  SDE_CHECK(fingerprint.isString() && fingerprint.toStringRef() == impl_->fingerprint(), "checkpoint '", path,
            "' comes from a different run: it was\n  ", fingerprint.isString() ? fingerprint.toStringRef() : "?",
            "\nthis run is\n  ", impl_->fingerprint(), "\nresume with the options it was written with");
  SDE_CHECK(step.isInt() && step.toInt() >= 0, "corrupt checkpoint '", path, "': no valid step count");
  try {
    impl_->network.module()->load(network);
    impl_->ema.module()->load(ema);
    impl_->adam->load(adam);
  } catch (const std::exception& e) {
    throw FileError("corrupt checkpoint '" + path + "': " + detail::archive_error_text(e));
  }
  for (auto& p : impl_->ema.parameters()) p.requires_grad_(false);
  impl_->step = step.toInt();
}

}  // namespace sde
