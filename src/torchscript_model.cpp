#include "sde/torchscript_model.hpp"

#include <torch/script.h>

#include "archive_errors.hpp"
#include "sde/errors.hpp"
#include "sde/memory_limits.hpp"

namespace sde {

namespace {

// The dtype the module computes in: its first parameter's, or the caller's when it has none.
c10::optional<torch::ScalarType> module_dtype(const torch::jit::Module& module) {
  for (const auto& p : module.parameters()) return p.scalar_type();
  return c10::nullopt;
}

}  // namespace

TorchScriptScoreModel::TorchScriptScoreModel(const std::string& path, std::shared_ptr<const Sde> sde,
                                             Parameterization parameterization, TimeConditioning conditioning,
                                             std::vector<int64_t> sample_shape, int64_t rows_per_call) {
  SDE_CHECK(!sample_shape.empty(), "TorchScript model '", path, "': give the shape of one sample, e.g. {2} or {1, 28, 28}");
  SDE_CHECK(sde != nullptr, "TorchScript model '", path, "': the SDE must not be null");
  const double t_probe = sde->t_max() / 2;
  auto module = std::make_shared<torch::jit::Module>();
  try {
    *module = torch::jit::load(path);
  } catch (const std::exception& e) {
    throw FileError("cannot load the TorchScript model '" + path + "': " + detail::archive_error_text(e));
  }
  module->eval();
  // A module saved from Python keeps requires_grad on its parameters, so every output would carry
  // a graph and the solvers' in-place (out=) arithmetic would refuse it. We never train a loaded
  // module; gradients with respect to x (the likelihood's divergence) still flow.
  for (const torch::Tensor& p : module->parameters()) p.requires_grad_(false);
  const auto dtype = module_dtype(*module);
  // Frozen: weights become constants of the graph, so the frozen-graph passes run (a linear
  // layer's weight is transposed once, not at every call; measured 5-10% per call on the MLP of
  // example 07 at batch 20000, docs/benchmarks.md). Inputs stay differentiable (the likelihood's
  // divergence). torch::jit::optimize_for_inference was slower here (MKLDNN layouts) and is not
  // applied. A module that cannot be frozen (one that changes its attributes) runs as it is.
  try {
    *module = torch::jit::freeze(*module);
  } catch (const std::exception&) {
  }
  Network network = [module, dtype, path](const torch::Tensor& x, const torch::Tensor& label) {
    const torch::ScalarType compute = dtype.value_or(x.scalar_type());
    torch::IValue out;
    try {
      out = module->forward({x.to(compute), label.to(compute)});
    } catch (const std::exception& e) {
      throw InvalidArgument("the TorchScript model '" + path + "' failed on x " + c10::str(x.sizes()) + " and labels " +
                            c10::str(label.sizes()) + ": its forward must take (x, label) and return x's shape (" +
                            detail::archive_error_text(e) + ")");
    }
    SDE_CHECK(out.isTensor() && out.toTensor().sizes() == x.sizes(), "the TorchScript model '", path,
              "' returned ", out.isTensor() ? c10::str(out.toTensor().sizes()) : out.tagKind(), " for x of shape ",
              x.sizes(), "; a score network returns x's shape");
    return out.toTensor().to(x.scalar_type());
  };
  model_ = std::make_unique<ParameterizedScoreModel>(std::move(sde), std::move(network), parameterization,
                                                     conditioning, std::move(sample_shape), rows_per_call);
  // The probe: two samples at T / 2, under no gradient (the shape's entries are checked by now).
  std::vector<int64_t> probe_shape = {2};
  double entries = 1;
  for (const int64_t n : model_->sample_shape()) {
    probe_shape.push_back(n);
    entries *= double(n);
  }
  check_fits_in_memory(8.0 * 4.0 * entries, detail::concat("one sample of shape ", c10::IntArrayRef(model_->sample_shape())),
                       "check --shape (one sample's shape, e.g. 2 or 1,28,28)");
  torch::NoGradGuard no_grad;
  model_->score(torch::zeros(probe_shape), torch::full({2}, t_probe));
}

TorchScriptScoreModel::~TorchScriptScoreModel() = default;

torch::Tensor TorchScriptScoreModel::score(const torch::Tensor& x, const torch::Tensor& t) const {
  return model_->score(x, t);
}

std::vector<int64_t> TorchScriptScoreModel::sample_shape() const { return model_->sample_shape(); }

bool TorchScriptScoreModel::has_data_prediction() const { return model_->has_data_prediction(); }

torch::Tensor TorchScriptScoreModel::data_prediction(const torch::Tensor& x, const torch::Tensor& t) const {
  return model_->data_prediction(x, t);
}

}  // namespace sde
