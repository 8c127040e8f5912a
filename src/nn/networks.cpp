#include "sde/nn/networks.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/archive_errors.hpp"
#include "sde/core/atomic_file.hpp"
#include "core/json_integers.hpp"
#include "nn/layers.hpp"
#include "sde/core/checksum.hpp"
#include "sde/core/errors.hpp"
#include "core/memory_limits.hpp"

namespace sde {

namespace {

using detail::FourierEmbedding;

torch::Tensor activate(const std::string& name, const torch::Tensor& x) {
  if (name == "silu") return torch::silu(x);
  if (name == "relu") return torch::relu(x);
  if (name == "gelu") return torch::gelu(x);
  return torch::tanh(x);
}

struct MlpImpl : torch::nn::Module {
  explicit MlpImpl(const NetworkSpec& spec) : activation(spec.activation) {
    int64_t d = 1;  // the flattened sample
    for (const int64_t n : spec.sample_shape) d *= n;
    embedding = register_module("embedding", FourierEmbedding(spec.fourier_features, spec.fourier_scale));
    int64_t in = d + 2 * spec.fourier_features;
    for (int64_t i = 0; i < spec.depth; ++i) {
      hidden.push_back(register_module("hidden" + std::to_string(i), torch::nn::Linear(in, spec.width)));
      in = spec.width;
    }
    output = register_module("output", torch::nn::Linear(in, spec.outputs > 0 ? spec.outputs : d));
    classes = spec.classes;
    if (classes > 0)
      class_embedding = register_module("class_embedding", torch::nn::Embedding(classes + 1, 2 * spec.fourier_features));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& label, const torch::Tensor& labels) {
    torch::Tensor e = embedding(label.to(x.scalar_type()));
    if (classes > 0) e = e + class_embedding(detail::class_rows(labels, classes, x.size(0), x.device()));
    torch::Tensor h = torch::cat({x.reshape({x.size(0), -1}), e}, 1);
    for (auto& layer : hidden) h = activate(activation, layer(h));
    return output(h);
  }
  std::string activation;
  FourierEmbedding embedding{nullptr};
  std::vector<torch::nn::Linear> hidden;
  torch::nn::Linear output{nullptr};
  torch::nn::Embedding class_embedding{nullptr};
  int64_t classes = 0;
};
TORCH_MODULE(Mlp);

}  // namespace

void NetworkSpec::validate() const {
  SDE_CHECK(kind == "mlp" || kind == "unet", "unknown network kind '", kind, "'; known: mlp, unet");
  SDE_CHECK(fourier_features >= 1, "fourier_features = ", fourier_features, " must be >= 1");
  SDE_CHECK(std::isfinite(fourier_scale) && fourier_scale > 0, "fourier_scale = ", fourier_scale,
            " must be finite and > 0");
  SDE_CHECK(classes >= 0 && classes <= 100000, "network classes = ", classes,
            " must lie in [0, 100000] (0: unconditional)");
  SDE_CHECK(outputs >= 0 && (outputs == 0 || kind == "mlp"), "network outputs = ", outputs,
            " must be >= 0, and a head of its own (outputs > 0) is an mlp's only");
  if (kind == "mlp") {
    const bool flat = outputs > 0;  // a classifier head reads a flattened sample of any shape
    SDE_CHECK(!sample_shape.empty() && (flat || sample_shape.size() == 1) &&
                  std::all_of(sample_shape.begin(), sample_shape.end(), [](int64_t n) { return n >= 1; }),
              "an mlp takes samples of shape {D}, D >= 1; got ", c10::IntArrayRef(sample_shape), " (use a unet for images)");
    SDE_CHECK(width >= 1, "network width = ", width, " must be >= 1");
    SDE_CHECK(depth >= 1, "network depth = ", depth, " must be >= 1 hidden layer");
    SDE_CHECK(activation == "silu" || activation == "relu" || activation == "gelu" || activation == "tanh",
              "unknown activation '", activation, "'; known: silu, relu, gelu, tanh");
    // A lower bound of the parameters; with gradients and Adam's two moments, 16 bytes each. A
    // width of 1e9 (a typo, a damaged model.json) is refused here, not by the allocator.
    double d = 1;
    for (const int64_t n : sample_shape) d *= double(n);
    const double w = double(width);
    check_fits_in_memory(16.0 * (w * (d + 2.0 * fourier_features) + double(depth - 1) * w * w + w * d),
                         detail::concat("an mlp of width ", width, " and depth ", depth), "use a smaller width or depth");
    return;
  }
  SDE_CHECK(sample_shape.size() == 3 && sample_shape[0] >= 1, "a unet takes images of shape {C, H, W}; got ",
            c10::IntArrayRef(sample_shape));
  SDE_CHECK(!channel_mult.empty() && channels >= 1 && res_blocks >= 1, "a unet needs channels >= 1, res_blocks >= 1 "
            "and at least one level in channel_mult");
  const int64_t halvings = int64_t(channel_mult.size()) - 1;
  SDE_CHECK(sample_shape[1] % (int64_t(1) << halvings) == 0 && sample_shape[2] % (int64_t(1) << halvings) == 0,
            "a unet with ", channel_mult.size(), " levels halves H and W ", halvings, " times: ", sample_shape[1], "x",
            sample_shape[2], " is not divisible by ", int64_t(1) << halvings, "; use fewer levels in channel_mult");
  SDE_CHECK(groups >= 1 && channels % groups == 0, "GroupNorm groups = ", groups, " must divide channels = ", channels);
  for (const int64_t m : channel_mult)
    SDE_CHECK(m >= 1 && (channels * m) % groups == 0, "channel_mult entry ", m, " gives ", channels * m,
              " channels, not divisible by groups = ", groups);
  SDE_CHECK(dropout >= 0 && dropout < 1, "dropout = ", dropout, " must lie in [0, 1)");
  double convolutions = 0;  // two 3x3 convolutions per residual block: a lower bound of the parameters
  for (const int64_t m : channel_mult) convolutions += 18.0 * double(res_blocks) * std::pow(double(channels * m), 2);
  check_fits_in_memory(16.0 * convolutions, detail::concat("a unet of ", channels, " channels"),
                       "use fewer channels, levels or residual blocks");
}

std::string NetworkSpec::to_json() const {
  const nlohmann::json j = {{"kind", kind},
                            {"sample_shape", sample_shape},
                            {"fourier_features", fourier_features},
                            {"fourier_scale", fourier_scale},
                            {"width", width},
                            {"depth", depth},
                            {"activation", activation},
                            {"channels", channels},
                            {"channel_mult", channel_mult},
                            {"res_blocks", res_blocks},
                            {"attention_resolutions", attention_resolutions},
                            {"groups", groups},
                            {"dropout", dropout}};
  // Written only when set: unconditional networks keep the description (and the weight files
  // that store it) they had before class conditioning existed.
  nlohmann::json out = j;
  if (classes > 0) out["classes"] = classes;
  if (outputs > 0) out["outputs"] = outputs;
  return out.dump(2);
}

NetworkSpec NetworkSpec::from_json(const std::string& text) {
  NetworkSpec spec;
  try {
    const auto j = nlohmann::json::parse(text);
    spec.kind = j.at("kind").get<std::string>();
    spec.sample_shape = detail::json_integers(j.at("sample_shape"), "network sample_shape");
    spec.fourier_features = detail::json_integer(j.at("fourier_features"), "network fourier_features");
    spec.fourier_scale = j.at("fourier_scale").get<double>();
    spec.width = detail::json_integer(j.at("width"), "network width");
    spec.depth = detail::json_integer(j.at("depth"), "network depth");
    spec.activation = j.at("activation").get<std::string>();
    spec.channels = detail::json_integer(j.at("channels"), "network channels");
    spec.channel_mult = detail::json_integers(j.at("channel_mult"), "network channel_mult");
    spec.res_blocks = detail::json_integer(j.at("res_blocks"), "network res_blocks");
    spec.attention_resolutions = detail::json_integers(j.at("attention_resolutions"), "network attention_resolutions");
    spec.groups = detail::json_integer(j.at("groups"), "network groups");
    spec.dropout = j.at("dropout").get<double>();
    if (j.contains("classes")) spec.classes = detail::json_integer(j.at("classes"), "network classes");
    if (j.contains("outputs")) spec.outputs = detail::json_integer(j.at("outputs"), "network outputs");
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("network description: ") + e.what());
  }
  spec.validate();
  return spec;
}

