// Forward SDEs by name, for configuration files and the command line.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sde/core/cosine_sde.hpp"
#include "sde/core/custom_sde.hpp"
#include "sde/core/edm_sde.hpp"
#include "sde/core/flow_sde.hpp"
#include "sde/core/forward_sde.hpp"
#include "sde/core/ve_sde.hpp"
#include "sde/core/vp_sde.hpp"

namespace sde {

/// Which SDE and its parameters. Parameters of the other family are ignored.
struct SdeConfig {
  std::string name = "vp";  ///< "vp", "subvp", "ve", "cosine", "edm", "flow" or "discrete"
  LinearBeta beta;          ///< VP and sub-VP
  VeSchedule ve;            ///< VE
  CosineSchedule cosine;    ///< cosine (T is clipped where beta reaches cosine.beta_max)
  EdmSchedule edm;          ///< edm (T is edm.sigma_max)
  double t_max = 1.0;       ///< T (not edm's: its T is sigma_max; flow's at most 1)
  DiscreteSchedule discrete = DiscreteSchedule::ddpm_linear();  ///< discrete (T = 1): DDPM's table by default
};

/// The names make_sde knows, in the order the CLI lists them.
std::vector<std::string> sde_names();

/// Builds the SDE; throws sde::InvalidArgument naming an unknown name or a bad parameter.
std::shared_ptr<const Sde> make_sde(const SdeConfig& config);

}  // namespace sde
