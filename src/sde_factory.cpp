#include "sde/sde_factory.hpp"

#include "sde/errors.hpp"

namespace sde {

std::vector<std::string> sde_names() { return {"vp", "subvp", "ve"}; }

std::shared_ptr<const Sde> make_sde(const SdeConfig& config) {
  if (config.name == "vp") return std::make_shared<VpSde>(config.beta, config.t_max);
  if (config.name == "subvp") return std::make_shared<SubVpSde>(config.beta, config.t_max);
  if (config.name == "ve") return std::make_shared<VeSde>(config.ve, config.t_max);
  throw InvalidArgument(detail::concat("unknown SDE '", config.name, "'; known SDEs: vp, subvp, ve"));
}

}  // namespace sde