struct ScoreNetwork::Impl {
  NetworkSpec spec;
  detail::BuiltNetwork net;
};

ScoreNetwork::ScoreNetwork(const NetworkSpec& spec, uint64_t seed) : impl_(std::make_shared<Impl>()) {
  spec.validate();
  impl_->spec = spec;
  // LibTorch's initialisers draw from the default generator: seed it for the construction and put
  // its state back, so building a network changes nothing else in the program.
  auto generator = at::detail::getDefaultCPUGenerator();
  const torch::Tensor saved = generator.get_state();
  generator.set_current_seed(seed);
  if (spec.kind == "mlp") {
    const std::shared_ptr<MlpImpl> mlp = Mlp(spec).ptr();
    impl_->net = {mlp, [mlp](const torch::Tensor& x, const torch::Tensor& label, const torch::Tensor& classes) {
                    return mlp->forward(x, label, classes);
                  }};
  } else {
    impl_->net = detail::build_unet(spec);
  }
  generator.set_state(saved);
}

torch::Tensor ScoreNetwork::forward(const torch::Tensor& x, const torch::Tensor& label, const torch::Tensor& classes) const {
  const auto& shape = impl_->spec.sample_shape;
  if (x.dim() != int64_t(shape.size()) + 1 || x.sizes().slice(1) != c10::IntArrayRef(shape)) {
    std::string expected = "[B";
    for (const int64_t n : shape) expected += ", " + std::to_string(n);
    throw InvalidArgument(detail::concat("the network takes x of shape ", expected, "], got ", x.sizes()));
  }
  SDE_CHECK(label.dim() == 1 && label.size(0) == x.size(0), "the network takes labels of shape [", x.size(0),
            "], got ", label.sizes());
  if (classes.defined()) {
    SDE_CHECK(impl_->spec.classes > 0, "this network takes no class labels (built with classes = 0)");
    SDE_CHECK(classes.dim() == 1 && classes.size(0) == x.size(0), "the network takes class labels of shape [",
              x.size(0), "], got ", classes.sizes());
  }
  // In the weights' dtype (float64 callers, e.g. the likelihood, meet float32 networks), back after.
  const torch::ScalarType dtype = impl_->net.module->parameters().front().scalar_type();
  return impl_->net.forward(x.to(dtype), label.to(dtype), classes).to(x.scalar_type());
}

