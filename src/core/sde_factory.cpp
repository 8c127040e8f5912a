#include "sde/core/sde_factory.hpp"

#include "sde/core/errors.hpp"

namespace sde {

std::vector<std::string> sde_names() { return {"vp", "subvp", "ve", "cosine", "edm", "flow", "discrete"}; }

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
  if (config.name == "flow") return std::make_shared<FlowSde>(config.t_max);
  if (config.name == "discrete") {
    SDE_CHECK(config.t_max == 1.0, "discrete: T is 1 (the table's last entry); got T = ", config.t_max);
    return make_discrete_sde(config.discrete);
  }
  std::string known;
  for (const std::string& name : sde_names()) known += (known.empty() ? "" : ", ") + name;
  throw InvalidArgument(detail::concat("unknown SDE '", config.name, "'; known SDEs: ", known));
}

}  // namespace sde
