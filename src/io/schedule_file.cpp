#include "sde/io/schedule_file.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sde/core/errors.hpp"
#include "sde/io/npy.hpp"

namespace sde {

namespace {

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<double> numbers_of_npy(const std::string& path, const std::string& what) {
  const torch::Tensor t = load_npy(path);
  SDE_CHECK(t.dim() == 1, what, " ", path, ": expected a 1-D array, got shape ", t.sizes());
  const torch::Tensor d = t.to(torch::kFloat64).contiguous();
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

// A text file's contents; `what` names it in the error (a directory or a missing file).
std::string read_text(const std::string& path, const std::string& what) {
  std::error_code ec;
  SDE_CHECK(!std::filesystem::is_directory(path, ec), what, ": ", path, " is a directory; give a file");
  std::ifstream in(path);
  if (!in) throw FileError(detail::concat(what, ": cannot read ", path, "; check the path"));
  return {(std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()};
}

std::vector<double> numbers_of_json(const std::string& path, const std::string& key) {
  const std::string text = read_text(path, "--" + key);
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  SDE_CHECK(json.is_array() || (json.is_object() && json.contains(key)), "--", key, " ", path,
            ": expected a JSON list of numbers or an object with \"", key, "\" (a sample summary has \"times\")");
  const nlohmann::json& list = json.is_array() ? json : json[key];
  SDE_CHECK(list.is_array(), "--", key, " ", path, ": \"", key, "\" must be a list of numbers");
  std::vector<double> values;
  for (const auto& v : list) {
    SDE_CHECK(v.is_number(), "--", key, " ", path, ": holds ", v.dump(), ", not a number");
    values.push_back(v.get<double>());
  }
  return values;
}

std::vector<double> numbers_of_list(const std::string& text, const std::string& key) {
  std::vector<double> values;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    size_t used = 0;
    double value = NAN;
    try {
      value = std::stod(item, &used);
    } catch (const std::exception&) {
    }
    SDE_CHECK(used > 0 && item.find_first_not_of(" ", used) == std::string::npos, "--", key, ": '", item,
              "' is not a number; give a comma-separated list (1,0.5,0.001), an .npy or a .json file");
    values.push_back(value);
  }
  return values;
}

}  // namespace

std::vector<double> load_grid_values(const std::string& spec, const std::string& key) {
  if (ends_with(spec, ".npy")) return numbers_of_npy(spec, "--" + key);
  if (ends_with(spec, ".json")) return numbers_of_json(spec, key);
  return numbers_of_list(spec, key);
}

DiscreteSchedule load_discrete_schedule(const std::string& path, const std::string& npy_values) {
  SDE_CHECK(npy_values == "alphas_cumprod" || npy_values == "betas", "discrete schedule: values '", npy_values,
            "' must be alphas_cumprod or betas");
  std::vector<double> values;
  std::string kind = npy_values;
  if (ends_with(path, ".npy")) {
    values = numbers_of_npy(path, "discrete schedule");
  } else {
    const std::string text = read_text(path, "discrete schedule");
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
