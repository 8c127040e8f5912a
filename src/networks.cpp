#include "sde/networks.hpp"

#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "archive_errors.hpp"
#include "sde/atomic_file.hpp"
#include "sde/errors.hpp"

namespace sde {

namespace {

torch::Tensor activate(const std::string& name, const torch::Tensor& x) {
  if (name == "silu") return torch::silu(x);
  if (name == "relu") return torch::relu(x);
  if (name == "gelu") return torch::gelu(x);
  return torch::tanh(x);
}

// Gaussian Fourier features of a scalar label: [sin(2 pi l W), cos(2 pi l W)]. W is a buffer, not a
// parameter: drawn once, saved with the weights, never trained.
struct FourierEmbeddingImpl : torch::nn::Module {
  FourierEmbeddingImpl(int64_t features, double scale) {
    frequencies = register_buffer("frequencies", torch::randn({features}) * scale);
  }
  torch::Tensor forward(const torch::Tensor& label) {
    const torch::Tensor angle = label.unsqueeze(1) * frequencies.unsqueeze(0) * (2 * M_PI);
    return torch::cat({angle.sin(), angle.cos()}, 1);
  }
  torch::Tensor frequencies;
};
TORCH_MODULE(FourierEmbedding);

struct MlpImpl : torch::nn::Module {
  explicit MlpImpl(const NetworkSpec& spec) : activation(spec.activation) {
    const int64_t d = spec.sample_shape[0];
    embedding = register_module("embedding", FourierEmbedding(spec.fourier_features, spec.fourier_scale));
    int64_t in = d + 2 * spec.fourier_features;
    for (int64_t i = 0; i < spec.depth; ++i) {
      hidden.push_back(register_module("hidden" + std::to_string(i), torch::nn::Linear(in, spec.width)));
      in = spec.width;
    }
    output = register_module("output", torch::nn::Linear(in, d));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& label) {
    torch::Tensor h = torch::cat({x, embedding(label.to(x.scalar_type()))}, 1);
    for (auto& layer : hidden) h = activate(activation, layer(h));
    return output(h);
  }
  std::string activation;
  FourierEmbedding embedding{nullptr};
  std::vector<torch::nn::Linear> hidden;
  torch::nn::Linear output{nullptr};
};
TORCH_MODULE(Mlp);

}  // namespace

void NetworkSpec::validate() const {
  SDE_CHECK(kind == "mlp", "unknown network kind '", kind, "'; known: mlp");
  SDE_CHECK(sample_shape.size() == 1 && sample_shape[0] >= 1, "an mlp takes samples of shape {D}, D >= 1; got ",
            c10::IntArrayRef(sample_shape), " (use a U-Net for images)");
  SDE_CHECK(width >= 1, "network width = ", width, " must be >= 1");
  SDE_CHECK(depth >= 1, "network depth = ", depth, " must be >= 1 hidden layer");
  SDE_CHECK(activation == "silu" || activation == "relu" || activation == "gelu" || activation == "tanh",
            "unknown activation '", activation, "'; known: silu, relu, gelu, tanh");
  SDE_CHECK(fourier_features >= 1, "fourier_features = ", fourier_features, " must be >= 1");
  SDE_CHECK(std::isfinite(fourier_scale) && fourier_scale > 0, "fourier_scale = ", fourier_scale,
            " must be finite and > 0");
}

std::string NetworkSpec::to_json() const {
  const nlohmann::json j = {{"kind", kind},
                            {"sample_shape", sample_shape},
                            {"width", width},
                            {"depth", depth},
                            {"activation", activation},
                            {"fourier_features", fourier_features},
                            {"fourier_scale", fourier_scale}};
  return j.dump(2);
}

NetworkSpec NetworkSpec::from_json(const std::string& text) {
  NetworkSpec spec;
  try {
    const auto j = nlohmann::json::parse(text);
    spec.kind = j.at("kind").get<std::string>();
    spec.sample_shape = j.at("sample_shape").get<std::vector<int64_t>>();
    spec.width = j.at("width").get<int64_t>();
    spec.depth = j.at("depth").get<int64_t>();
    spec.activation = j.at("activation").get<std::string>();
    spec.fourier_features = j.at("fourier_features").get<int64_t>();
    spec.fourier_scale = j.at("fourier_scale").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("network description: ") + e.what());
  }
  spec.validate();
  return spec;
}