const NetworkSpec& ScoreNetwork::spec() const { return impl_->spec; }

std::vector<torch::Tensor> ScoreNetwork::parameters() const { return impl_->net.module->parameters(); }

int64_t ScoreNetwork::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

std::vector<std::pair<std::string, torch::Tensor>> ScoreNetwork::state() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : impl_->net.module->named_parameters()) out.emplace_back(item.key(), item.value());
  for (const auto& item : impl_->net.module->named_buffers()) out.emplace_back(item.key(), item.value());
  return out;
}

void ScoreNetwork::load_state(const ScoreNetwork& other) {
  SDE_CHECK(other.spec().to_json() == spec().to_json(), "cannot load the weights of a different network: ",
            other.spec().to_json(), " into ", spec().to_json());
  torch::NoGradGuard no_grad;
  const auto from = other.state();
  const auto to = state();
  for (size_t i = 0; i < to.size(); ++i) to[i].second.copy_(from[i].second);
}

ScoreNetwork ScoreNetwork::clone() const {
  ScoreNetwork copy(impl_->spec, 0);  // the seed does not matter: every weight is overwritten
  const torch::Tensor first = parameters().front();
  copy.to(first.device(), first.scalar_type());
  copy.load_state(*this);
  copy.set_training(impl_->net.module->is_training());
  return copy;
}

void ScoreNetwork::set_training(bool on) const { impl_->net.module->train(on); }

