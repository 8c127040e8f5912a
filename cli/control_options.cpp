#include "control_options.hpp"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "validators.hpp"
#include "sde/core/errors.hpp"
#include "sde/core/inverse_problems.hpp"
#include "sde/io/npy.hpp"
#include "sde/nn/trained_model.hpp"

namespace sde::cli {

void add_control_options(CLI::App* cmd, ControlArgs& args) {
  cmd->add_option("--class", args.label, "sample class K of a class-conditional model, or 'all' (sample i: class i mod K)");
  cmd->add_option("--guidance", args.guidance, "classifier-free guidance scale w: (1 + w) s(x|y) - w s(x); 0 = none")
      ->capture_default_str();
  cmd->add_option("--guidance-interval", args.interval,
                  "guide only at noise levels sigma/alpha in LO,HI (Kynkaanniemi et al. 2024), e.g. 0.28,5.42")
      ->delimiter(',')->expected(2);
  cmd->add_option("--classifier", args.classifier,
                  "classifier guidance with a noisy classifier: 'exact' (a labelled --target's) or a directory written by "
                  "scoresde train --objective classifier");
  cmd->add_option("--classifier-scale", args.classifier_scale, "classifier guidance scale (1 = Bayes' rule)")
      ->capture_default_str();
  cmd->add_option("--known", args.known, "inpainting: known values, .npy of one sample's shape or (n, ...)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--mask", args.mask, "inpainting: 1 = known, 0 = fill in, .npy of one sample's shape or (n, ...)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--resamplings", args.resamplings,
                  "inpainting: RePaint's passes over each segment (1: plain replacement; 10: RePaint's default)")
      ->check(CLI::Range(int64_t(1), int64_t(1000)))->capture_default_str();
  cmd->add_option("--jump-length", args.jump_length, "inpainting with --resamplings: grid steps per segment")
      ->check(CLI::Range(int64_t(1), int64_t(1000000)))->capture_default_str();
  cmd->add_option("--measurement-noise", args.measurement_noise,
                  "inpainting by diffusion posterior sampling (DPS) instead of replacement: the known values' noise std > 0")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--dps-scale", args.dps_scale, "DPS: the likelihood gradient's scale")->capture_default_str();
  cmd->add_option("--start", args.start, "SDEdit: start from these samples (.npy, (1 or n, ...)) noised to --start-time")
      ->check(CLI::ExistingFile);
  cmd->add_option("--start-time", args.start_time, "SDEdit: the time t0 in (0, T] to start at (small keeps more of --start)");
}

namespace {

int64_t parse_class(const std::string& text, int64_t classes) {
  try {
    size_t used = 0;
    const long long k = std::stoll(text, &used);
    if (used == text.size()) {
      SDE_CHECK(k >= 0 && k < classes, "--class ", k, " is not a class of the model, whose classes are 0..", classes - 1);
      return k;
    }
  } catch (const std::logic_error&) {
  }
  throw InvalidArgument(detail::concat("--class '", text, "' must be a class number 0..", classes - 1, " or 'all'"));
}

// A sample-shaped .npy in the model's space, with a batch dimension: [1 or n, sample shape...].
torch::Tensor load_samples(const std::string& path, const std::vector<int64_t>& shape, const char* flag) {
  const torch::Tensor v = load_npy(path).to(torch::kFloat64);
  const bool one = v.dim() == int64_t(shape.size()) && v.sizes() == c10::IntArrayRef(shape);
  const bool many = v.dim() == int64_t(shape.size()) + 1 && v.sizes().slice(1) == c10::IntArrayRef(shape);
  SDE_CHECK(one || many, flag, " ", path, " has shape ", v.sizes(), "; expected one sample ", c10::IntArrayRef(shape),
            " or (n, ", c10::IntArrayRef(shape), "...)");
  return one ? v.unsqueeze(0) : v;
}

// A noisy classifier trained by scoresde train --objective classifier: it sees x_t of its own SDE
// and data scaling, so they must be the sampler's.
std::shared_ptr<LoadedModel> load_classifier(const std::string& dir, const Sde& sde, std::pair<double, double> scale) {
  auto loaded = std::make_shared<LoadedModel>(load_trained_model(dir));
  SDE_CHECK(loaded->classifier != nullptr, "--classifier ", dir, " is a score model, not a noisy classifier "
            "(train one with scoresde train --objective classifier)");
  const double t = sde.t_max() / 2;
  SDE_CHECK(loaded->sde->name() == sde.name() && std::abs(loaded->sde->alpha(t) - sde.alpha(t)) < 1e-12 &&
                std::abs(loaded->sde->sigma(t) - sde.sigma(t)) < 1e-12 * std::max(1.0, sde.sigma(t)),
            "--classifier ", dir, " was trained under ", loaded->sde->name(), ", not this run's ", sde.name(),
            " process; train it under the same SDE");
  SDE_CHECK(loaded->metadata.data_scale == scale.first && loaded->metadata.data_shift == scale.second,
            "--classifier ", dir, " saw data scaled by ", loaded->metadata.data_scale, " + ",
            loaded->metadata.data_shift, ", the model by ", scale.first, " + ", scale.second,
            "; train it with the same --scale (1 for a --target mixture)");
  return loaded;
}

void describe(Control& c, const std::string& part) { c.description += (c.description.empty() ? "" : ", ") + part; }

// --class: one class for every sample, or class i mod K for the sample of global index i.
void add_class(Control& c, const ControlArgs& args, const ScoreModel& model, const GaussianMixtureScore* exact,
               int64_t count) {
  const int64_t classes = args.classifier.empty() ? model.num_classes()
                          : c.classifier_used   ? c.classifier_used->num_classes()
                          : exact               ? exact->num_classes()
                                                : 0;
  SDE_CHECK(classes > 0, "--class needs a class-conditional model (a target with \"labels\", or a model trained with "
            "--classes K); this one has no classes");
  if (args.label == "all") {
    // Rows are by global sample index (sharded runs hand each process its range of them).
    c.condition = {torch::arange(count, torch::kInt64).remainder(classes), {}};
    describe(c, "classes i mod " + std::to_string(classes));
  } else {
    const int64_t k = parse_class(args.label, classes);
    c.condition = Condition::of_class(k, 1);
    describe(c, "class " + std::to_string(k));
  }
}

// --guidance and --classifier: the guidance wrappers, stacked on the model.
void add_guidance(Control& c, const ControlArgs& args, const Sde& sde, const GaussianMixtureScore* exact) {
  if (args.guidance != 0) {
    ClassifierFreeGuidanceOptions o;
    o.scale = args.guidance;
    if (!args.interval.empty()) {
      o.sigma_min = args.interval[0];
      o.sigma_max = args.interval[1];
    }
    c.free_guidance = std::make_unique<ClassifierFreeGuidance>(*c.model, sde, o);
    c.model = c.free_guidance.get();
    describe(c, "classifier-free guidance w = " + std::to_string(args.guidance));
    c.changes_target = true;
  }
  if (args.classifier.empty()) return;
  if (!c.classifier_used) {
    SDE_CHECK(exact != nullptr && exact->num_classes() > 0,
              "--classifier exact is the exact classifier of a labelled --target mixture; this run has none");
    c.classifier = std::make_unique<GaussianMixtureClassifier>(*exact);
    c.classifier_used = c.classifier.get();
  }
  // On top of classifier-free guidance the labels go to the model too; otherwise its unconditional score.
  c.classifier_guidance = std::make_unique<ClassifierGuidance>(*c.model, *c.classifier_used, sde, args.classifier_scale,
                                                               /*model_takes_labels=*/args.guidance != 0);
  c.model = c.classifier_guidance.get();
  describe(c, "classifier guidance, scale " + std::to_string(args.classifier_scale));
  if (args.classifier_scale != 1 || args.classifier != "exact") c.changes_target = true;
}

// --known and --mask: inpainting by DPS, by RePaint or by replacement.
void add_inpainting(Control& c, const ControlArgs& args, const Sde& sde, const std::vector<int64_t>& shape,
                    std::pair<double, double> scale, uint64_t seed, int64_t count) {
  const torch::Tensor known = load_samples(args.known, shape, "--known") * scale.first + scale.second;
  const torch::Tensor mask = load_samples(args.mask, shape, "--mask");
  const Measurement m = mask_measurement(known, mask, shape);
  c.changes_target = true;
  if (args.measurement_noise > 0) {
    // DPS: the observation A^T y is each sample's condition tensor; one mask for all samples.
    SDE_CHECK(mask.size(0) == 1, "DPS (--measurement-noise) takes one mask for all samples, of one sample's shape");
    SDE_CHECK(c.condition.empty(), "DPS (--measurement-noise) guides an unconditional model; drop --class");
    PosteriorSamplingOptions o;
    o.scale = args.dps_scale;
    o.noise_std = args.measurement_noise * scale.first;  // in the model's units
    const torch::Tensor p = mask[0];
    c.posterior_sampling = std::make_unique<PosteriorSampling>(
        *c.model, sde, [p](const torch::Tensor& x) { return x * p.to(x.options()); }, o);
    c.model = c.posterior_sampling.get();
    c.condition = {{}, m.observed(torch::arange(count, torch::kInt64))};
    describe(c, "inpainting by DPS");
  } else if (args.resamplings > 1) {
    RePaintOptions o;
    o.resamplings = args.resamplings;
    o.jump_length = args.jump_length;
    o.validate();
    c.repaint = o;
    c.measurement = m;
    describe(c, "inpainting by RePaint, " + std::to_string(args.resamplings) + " passes");
  } else {
    c.hooks = replacement_hooks(sde, m, seed, c.hooks);
    describe(c, "inpainting by replacement");
  }
}

}  // namespace

Control make_control(const ControlArgs& args, const ScoreModel& model, const Sde& sde, const GaussianMixtureScore* exact,
                     std::pair<double, double> scale, uint64_t seed, int64_t count) {
  Control c;
  c.model = &model;
  if (!args.classifier.empty() && args.classifier != "exact") {
    const std::shared_ptr<LoadedModel> loaded = load_classifier(args.classifier, sde, scale);
    c.classifier_used = loaded->classifier.get();
    c.classifier_owner = loaded;
  }
  const bool guiding = args.guidance != 0 || !args.classifier.empty();
  SDE_CHECK(!args.label.empty() || !guiding, "guidance steers towards a class: give --class K (or 'all')");
  SDE_CHECK(args.interval.empty() || args.guidance != 0, "--guidance-interval applies to classifier-free guidance: give --guidance W");
  if (!args.label.empty()) add_class(c, args, model, exact, count);
  add_guidance(c, args, sde, exact);
  const std::vector<int64_t> shape = model.sample_shape();
  SDE_CHECK(args.known.empty() == args.mask.empty(), "inpainting needs both --known and --mask");
  SDE_CHECK(args.start.empty() == (args.start_time == 0), "SDEdit needs both --start and --start-time");
  if (!args.start.empty()) {
    SDE_CHECK(args.start_time > 0 && args.start_time <= sde.t_max(), "--start-time ", args.start_time,
              " must lie in (0, T] with T = ", sde.t_max(), " (small t0 keeps more of --start)");
    c.hooks = sdedit_hooks(sde, load_samples(args.start, shape, "--start") * scale.first + scale.second, seed);
    c.start_time = args.start_time;
    describe(c, "SDEdit from t0 = " + std::to_string(args.start_time));
    c.changes_target = true;
  }
  SDE_CHECK(!args.known.empty() || (args.resamplings == 1 && args.measurement_noise == 0),
            "--resamplings and --measurement-noise solve an inpainting problem: give --known and --mask");
  SDE_CHECK(args.resamplings == 1 || args.measurement_noise == 0,
            "inpaint by RePaint (--resamplings) or by DPS (--measurement-noise), not both");
  if (!args.known.empty()) add_inpainting(c, args, sde, shape, scale, seed, count);
  return c;
}

}  // namespace sde::cli
