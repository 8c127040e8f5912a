// A family of Gaussian-mixture problems for accuracy studies: solvers are chosen and tested on a
// suite (dimensions 2 to 64, isotropic and strongly anisotropic components, 1 to 10 components,
// well and badly separated modes), not on one problem, because a choice that wins on one loses
// on another (docs/solvers.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sde/core/gaussian_mixture.hpp"

namespace sde {

/// A random mixture, reproducible from its seed (drawn with sde::NoiseStream, so the same on
/// every machine): K equally weighted components; means of norm `separation` in uniformly random
/// directions; covariances U diag(v) U^T with U a random rotation and standard deviations sqrt(v)
/// spaced geometrically from scale / sqrt(anisotropy) to scale sqrt(anisotropy) (condition
/// number anisotropy^2; 1: isotropic, scale^2 I).
struct MixtureSpec {
  int64_t dim = 2;
  int64_t components = 8;
  double separation = 4.0;  ///< norm of every mean (0: all components centred)
  double scale = 0.3;       ///< geometric mean of a component's standard deviations
  double anisotropy = 1.0;  ///< largest over smallest standard deviation of a component (>= 1)
  uint64_t seed = 0;
  /// Throws unless dim, components >= 1, separation >= 0, scale > 0 and anisotropy >= 1.
  void validate() const;
};

GaussianMixture make_mixture(const MixtureSpec& spec);

/// A named problem of the suite.
struct MixtureProblem {
  std::string name;         ///< e.g. "32d-k6-aniso"
  std::string description;  ///< one line
  GaussianMixture mixture;
};

/// The suite the solver defaults are chosen on: the 2-D ring of 8 (data/ring8.json's mixture),
/// a 64-D single Gaussian of condition number 10^4, 32-D and 16-D anisotropic mixtures, 8-D with
/// ten overlapping components, 64-D isotropic with three far modes, and 2-D with two thin modes
/// far apart.
std::vector<MixtureProblem> mixture_suite();

}  // namespace sde
