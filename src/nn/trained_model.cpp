#include "sde/nn/trained_model.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/json_integers.hpp"
#include "sde/core/atomic_file.hpp"
#include "sde/core/checksum.hpp"
#include "sde/core/errors.hpp"
#include "sde/core/time_grid.hpp"
#include "sde/core/toy_data.hpp"

namespace sde {

namespace {

constexpr const char* kModelFormat = "scoresde-model-1";

std::string read_file(const std::string& path, const std::string& hint) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError("cannot open '" + path + "'; " + hint);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void save_trained_model(const std::string& dir, const ModelMetadata& m, const ScoreNetwork& weights) {
  SDE_CHECK(m.network.to_json() == weights.spec().to_json(),
            "save_trained_model: the metadata describes another network than the weights'");
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw FileError("cannot create the model directory '" + dir + "': " + error.message());
  nlohmann::json j = {{"format", kModelFormat},
                            {"sde", {{"name", m.sde.name},
                                     {"beta_min", m.sde.beta.beta_min},
                                     {"beta_max", m.sde.beta.beta_max},
                                     {"sigma_min", m.sde.ve.sigma_min},
                                     {"sigma_max", m.sde.ve.sigma_max},
                                     {"cosine_s", m.sde.cosine.s},
                                     {"cosine_beta_max", m.sde.cosine.beta_max},
                                     {"edm_sigma_max", m.sde.edm.sigma_max},
                                     {"T", m.sde.t_max}}},
                            {"parameterization", name_of(m.parameterization)},
                            {"conditioning", name_of(m.conditioning)},
                            {"network", nlohmann::json::parse(m.network.to_json())},
                            {"data", m.data},
                            {"data_scale", m.data_scale},
                            {"data_shift", m.data_shift},
                            {"steps_trained", m.steps_trained}};
  if (m.sde.name == "discrete") j["sde"]["alphas_cumprod"] = m.sde.discrete.alphas_cumprod;
  if (m.data_range) j["data_range"] = {m.data_range->first, m.data_range->second};
  if (!m.sampler.empty()) {
    auto& r = j["sampler"] = nlohmann::json::object();
    if (!m.sampler.solver.empty()) r["solver"] = m.sampler.solver;
    if (m.sampler.steps > 0) r["steps"] = m.sampler.steps;
    if (!m.sampler.schedule.empty()) r["schedule"] = m.sampler.schedule;
    if (m.sampler.clip_x0) r["clip_x0"] = true;
  }
  // The file's CRC-32 is checked before LibTorch parses it: its archive reader crashes on some
  // damaged archives (found by fuzz_checkpoint). The two files are written as one.
  const std::string bytes = weights.to_bytes();
  nlohmann::json with_crc = j;
  with_crc["weights_crc32"] = bytes_crc32(bytes.data(), bytes.size());
  write_files_atomic({{dir + "/weights.pt", bytes}, {dir + "/model.json", with_crc.dump(2) + "\n"}});
}

LoadedModel load_trained_model(const std::string& dir) {
  const std::string path = dir + "/model.json";
  ModelMetadata m;
  uint32_t weights_crc = 0;
  try {
    const auto j = nlohmann::json::parse(read_file(path, "is the model directory complete?"));
    SDE_CHECK(j.at("format").get<std::string>() == kModelFormat, "'", path, "' is not a scoresde model (format ",
              j.at("format").dump(), ", expected ", kModelFormat, ")");
    const auto& s = j.at("sde");
    m.sde.name = s.at("name").get<std::string>();
    m.sde.beta.beta_min = s.at("beta_min").get<double>();
    m.sde.beta.beta_max = s.at("beta_max").get<double>();
    m.sde.ve.sigma_min = s.at("sigma_min").get<double>();
    m.sde.ve.sigma_max = s.at("sigma_max").get<double>();
    m.sde.t_max = s.at("T").get<double>();
    // Written since the cosine and EDM processes exist; older directories have the defaults.
    m.sde.cosine.s = s.value("cosine_s", m.sde.cosine.s);
    m.sde.cosine.beta_max = s.value("cosine_beta_max", m.sde.cosine.beta_max);
    m.sde.edm.sigma_max = s.value("edm_sigma_max", m.sde.edm.sigma_max);
    if (s.contains("alphas_cumprod")) m.sde.discrete.alphas_cumprod = s.at("alphas_cumprod").get<std::vector<double>>();
    m.parameterization = parse_parameterization(j.at("parameterization").get<std::string>());
    m.conditioning = parse_time_conditioning(j.at("conditioning").get<std::string>());
    m.network = NetworkSpec::from_json(j.at("network").dump());
    m.data = j.at("data").get<std::string>();
    m.data_scale = j.at("data_scale").get<double>();
    m.data_shift = j.at("data_shift").get<double>();
    m.steps_trained = detail::json_integer(j.at("steps_trained"), "steps_trained");
    // Written since bounded data predictions exist, when Fashion-MNIST's data units became pixels in
    // [0, 1]; older Fashion-MNIST directories scaled pixels centred to [-1, 1] (x_c = 2 x - 1), so
    // theirs is read as the same map from [0, 1] pixels: scale 2 s, shift t - s, range [t - s, t + s].
    if (j.contains("data_range")) {
      const auto range = j.at("data_range").get<std::vector<double>>();
      SDE_CHECK(range.size() == 2 && std::isfinite(range[0]) && std::isfinite(range[1]) && range[0] < range[1], "'", path,
                "': data_range must be [low, high] with low < high");
      m.data_range = std::make_pair(range[0], range[1]);
    } else if (m.data == "fashion-mnist") {
      const double s = m.data_scale, t = m.data_shift;
      m.data_scale = 2 * s;
      m.data_shift = t - s;
      m.data_range = std::make_pair(t - std::abs(s), t + std::abs(s));
    }
    if (j.contains("sampler")) {
      const auto& r = j.at("sampler");
      m.sampler.solver = r.value("solver", std::string());
      if (r.contains("steps")) m.sampler.steps = detail::json_integer(r.at("steps"), "sampler.steps");
      m.sampler.schedule = r.value("schedule", std::string());
      m.sampler.clip_x0 = r.value("clip_x0", false);
      SDE_CHECK(!m.sampler.clip_x0 || m.data_range, "'", path, "': sampler.clip_x0 needs the data's range "
                "(data_range)");
      SDE_CHECK(!r.contains("steps") || m.sampler.steps > 0, "'", path, "': sampler.steps = ", m.sampler.steps,
                " must be a positive count");
      // The solver's name is checked where a sampler is made (the solvers are a layer above);
      // the grid's message names the known choices.
      try {
        if (!m.sampler.schedule.empty()) TimeGrid::parse(m.sampler.schedule);
      } catch (const InvalidArgument& e) {
        throw InvalidArgument("'" + path + "': sampler: " + e.what());
      }
    }
    const int64_t crc = detail::json_integer(j.at("weights_crc32"), "weights_crc32");
    SDE_CHECK(crc >= 0 && crc <= int64_t(UINT32_MAX), "'", path, "': weights_crc32 = ", crc, " is not a CRC-32");
    weights_crc = uint32_t(crc);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument("'" + path + "' is not a valid model description: " + e.what());
  }
  SDE_CHECK(std::isfinite(m.data_scale) && m.data_scale != 0 && std::isfinite(m.data_shift), "'", path,
            "': data_scale = ", m.data_scale, " and data_shift = ", m.data_shift, " must be finite, scale != 0");
  LoadedModel loaded{m, make_sde(m.sde), ScoreNetwork(m.network, 0), nullptr, nullptr};
  const std::string weights_path = dir + "/weights.pt";
  const std::string bytes = read_file(weights_path, "is the model directory complete?");
  if (bytes_crc32(bytes.data(), bytes.size()) != weights_crc)
    throw FileError("'" + weights_path + "' does not match the checksum in '" + path +
                    "' (a damaged or replaced file); copy the model directory again or retrain");
  loaded.network.load_bytes(bytes, weights_path);
  loaded.network.set_training(false);
  for (auto& p : loaded.network.parameters()) p.requires_grad_(false);
  if (m.network.outputs > 0) loaded.classifier = classifier_of(loaded.sde, loaded.network, m.conditioning);
  else loaded.score = score_model_of(loaded.sde, loaded.network, m.parameterization, m.conditioning);
  return loaded;
}

LoadedModel load_score_model(const std::string& dir) {
  LoadedModel loaded = load_trained_model(dir);
  SDE_CHECK(loaded.score != nullptr, "'", dir, "' holds a noisy classifier (", loaded.metadata.network.outputs,
            " classes), not a score model; use it for classifier guidance (--classifier ", dir, ")");
  return loaded;
}

torch::Tensor ModelMetadata::to_data(const torch::Tensor& x) const { return (x - data_shift) / data_scale; }

torch::Tensor ModelMetadata::to_model(const torch::Tensor& x) const { return x * data_scale + data_shift; }

std::optional<GaussianMixture> ModelMetadata::data_density() const {
  if (data.rfind("toy:", 0) != 0) return std::nullopt;
  return toy_mixture(data.substr(4));
}

double default_fourier_scale(TimeConditioning conditioning, const Sde& sde) {
  switch (conditioning) {
    case TimeConditioning::kDiscrete999:
    case TimeConditioning::kSmldIndex:
    case TimeConditioning::kStepIndex: return 16.0 / 999.0;
    case TimeConditioning::kSigma: return 16.0 / sde.sigma(sde.t_max());
    case TimeConditioning::kTime: break;
  }
  return 16.0;
}

}  // namespace sde
