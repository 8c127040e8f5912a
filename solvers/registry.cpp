#include "sde/solvers/registry.hpp"

#include <functional>
#include <sstream>

#include "sde/errors.hpp"
#include "sde/solvers/adaptive_sampler.hpp"
#include "sde/solvers/ancestral.hpp"
#include "sde/solvers/annealed_langevin_corrector.hpp"
#include "sde/solvers/ddim.hpp"
#include "sde/solvers/dpm_adaptive.hpp"
#include "sde/solvers/dpmpp_2s.hpp"
#include "sde/solvers/dpmpp_multistep.hpp"
#include "sde/solvers/euler_maruyama.hpp"
#include "sde/solvers/heun.hpp"
#include "sde/solvers/langevin_corrector.hpp"
#include "sde/solvers/predictor_corrector.hpp"
#include "sde/solvers/probability_flow.hpp"
#include "sde/solvers/reverse_diffusion.hpp"
#include "sde/solvers/sde_adaptive.hpp"

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

std::unique_ptr<Sampler> make_heun(const SamplerOptions& o, const SolverParams& p) {
  HeunChurn churn;
  churn.s_churn = p.read_double("s_churn", churn.s_churn);
  churn.s_tmin = p.read_double("s_tmin", churn.s_tmin);
  churn.s_tmax = p.read_double("s_tmax", churn.s_tmax);
  churn.s_noise = p.read_double("s_noise", churn.s_noise);
  return std::make_unique<PredictorCorrector>("heun", o, std::make_unique<Heun>(churn), nullptr);
}

// The step-size controller's options, read with the solver's own defaults.
AdaptiveOptions read_adaptive(const SolverParams& p, AdaptiveOptions a) {
  a.rtol = p.read_double("rtol", a.rtol);
  a.atol = p.read_double("atol", a.atol);
  a.h_init = p.read_double("h_init", a.h_init);
  a.safety = p.read_double("safety", a.safety);
  a.max_steps = p.read_int("max_steps", a.max_steps);
  return a;
}

