#include "sde/schedule_file.hpp"

#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "sde/errors.hpp"
#include "sde/npy.hpp"

namespace sde {

DiscreteSchedule load_discrete_schedule(const std::string& path, const std::string& npy_values) {
  SDE_CHECK(npy_values == "alphas_cumprod" || npy_values == "betas", "discrete schedule: values '", npy_values,
            "' must be alphas_cumprod or betas");
  std::vector<double> values;
  std::string kind = npy_values;
  if (path.size() >= 4 && path.substr(path.size() - 4) == ".npy") {
    const torch::Tensor t = load_npy(path);
    SDE_CHECK(t.dim() == 1, "discrete schedule ", path, ": expected a 1-D array, got shape ", t.sizes());
    const torch::Tensor d = t.to(torch::kFloat64).contiguous();
    values.assign(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  } else {
    std::ifstream in(path);
    if (!in) throw FileError(detail::concat("discrete schedule: cannot read ", path));
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    SDE_CHECK(json.is_object() && (json.contains("alphas_cumprod") != json.contains("betas")), "discrete schedule ",
              path, ": expected a JSON object with one of \"alphas_cumprod\" or \"betas\" (a list of numbers)");
    kind = json.contains("betas") ? "betas" : "alphas_cumprod";
    const nlohmann::json& list = json[kind];
    SDE_CHECK(list.is_array(), "discrete schedule ", path, ": \"", kind, "\" must be a list of numbers");
    for (const auto& v : list) {
      SDE_CHECK(v.is_number(), "discrete schedule ", path, ": \"", kind, "\" holds ", v.dump(), ", not a number");
      values.push_back(v.get<double>());
    }
  }
  DiscreteSchedule schedule = kind == "betas" ? DiscreteSchedule::from_betas(values) : DiscreteSchedule{values};
  schedule.validate();
  return schedule;
}

}  // namespace sde
