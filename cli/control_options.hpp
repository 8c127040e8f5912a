// The options of `scoresde sample` that control generation: a class, guidance, an inverse problem,
// SDEdit. They build a score-model wrapper, a condition and the solve hooks; the solver sees none
// of it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sde/core/gaussian_mixture.hpp"
#include "sde/core/guidance.hpp"
#include "sde/core/inverse_problems.hpp"
#include "sde/core/sampler.hpp"
#include "sde/solve/repaint.hpp"

namespace sde::cli {

struct ControlArgs {
  std::string label;                  ///< --class: a class K, or "all" (sample i gets class i mod K)
  double guidance = 0;                ///< --guidance: classifier-free guidance scale w
  std::vector<double> interval;       ///< --guidance-interval LO,HI: noise levels sigma / alpha guided
  std::string classifier;             ///< --classifier: "exact" (a labelled --target's own) or a classifier's directory
  double classifier_scale = 1;        ///< --classifier-scale
  std::string known, mask;            ///< --known, --mask: inpainting by replacement (.npy)
  int64_t resamplings = 1;            ///< --resamplings: RePaint's passes per segment (1: plain replacement)
  int64_t jump_length = 10;           ///< --jump-length: RePaint's segment, in grid steps
  double measurement_noise = 0;       ///< --measurement-noise: > 0 inpaints by DPS with this noise std
  double dps_scale = 1;               ///< --dps-scale
  std::string start;                  ///< --start: SDEdit's input (.npy)
  double start_time = 0;              ///< --start-time t0
};

void add_control_options(CLI::App* cmd, ControlArgs& args);

/// What the options make of a model: the one to sample, its condition and hooks.
struct Control {
  const ScoreModel* model = nullptr;  ///< the model given, or the outermost guidance wrapper
  Condition condition;
  SolveHooks hooks;
  double start_time = 0;              ///< where the grid starts (SDEdit's t0); 0: T
  std::string description;            ///< e.g. "class 3, CFG w = 2", for the summary; empty: none
  bool changes_target = false;        ///< the samples are not from p_0 (guidance w != 0, an inverse problem)

  std::unique_ptr<NoisyClassifier> classifier;
  std::shared_ptr<void> classifier_owner;  ///< what a loaded classifier's network lives in
  const NoisyClassifier* classifier_used = nullptr;
  std::unique_ptr<ScoreModel> free_guidance, classifier_guidance, posterior_sampling;
  /// RePaint's settings when the inverse problem is solved by resampling (resamplings > 1), and its
  /// measurement; the sampler must then be run through sde::repaint.
  std::optional<RePaintOptions> repaint;
  std::optional<Measurement> measurement;
};

/// `exact`: the --target's exact model (null for a network); `scale`: the model space's data_scale
/// and data_shift (1 and 0 for a target); `count`: the samples asked for. Throws
/// sde::InvalidArgument for combinations that do not fit.
Control make_control(const ControlArgs& args, const ScoreModel& model, const Sde& sde, const GaussianMixtureScore* exact,
                     std::pair<double, double> scale, uint64_t seed, int64_t count);

}  // namespace sde::cli
