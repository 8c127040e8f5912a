// Denoising score-matching training of a ScoreNetwork: Adam with warm-up, gradient clipping, an
// exponential moving average of the weights, and checkpoints from which a run resumes exactly.
//
// Randomness: step k's batch (data indices or points), times and noise are drawn from counter-based
// streams keyed by (seed, k), so the whole "RNG state" of a run is its step count: a run resumed
// from a checkpoint sees the same draws as one that never stopped.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sde/distributed/process_group.hpp"
#include "sde/core/forward_sde.hpp"
#include "sde/nn/losses.hpp"
#include "sde/nn/networks.hpp"
#include "sde/core/parameterized_score.hpp"

namespace sde {

/// One training step's data: x0 [B, ...] and, where the data have them, class labels (int64 [B]),
/// which a class-conditional network learns from (and an unconditional one ignores).
struct TrainingBatch {
  TrainingBatch(torch::Tensor x0_, torch::Tensor labels_ = {}) : x0(std::move(x0_)), labels(std::move(labels_)) {}
  torch::Tensor x0;
  torch::Tensor labels;
};

/// The data of training step `step`: `batch` samples, a pure function of (step, batch).
using TrainingData = std::function<TrainingBatch(int64_t step, int64_t batch)>;

/// The same data scaled: x0 -> scale x0 + shift (the model's space), labels kept.
TrainingData scaled_training_data(TrainingData data, double scale, double shift = 0.0);

/// Fresh points of a 2-D toy distribution (see toy_data) every step, with their classes (toy_labels):
/// step k takes sample indices [k batch, (k + 1) batch) of the stream with this seed.
TrainingData toy_training_data(const std::string& name, uint64_t seed);

/// Rows of a fixed data set [N, ...] (and of its labels [N], if given), drawn uniformly with
/// replacement, indices keyed by (seed, step). Throws sde::InvalidArgument for an empty set,
/// non-finite values (naming the first bad row) or labels of another length.
TrainingData dataset_training_data(torch::Tensor data, uint64_t seed, torch::Tensor labels = {});

/// The loss.
enum class TrainingObjective {
  kDsm,   ///< continuous denoising score matching: any SDE, parameterization and time labels
  kDdpm,  ///< discrete, VP, noise prediction with 999t labels (ddpm_loss), 1000 steps drawn uniformly
  kSmld,  ///< discrete, VE, score or noise prediction with smld labels (smld_loss), 1000 levels
  /// A noisy classifier p_t(y | x_t) for classifier guidance: cross-entropy of the network's K
  /// logits (NetworkSpec::outputs = K, no class input) at x_t = alpha x0 + sigma z, t ~ U(eps, T),
  /// against the data's labels (Song et al. 2021, app. I; Dhariwal & Nichol 2021).
  kClassifier,
};

/// "dsm", "ddpm", "smld" or "classifier"; throws naming the value and the choices.
TrainingObjective parse_training_objective(const std::string& name);
std::string training_objective_name(TrainingObjective objective);
std::vector<std::string> training_objective_names();

struct TrainOptions {
  // The defaults suit the 2-D toys (an MLP on the ring: mean log p -1.89 against the exact -1.70
  // after 5000 steps). Images want the reference's lr 2e-4 and EMA 0.9999 over many more steps.
  int64_t steps = 5000;           ///< optimizer steps in all (a resumed run continues to this count)
  int64_t batch = 512;            ///< samples per step
  double lr = 2e-3;               ///< Adam's learning rate after warm-up
  int64_t warmup = 100;           ///< linear warm-up: lr (k + 1) / warmup for the first steps
  /// Cosine decay after the warm-up: lr (1 + cos(pi (k - warmup) / (lr_decay_steps - warmup))) / 2
  /// at step k, which reaches 0 at step lr_decay_steps (0: a constant lr after the warm-up). Its own
  /// option rather than `steps`, so that a resumed run with more steps keeps its schedule.
  int64_t lr_decay_steps = 0;
  double grad_clip = 1.0;         ///< clip the global gradient norm to this (0: no clipping)
  double ema_decay = 0.995;       ///< EMA of the weights, used for sampling (0: the raw weights)
  /// > 0: a power-function EMA instead (Karras et al. 2024), decay (1 - 1 / (k + 1))^(ema_power + 1)
  /// at step k (0-based), which replaces ema_decay. After n steps it is the average of the steps'
  /// weights w_i with weights (i^(p+1) - (i-1)^(p+1)) / n^(p+1): a window that grows with the run
  /// (mean age n / (p + 2) steps; EDM2's sigma_rel 0.10 is p = 6.94), and the initial weights have
  /// none of it, where a fixed decay d still holds d^n of them (5 % for 0.999 at 3000 steps).
  double ema_power = 0;
  uint64_t seed = 0;              ///< times and noise of every step (the data has its own seed)
  double eps = 1e-5;              ///< t ~ U(eps, T)
  /// Class-conditional networks: the probability that a sample's label is replaced by
  /// kUnconditional, so that one network also learns the unconditional score that classifier-free
  /// guidance needs (Ho & Salimans 2022 train with 0.1-0.2). Drawn by (seed, sample).
  double label_dropout = 0.1;
  TrainingObjective objective = TrainingObjective::kDsm;
  DsmOptions loss;                ///< weighting and reduction of the DSM loss (ddpm/smld: reduce_mean only)
  int64_t log_every = 100;        ///< progress line every this many steps (0: none)
  int64_t checkpoint_every = 0;   ///< checkpoint every this many steps (0: only at the end, if a path is set)
  std::string checkpoint_path;    ///< where checkpoints go (written atomically); empty: none
  /// What the data are (their name, scaling, seed, a checksum of a file's contents): part of the
  /// run's fingerprint, so a checkpoint is resumed only on the data it was trained on.
  std::string data_identity;