struct ScoreNetwork::Impl {
  NetworkSpec spec;
  Mlp mlp{nullptr};
};

ScoreNetwork::ScoreNetwork(const NetworkSpec& spec, uint64_t seed) : impl_(std::make_shared<Impl>()) {
  spec.validate();
  impl_->spec = spec;
  // LibTorch's initialisers draw from the default generator: seed it for the construction and put
  // its state back, so building a network changes nothing else in the program.
  auto generator = at::detail::getDefaultCPUGenerator();
  const torch::Tensor saved = generator.get_state();
  generator.set_current_seed(seed);
  impl_->mlp = Mlp(spec);
  generator.set_state(saved);
}

torch::Tensor ScoreNetwork::forward(const torch::Tensor& x, const torch::Tensor& label) const {
  const auto& shape = impl_->spec.sample_shape;
  if (x.dim() != int64_t(shape.size()) + 1 || x.sizes().slice(1) != c10::IntArrayRef(shape)) {
    std::string expected = "[B";
    for (const int64_t n : shape) expected += ", " + std::to_string(n);
    throw InvalidArgument(detail::concat("the network takes x of shape ", expected, "], got ", x.sizes()));
  }
  SDE_CHECK(label.dim() == 1 && label.size(0) == x.size(0), "the network takes labels of shape [", x.size(0),
            "], got ", label.sizes());
  return impl_->mlp->forward(x, label);
}

const NetworkSpec& ScoreNetwork::spec() const { return impl_->spec; }

std::vector<torch::Tensor> ScoreNetwork::parameters() const { return impl_->mlp->parameters(); }

int64_t ScoreNetwork::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

std::vector<std::pair<std::string, torch::Tensor>> ScoreNetwork::state() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : impl_->mlp->named_parameters()) out.emplace_back(item.key(), item.value());
  for (const auto& item : impl_->mlp->named_buffers()) out.emplace_back(item.key(), item.value());
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
  copy.set_training(impl_->mlp->is_training());
  return copy;
}

void ScoreNetwork::set_training(bool on) const { impl_->mlp->train(on); }

void ScoreNetwork::to(const torch::Device& device, torch::ScalarType dtype) const { impl_->mlp->to(device, dtype); }

std::shared_ptr<torch::nn::Module> ScoreNetwork::module() const { return impl_->mlp.ptr(); }

void ScoreNetwork::save(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  archive.write("spec", c10::IValue(impl_->spec.to_json()));
  impl_->mlp->save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

void ScoreNetwork::load(const std::string& path) {
  torch::serialize::InputArchive archive;
  c10::IValue spec;
  try {
    archive.load_from(path);
    archive.read("spec", spec);
  } catch (const std::exception& e) {
    throw FileError("cannot read network weights from '" + path + "': " + detail::archive_error_text(e));
  }
  SDE_CHECK(spec.isString() && spec.toStringRef() == impl_->spec.to_json(), "'", path,
            "' holds the weights of another network; build the network its model.json describes");
  try {
    impl_->mlp->load(archive);
  } catch (const std::exception& e) {
    throw FileError("corrupt network weights in '" + path + "': " + detail::archive_error_text(e));
  }
}

std::unique_ptr<ScoreModel> score_model_of(std::shared_ptr<const Sde> sde, const ScoreNetwork& network,
                                           Parameterization parameterization, TimeConditioning conditioning) {
  return std::make_unique<ParameterizedScoreModel>(
      std::move(sde), [network](const torch::Tensor& x, const torch::Tensor& label) { return network.forward(x, label); },
      parameterization, conditioning, network.spec().sample_shape);
}

}  // namespace sde
