#include "sde/core/torchscript_model.hpp"

#include <torch/script.h>

#include "core/archive_errors.hpp"
#include "sde/core/errors.hpp"
#include "core/memory_limits.hpp"

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
                                             std::vector<int64_t> sample_shape, ConditionInputs condition,
                                             int64_t rows_per_call, torch::Device device) {
  SDE_CHECK(condition.classes == 0 || !condition.values, "TorchScript model '", path,
            "': a module takes class labels or a condition tensor as its third input, not both");
  SDE_CHECK(!sample_shape.empty(), "TorchScript model '", path, "': give the shape of one sample, e.g. {2} or {1, 28, 28}");
  SDE_CHECK(sde != nullptr, "TorchScript model '", path, "': the SDE must not be null");
  const double t_probe = sde->t_max() / 2;
  auto module = std::make_shared<torch::jit::Module>();
  try {
    *module = torch::jit::load(path, device);
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
  const bool conditional = condition.classes > 0 || condition.values;
  ConditionalNetwork network = [module, dtype, path, condition, conditional](const torch::Tensor& x, const torch::Tensor& label,
                                                                            const Condition& c) {
    const torch::ScalarType compute = dtype.value_or(x.scalar_type());
    std::vector<torch::IValue> inputs{x.to(compute), label.to(compute)};
    if (condition.classes > 0) {
      // "No class" (kUnconditional, or no labels at all) is the null class K.
      const torch::Tensor y = c.labels.defined() ? c.labels.to(x.device(), torch::kInt64)
                                                 : torch::full({x.size(0)}, kUnconditional, torch::kInt64);
      inputs.emplace_back(torch::where(y.lt(0), torch::full_like(y, condition.classes), y));
    } else if (condition.values) {
      SDE_CHECK(c.values.defined(), "the TorchScript model '", path, "' needs its condition tensor; give one per sample");
      inputs.emplace_back(c.values.to(x.device(), compute));
    }
    torch::IValue out;
    try {
      out = module->forward(inputs);
    } catch (const std::exception& e) {
      throw InvalidArgument("the TorchScript model '" + path + "' failed on x " + c10::str(x.sizes()) + " and labels " +
                            c10::str(label.sizes()) + ": its forward must take " +
                            (conditional ? "(x, label, y)" : "(x, label)") + " and return x's shape (" +
                            detail::archive_error_text(e) + ")");
    }
    SDE_CHECK(out.isTensor() && out.toTensor().sizes() == x.sizes(), "the TorchScript model '", path,
              "' returned ", out.isTensor() ? c10::str(out.toTensor().sizes()) : out.tagKind(), " for x of shape ",
              x.sizes(), "; a score network returns x's shape");
    // An integer or complex output would be cast without a word (rounded values, a dropped
    // imaginary part): a score network returns real floating-point values.
    const torch::ScalarType returned = out.toTensor().scalar_type();
    SDE_CHECK(c10::isFloatingType(returned), "the TorchScript model '", path, "' returned ", returned,
              " values; a score network returns floating point (float32 or float64)");
    return out.toTensor().to(x.scalar_type());
  };
  model_ = std::make_unique<ParameterizedScoreModel>(std::move(sde), std::move(network), condition, parameterization,
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
  if (condition.values) return;  // the condition tensor's shape is the module's business: checked at the first call
  const auto on_device = torch::TensorOptions().device(device);
  model_->score(torch::zeros(probe_shape, on_device), torch::full({2}, t_probe, on_device));
  if (condition.classes > 0)
    model_->conditional_score(torch::zeros(probe_shape, on_device), torch::full({2}, t_probe, on_device),
                              {torch::tensor({int64_t(0), kUnconditional}, on_device), {}});
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
