#include "sde/solvers/registry.hpp"

#include <functional>

#include "sde/errors.hpp"
#include "sde/solvers/ancestral.hpp"
#include "sde/solvers/annealed_langevin_corrector.hpp"
#include "sde/solvers/ddim.hpp"
#include "sde/solvers/dpmpp_2s.hpp"
#include "sde/solvers/dpmpp_multistep.hpp"
#include "sde/solvers/euler_maruyama.hpp"
#include "sde/solvers/heun.hpp"
#include "sde/solvers/langevin_corrector.hpp"
#include "sde/solvers/predictor_corrector.hpp"
#include "sde/solvers/reverse_diffusion.hpp"

namespace sde {
namespace {

using Factory = std::function<std::unique_ptr<Sampler>(const SamplerOptions&, const SolverParams&)>;

struct Entry {
  SolverInfo info;
  Factory make;
};

std::unique_ptr<Predictor> make_predictor(const std::string& name) {
  if (name == "em") return std::make_unique<EulerMaruyama>();
  if (name == "reverse-diffusion") return std::make_unique<ReverseDiffusion>();
  if (name == "ancestral") return std::make_unique<Ancestral>();
  return std::make_unique<NoPredictor>();  // "none"; the name was checked against the list
}

// A predictor run alone: the PC loop without a corrector.
Entry predictor_entry(const std::string& name, const std::string& summary) {
  return {{name, summary, {}}, [name](const SamplerOptions& o, const SolverParams&) {
            return std::make_unique<PredictorCorrector>(name, o, make_predictor(name), nullptr);
          }};
}

// A solver with no options of its own: its predictor in the PC loop, without a corrector.
Entry deterministic_entry(const std::string& name, const std::string& summary,
                          std::function<std::unique_ptr<Predictor>()> make) {
  return {{name, summary, {}}, [name, make](const SamplerOptions& o, const SolverParams&) {
            return std::make_unique<PredictorCorrector>(name, o, make(), nullptr);
          }};
}

std::unique_ptr<Sampler> make_pc(const SamplerOptions& o, const SolverParams& p) {
  const std::string predictor = p.read_string("predictor", "reverse-diffusion",
                                              {"em", "reverse-diffusion", "ancestral", "none"});
  const std::string corrector = p.read_string("corrector", "langevin", {"langevin", "ald", "none"});
  const double snr = p.read_double("snr", 0.16);
  const int64_t steps = p.read_int("corrector_steps", 1);
  const std::string step_size = p.read_string("step_size", "per-sample", {"per-sample", "batch-mean"});
  std::unique_ptr<Corrector> c;
  if (corrector == "langevin") c = std::make_unique<LangevinCorrector>(snr, steps, step_size == "batch-mean");
  if (corrector == "ald") c = std::make_unique<AnnealedLangevinCorrector>(snr, steps);
  SDE_CHECK(predictor != "none" || c != nullptr,
            "pc: predictor and corrector are both 'none'; the sampler would only return the prior");
  return std::make_unique<PredictorCorrector>("pc", o, make_predictor(predictor), std::move(c));
}

// The one table of solvers. An explicit table (not self-registration from each solver's source)
// because a static library drops object files that nothing references.
const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = {
      predictor_entry("em", "Euler–Maruyama on the reverse SDE (weak order 1)"),
      predictor_entry("reverse-diffusion", "the forward discretisation run backwards (Song et al. 2021, App. E)"),
      predictor_entry("ancestral", "posterior q(x_s | x_t, Tweedie x_0): DDPM for VP, SMLD for VE"),
      {{"pc",
        "predictor-corrector: any predictor with a Langevin corrector (Song et al. 2021, Alg. 1-3)",
        {{"predictor", "reverse-diffusion", "em | reverse-diffusion | ancestral | none"},
         {"corrector", "langevin", "langevin | ald (annealed, NCSN) | none"},
         {"snr", "0.16", "corrector signal-to-noise ratio"},
         {"corrector_steps", "1", "corrector iterations per time step"},
         {"step_size", "per-sample", "langevin step size from per-sample norms, or batch-mean (the "
                                     "reference's; makes a sample depend on its batch)"}}},
       make_pc},
      {{"ddim", "DDIM in exponential-integrator form; eta = 0 deterministic, 1 ancestral (order 1)",
        {{"eta", "0", "stochasticity in [0, 1]"}}},
       [](const SamplerOptions& o, const SolverParams& p) {
         return std::make_unique<PredictorCorrector>("ddim", o, std::make_unique<Ddim>(p.read_double("eta", 0.0)), nullptr);
       }},
      deterministic_entry("heun", "Heun on the probability-flow ODE in EDM's coordinates (order 2, 2 NFE per step)",
                          [] { return std::make_unique<Heun>(); }),
      deterministic_entry("dpmpp-2m", "DPM-Solver++(2M): multistep data prediction (order 2, 1 NFE per step)",
                          [] { return std::make_unique<DpmSolverPPMultistep>(2); }),
      deterministic_entry("dpmpp-3m", "DPM-Solver++(3M): multistep data prediction (order 3, 1 NFE per step)",
                          [] { return std::make_unique<DpmSolverPPMultistep>(3); }),
      deterministic_entry("dpmpp-2s", "DPM-Solver++(2S): singlestep data prediction (order 2, 2 NFE per step)",
                          [] { return std::make_unique<DpmSolverPP2S>(); }),
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

std::unique_ptr<Sampler> make_sampler(const std::string& name, const SamplerOptions& options,
                                      const SolverParams& params) {
  std::string known;
  for (const Entry& e : entries()) {
    if (e.info.name != name) {
      known += (known.empty() ? "" : ", ") + e.info.name;
      continue;
    }
    auto sampler = e.make(options, params);
    std::vector<std::string> keys;
    for (const SolverOption& o : e.info.options) keys.push_back(o.key);
    params.check_all_read(name, keys);
    return sampler;
  }
  throw InvalidArgument(detail::concat("unknown solver '", name, "'; known solvers: ", known));
}

}  // namespace sde
