#include "sde/core/condition.hpp"

#include "sde/core/errors.hpp"

namespace sde {
namespace {

torch::Tensor rows_of(const torch::Tensor& v, const torch::Tensor& index) {
  return v.defined() ? v.index_select(0, index.to(v.device())) : v;
}

torch::Tensor narrowed(const torch::Tensor& v, int64_t first, int64_t count) {
  return v.defined() ? v.narrow(0, first, count) : v;
}

}  // namespace

int64_t Condition::rows() const {
  if (labels.defined()) return labels.size(0);
  return values.defined() ? values.size(0) : 0;
}

Condition Condition::select(const torch::Tensor& index) const {
  return {rows_of(labels, index), rows_of(values, index)};
}

Condition Condition::narrow(int64_t first, int64_t count) const {
  return {narrowed(labels, first, count), narrowed(values, first, count)};
}

Condition Condition::cat(const Condition& other) const {
  SDE_CHECK(labels.defined() == other.labels.defined() && values.defined() == other.values.defined(),
            "conditions with different parts cannot be joined (labels and/or values must be given in both)");
  return {labels.defined() ? torch::cat({labels, other.labels}) : labels,
          values.defined() ? torch::cat({values, other.values}) : values};
}

Condition Condition::of_class(int64_t label, int64_t count) {
  return {torch::full({count}, label, torch::kInt64), {}};
}

Condition Condition::for_range(SampleRange range) const {
  if (empty()) return {};
  const int64_t n = rows();
  if (n == 1) {
    auto expand = [&](const torch::Tensor& v) {
      if (!v.defined()) return v;
      std::vector<int64_t> shape = v.sizes().vec();
      shape[0] = range.count;
      return v.expand(shape).contiguous();
    };
    return {expand(labels), expand(values)};
  }
  SDE_CHECK(n >= range.first + range.count, "the condition has ", n, " rows, one per sample, but samples [",
            range.first, ", ", range.first + range.count, ") were asked for; give one row per sample of the request "
            "(or a single row for all of them)");
  return narrow(range.first, range.count);
}

void Condition::check(int64_t batch, int64_t classes, const std::string& who) const {
  if (labels.defined()) {
    SDE_CHECK(classes > 0, who, " takes no condition (class labels); sample it without --class, or use a class-conditional "
              "model (trained with --classes K, a labelled mixture, or a TorchScript forward(x, t, labels))");
    SDE_CHECK(labels.dim() == 1 && labels.size(0) == batch, who, ": the labels must have shape [B] with B = ", batch,
              ", got ", labels.sizes());
    SDE_CHECK(labels.scalar_type() == torch::kInt64, who, ": the labels must be int64, got ", labels.scalar_type());
    if (batch > 0) {
      const auto [lo, hi] = torch::aminmax(labels);
      SDE_CHECK(lo.item<int64_t>() >= kUnconditional && hi.item<int64_t>() < classes, who, ": class labels must lie in [0, ",
                classes, ") (or be ", kUnconditional, " for none), got labels in [", lo.item<int64_t>(), ", ",
                hi.item<int64_t>(), "]");
    }
  }
  if (values.defined()) {
    SDE_CHECK(values.dim() >= 1 && values.size(0) == batch, who, ": the condition tensor must have B = ", batch,
              " rows, got shape ", values.sizes());
    SDE_CHECK(!values.is_floating_point() || torch::isfinite(values).all().item<bool>(), who,
              ": the condition tensor has NaN or infinite entries; check the data it came from");
  }
}

}  // namespace sde