  void validate() const;
};

/// The learning rate of optimizer step k (0-based): warm-up, then constant or cosine-decayed.
double learning_rate_at(const TrainOptions& options, int64_t k);
/// The EMA decay applied after optimizer step k (0-based): ema_decay, or the power function's.
double ema_decay_at(const TrainOptions& options, int64_t k);

/// What the progress callback sees.
struct TrainProgress {
  int64_t step = 0;               ///< steps done
  int64_t steps = 0;              ///< of these
  double loss = 0;                ///< mean loss over the steps since the last report
  double steps_per_second = 0;    ///< since the last report
  double eta_seconds = 0;         ///< at that rate
};

class Trainer {
 public:
  /// Trains `network` (in place) as a score model of `sde` with the named parameterization and
  /// time labels. The EMA starts as a copy of the network.
  Trainer(std::shared_ptr<const Sde> sde, ScoreNetwork network, Parameterization parameterization,
          TimeConditioning conditioning, TrainOptions options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// Runs steps until options.steps. `on_progress` is called every log_every steps and at the end;
  /// `evaluate`, if given, every `evaluate_every` steps with the EMA network's score model.
  void run(const TrainingData& data, const std::function<void(const TrainProgress&)>& on_progress = {},
           const std::function<void(int64_t step, const ScoreModel& ema_model)>& evaluate = {},
           int64_t evaluate_every = 0);
  /// One optimizer step on the batch `data` (cast to the network's dtype and device); returns the
  /// batch's mean loss. A class-conditional network needs the batch's labels.
  double step(const TrainingBatch& data);

  /// Data-parallel training over `group` (not owned; null: one process). Every rank is given the
  /// same global batch, computes the loss and gradients of its part (rows [r B/W, (r+1) B/W), with
  /// the times and noise those rows have in one process), and the gradients are averaged over the
  /// ranks before clipping, Adam and the EMA, which then run identically everywhere. The batch
  /// must divide by the world size. Only rank 0 writes checkpoints. The result equals one-process
  /// training up to the order of floating-point sums.
  void set_process_group(const ProcessGroup* group);

  int64_t steps_done() const;
  const ScoreNetwork& network() const;
  /// The averaged weights (a copy of the raw weights when ema_decay = 0).
  const ScoreNetwork& ema() const;
  /// The EMA network as a score model (shares its weights).
  std::unique_ptr<ScoreModel> ema_score_model() const;

  /// Weights, EMA, Adam's moments, the step count and the options' fingerprint, in one file
  /// written atomically.
  void save_checkpoint(const std::string& path) const;
  /// Restores a checkpoint of a run with the same network, SDE and options (steps may differ);
  /// throws sde::InvalidArgument naming what differs, sde::FileError for an unreadable file.
  void load_checkpoint(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sde
