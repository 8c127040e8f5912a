#include "sde/solvers/registry.hpp"

#include <functional>

#include "sde/errors.hpp"
#include "sde/solvers/ancestral.hpp"
#include "sde/solvers/euler_maruyama.hpp"
#include "sde/solvers/reverse_diffusion.hpp"

namespace sde {
namespace {

using Factory = std::function<std::unique_ptr<Sampler>(const SamplerOptions&)>;

struct Entry {
  SolverInfo info;
  Factory make;
};

// The one table of solvers. An explicit table (not self-registration from each solver's source)
// because a static library drops object files that nothing references.
const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = {
      {{"em", "Euler–Maruyama on the reverse SDE (weak order 1)"},
       [](const SamplerOptions& o) { return std::make_unique<EulerMaruyama>(o); }},
      {{"reverse-diffusion", "the forward discretisation run backwards (Song et al. 2021, App. E)"},
       [](const SamplerOptions& o) { return std::make_unique<ReverseDiffusion>(o); }},
      {{"ancestral", "posterior q(x_s | x_t, Tweedie x_0): DDPM for VP, SMLD for VE"},
       [](const SamplerOptions& o) { return std::make_unique<Ancestral>(o); }},
  };
  return table;
}

}  // namespace

const std::vector<SolverInfo>& registered_solvers() {
  static const std::vector<SolverInfo> infos = [] {
    std::vector<SolverInfo> v;
    for (const Entry& e : entries()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

std::unique_ptr<Sampler> make_sampler(const std::string& name, const SamplerOptions& options) {
  std::string known;
  for (const Entry& e : entries()) {
    if (e.info.name == name) return e.make(options);
    known += (known.empty() ? "" : ", ") + e.info.name;
  }
  throw InvalidArgument(detail::concat("unknown solver '", name, "'; known solvers: ", known));
}

}  // namespace sde
