#include "sde/sde_factory.hpp"

#include "sde/errors.hpp"

namespace sde {

std::vector<std::string> sde_names() { return {"vp", "subvp", "ve", "cosine", "edm"}; }

std::shared_ptr<const Sde> make_sde(const SdeConfig& config) {
  if (config.name == "vp") return std::make_shared<VpSde>(config.beta, config.t_max);
  if (config.name == "subvp") return std::make_shared<SubVpSde>(config.beta, config.t_max);
  if (config.name == "ve") return std::make_shared<VeSde>(config.ve, config.t_max);
  if (config.name == "cosine") return std::make_shared<CosineVpSde>(config.cosine, config.t_max);
  if (config.name == "edm") {
    SDE_CHECK(config.t_max == 1.0, "edm's T is its sigma_max (", config.edm.sigma_max, "); set that instead of T = ",
              config.t_max);
    return std::make_shared<EdmSde>(config.edm);
  }
  std::string known;
  for (const std::string& name : sde_names()) known += (known.empty() ? "" : ", ") + name;
  throw InvalidArgument(detail::concat("unknown SDE '", config.name, "'; known SDEs: ", known));
}

}  // namespace sde