// A default as the help shows it: 6 significant digits, not the round-trip precision of concat.
std::string shown(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::vector<SolverOption> adaptive_options(const AdaptiveOptions& a, const std::string& step_variable) {
  return {{"rtol", shown(a.rtol), "relative tolerance"},
          {"atol", shown(a.atol), "absolute tolerance, in data units"},
          {"h_init", shown(a.h_init), "first step, in " + step_variable},
          {"safety", shown(a.safety), "safety factor theta on each proposed step"},
          {"max_steps", detail::concat(a.max_steps), "attempts per sample before giving up"}};
}

const AdaptiveOptions kSdeAdaptiveDefaults{0.01, 0.0078, 0.01, 0.9, 0.9, 10000};
const AdaptiveOptions kDpmAdaptiveDefaults{0.05, 0.0078, 0.05, 0.9, 1.0 / 3.0, 10000};

std::unique_ptr<Sampler> make_sde_adaptive(const SamplerOptions& o, const SolverParams& p) {
  AdaptiveOptions a = read_adaptive(p, kSdeAdaptiveDefaults);
  a.exponent = p.read_double("exponent", a.exponent);
  const bool paper = p.read_string("error_estimate", "drift", {"drift", "paper"}) == "paper";
  return std::make_unique<AdaptiveSampler>(
      o, a, std::make_unique<SdeAdaptivePair>(paper ? SdeErrorEstimate::kPaper : SdeErrorEstimate::kDrift));
}

std::unique_ptr<Sampler> make_dpm_adaptive(const SamplerOptions& o, const SolverParams& p) {
  AdaptiveOptions a = read_adaptive(p, kDpmAdaptiveDefaults);
  const int64_t order = p.read_int("order", 3);
  a.exponent = 1.0 / double(order);
  return std::make_unique<AdaptiveSampler>(o, a, std::make_unique<DpmAdaptivePair>(int(order)));
}

std::vector<SolverOption> sde_adaptive_options() {
  auto v = adaptive_options(kSdeAdaptiveDefaults, "t");
  v.push_back({"exponent", shown(kSdeAdaptiveDefaults.exponent), "r in h <- theta h E^(-r)"});
  v.push_back({"error_estimate", "drift", "drift (acceptance independent of the noise) | paper (the "
                                          "paper's noisy pair; biased, for reproduction)"});
  return v;
}

std::vector<SolverOption> dpm_adaptive_options() {
  auto v = adaptive_options(kDpmAdaptiveDefaults, "log-SNR");
  v.insert(v.begin(), {"order", "3", "2 (DPM-Solver-12) or 3 (DPM-Solver-23); the error exponent is 1/order"});
  return v;
}

std::unique_ptr<Sampler> make_ode(const std::string& method, const SamplerOptions& o, const SolverParams& p) {
  OdeOptions ode;
  ode.method = method;
  if (method != "rk4") {
    ode.rtol = p.read_double("rtol", ode.rtol);
    ode.atol = p.read_double("atol", ode.atol);
    ode.h_init = p.read_double("h_init", ode.h_init);
    ode.max_steps = p.read_int("max_steps", ode.max_steps);
    ode.norm = parse_error_norm(p.read_string("norm", "rms", {"rms", "max", "batch-rms"}));
  }
  return std::make_unique<ProbabilityFlowSampler>(o, ode);
}

Entry ode_entry(const std::string& method, const std::string& summary) {
  const OdeOptions d;
  std::vector<SolverOption> options;
  if (method != "rk4")
    options = {{"rtol", shown(d.rtol), "relative tolerance"},
               {"atol", shown(d.atol), "absolute tolerance"},
               {"norm", "rms", "rms (per-sample RMS, then the worst sample) | max (largest entry of the batch) | "
                                "batch-rms (RMS over the whole batch, as scipy on the flattened batch)"},
               {"h_init", shown(d.h_init), "first step, as a fraction of [eps, T]; 0 = Hairer's automatic choice"},
               {"max_steps", detail::concat(d.max_steps), "attempted steps before giving up"}};
  return {{"ode-" + method, summary, options},
          [method](const SamplerOptions& o, const SolverParams& p) { return make_ode(method, o, p); }};
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
      {{"heun", "Heun on the probability-flow ODE in EDM's coordinates (order 2, 2 NFE per step), EDM churn optional",
        {{"s_churn", "0", "EDM churn; 0 = deterministic"},
         {"s_tmin", "0", "churn only where sigma/alpha >= s_tmin"},
         {"s_tmax", "inf", "churn only where sigma/alpha <= s_tmax"},
         {"s_noise", "1", "scale of the churn noise"}}},
       make_heun},
      deterministic_entry("dpmpp-2m", "DPM-Solver++(2M): multistep data prediction (order 2, 1 NFE per step)",
                          [] { return std::make_unique<DpmSolverPPMultistep>(2); }),
      deterministic_entry("dpmpp-3m", "DPM-Solver++(3M): multistep data prediction (order 3, 1 NFE per step)",
                          [] { return std::make_unique<DpmSolverPPMultistep>(3); }),
      deterministic_entry("dpmpp-2s", "DPM-Solver++(2S): singlestep data prediction (order 2, 2 NFE per step)",
                          [] { return std::make_unique<DpmSolverPP2S>(); }),
      {{"dpm-adaptive", "adaptive DPM-Solver-12/23 (data prediction), every sample with its own steps; ignores --steps",
        dpm_adaptive_options()},
       make_dpm_adaptive},
      {{"sde-adaptive", "adaptive EM / improved-Euler pair on the reverse SDE (Jolicoeur-Martineau et al. 2021); ignores --steps",
        sde_adaptive_options()},
       make_sde_adaptive},
      ode_entry("dopri5", "probability-flow ODE, Dormand–Prince 5(4) with step control (Boost.Odeint); ignores --steps"),
      ode_entry("cash-karp", "probability-flow ODE, Cash–Karp 5(4) with step control (Boost.Odeint); ignores --steps"),
      ode_entry("rk4", "probability-flow ODE, classical Runge–Kutta 4 on the time grid (4 NFE per step)"),
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