void ScoreNetwork::to(const torch::Device& device, torch::ScalarType dtype) const { impl_->net.module->to(device, dtype); }

std::shared_ptr<torch::nn::Module> ScoreNetwork::module() const { return impl_->net.module; }

void ScoreNetwork::save(const std::string& path) const { write_file_atomic(path, to_bytes()); }

std::string ScoreNetwork::to_bytes() const {
  torch::serialize::OutputArchive archive;
  archive.write("spec", c10::IValue(impl_->spec.to_json()));
  archive.write("checksum", c10::IValue(int64_t(state_checksum())));
  impl_->net.module->save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  return bytes.str();
}

void ScoreNetwork::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot read network weights from '" + path + "': cannot open it; check the path");
  load_bytes(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), path);
}

void ScoreNetwork::load_bytes(const std::string& bytes, const std::string& origin) {
  torch::serialize::InputArchive archive;
  c10::IValue spec, checksum;
  try {
    archive.load_from(bytes.data(), bytes.size());
    archive.read("spec", spec);
  } catch (const std::exception& e) {
    throw FileError("cannot read network weights from '" + origin + "': " + detail::archive_error_text(e));
  }
  SDE_CHECK(spec.isString() && spec.toStringRef() == impl_->spec.to_json(), "'", origin,
            "' holds the weights of another network; build the network its model.json describes");
  try {
    if (!archive.try_read("checksum", checksum) || !checksum.isInt())
      throw FileError("'" + origin + "' has no checksum of its weights (written by an older scoresde); retrain, or "
                      "load it with torch::load and save it again with ScoreNetwork::save");
    impl_->net.module->load(archive);
  } catch (const FileError&) {
    throw;
  } catch (const std::exception& e) {
    throw FileError("corrupt network weights in '" + origin + "': " + detail::archive_error_text(e));
  }
  if (uint32_t(checksum.toInt()) != state_checksum())
    throw FileError("corrupt network weights in '" + origin + "': the weights do not match the checksum stored with "
                    "them (a damaged copy?); copy the file again or retrain");
}

uint32_t ScoreNetwork::state_checksum() const {
  std::vector<torch::Tensor> tensors;
  for (const auto& [name, tensor] : state()) tensors.push_back(tensor);
  return tensors_crc32(tensors);
}

std::unique_ptr<ScoreModel> score_model_of(std::shared_ptr<const Sde> sde, const ScoreNetwork& network,
                                           Parameterization parameterization, TimeConditioning conditioning) {
  return std::make_unique<ParameterizedScoreModel>(
      std::move(sde),
      [network](const torch::Tensor& x, const torch::Tensor& label, const Condition& c) {
        return network.forward(x, label, c.labels);
      },
      ConditionInputs{network.spec().classes, false}, parameterization, conditioning, network.spec().sample_shape);
}

namespace {

// A network with a K-way head as p_t(y | x).
class NetworkClassifier final : public NoisyClassifier {
 public:
  NetworkClassifier(std::shared_ptr<const Sde> sde, ScoreNetwork network, TimeConditioning conditioning)
      : sde_(std::move(sde)), network_(std::move(network)), conditioning_(conditioning) {
    SDE_CHECK(network_.spec().outputs > 0, "a noisy classifier needs a network with a head of K outputs "
              "(NetworkSpec::outputs; scoresde train --objective classifier)");
  }
  torch::Tensor log_probs(const torch::Tensor& x, const torch::Tensor& t) const override {
    return torch::log_softmax(network_.forward(x, time_label(conditioning_, *sde_, t).to(x.dtype())), 1);
  }
  int64_t num_classes() const override { return network_.spec().outputs; }

 private:
  std::shared_ptr<const Sde> sde_;
  ScoreNetwork network_;
  TimeConditioning conditioning_;
};

}  // namespace

std::unique_ptr<NoisyClassifier> classifier_of(std::shared_ptr<const Sde> sde, const ScoreNetwork& network,
                                               TimeConditioning conditioning) {
  return std::make_unique<NetworkClassifier>(std::move(sde), network, conditioning);
}

}  // namespace sde
