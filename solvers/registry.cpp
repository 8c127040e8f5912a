#include "sde/solve/registry.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <sstream>

#include "sde/core/errors.hpp"
#include "sde/solve/registration.hpp"

namespace sde {

#define SCORESDE_SOLVER(function) SolverEntry function();
#include "solver_list.hpp"
#undef SCORESDE_SOLVER

namespace {

// The registry: the library's solvers first, then those registered at run time, in order.
struct Registry {
  std::mutex mutex;
  std::vector<SolverEntry> entries = {
#define SCORESDE_SOLVER(function) function(),
#include "solver_list.hpp"
#undef SCORESDE_SOLVER
  };
};

Registry& registry() {
  static Registry r;
  return r;
}

// A copy of the entry called `name`, or none.
std::optional<SolverEntry> find_entry(const std::string& name) {
  Registry& r = registry();
  const std::lock_guard<std::mutex> lock(r.mutex);
  for (const SolverEntry& e : r.entries)
    if (e.info.name == name) return e;
  return std::nullopt;
}

}  // namespace

namespace detail {

double parse_finite_option(const std::string& key, const std::string& text) {
  size_t used = 0;
  double value = NAN;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  SDE_CHECK(used == text.size() && std::isfinite(value), "solver option ", key, " = '", text,
            "' is not a finite number");
  return value;
}

int64_t parse_integer_option(const std::string& key, const std::string& text) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
  }
  SDE_CHECK(used == text.size() && used > 0, "solver option ", key, " = '", text, "' is not an integer");
  return value;
}

std::string shown_number(double value) {
  std::ostringstream out;  // 6 significant digits, not the round-trip precision of concat
  out << value;
  return out.str();
}

void throw_unknown_choice(const std::string& key, const std::string& text, const std::string& known) {
  throw InvalidArgument(concat("solver option ", key, " = '", text, "' is not one of: ", known));
}

void throw_unknown_option(const std::string& solver, const std::string& keys, const std::string& known) {
  throw InvalidArgument(concat("solver '", solver, "' has no option ", keys, "; its options: ", known));
}

}  // namespace detail

SolverParams::Value::Value(double number) {
  // The shortest text that reads back to the same double.
  char text[32];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, number);
    if (std::strtod(text, nullptr) == number) break;
  }
  text_ = text;
}

SolverParams::SolverParams(std::initializer_list<std::pair<const std::string, Value>> values) {
  for (const auto& [key, value] : values) set(key, value);
}

SolverParams& SolverParams::set(const std::string& key, const Value& value) {
  values_[key] = value.text();
  return *this;
}

std::vector<SolverInfo> registered_solvers() {
  Registry& r = registry();
  const std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<SolverInfo> infos;
  for (const SolverEntry& e : r.entries) infos.push_back(e.info);
  return infos;
}

namespace {

std::string known_names() {
  std::string known;
  for (const SolverInfo& info : registered_solvers()) known += (known.empty() ? "" : ", ") + info.name;
  return known;
}

}  // namespace

const std::vector<SolverAlias>& solver_aliases() {
  // Each agreement is the mathematics of the step maps: the libraries' grids and defaults differ
  // where the note says so. k-diffusion and diffusers step in x / alpha against sigma / alpha
  // (EDM's coordinates), where Euler's step is DDIM's and the ancestral step is DDIM with eta.
  static const std::vector<SolverAlias> aliases = {
      {"k-diffusion:euler", "ddim", {{"eta", "0"}},
       "Euler in EDM coordinates, dx/dsigma = (x - D) / sigma: the same step map as DDIM (eta 0); not our `euler`, "
       "which is Euler on the probability-flow ODE in t"},
      {"k-diffusion:euler_ancestral", "ddim", {{"eta", "1"}},
       "Euler to sigma_down, then noise of std sigma_up: DDIM's step with eta (k-diffusion's eta, default 1)"},
      {"k-diffusion:heun", "heun", {}, "EDM Algorithm 2 with the same s_churn, s_tmin, s_tmax, s_noise"},
      {"k-diffusion:dpmpp_2m", "dpmpp-2m", {{"lower_order_final", "0"}},
       "DPM-Solver++(2M); k-diffusion keeps order 2 to the end (our default lowers it below N = 10)"},
      {"k-diffusion:dpmpp_2m_sde", "dpmpp-2m-sde", {{"lower_order_final", "0"}},
       "SDE-DPM-Solver++(2M) with eta 1; k-diffusion keeps order 2 to the end"},
      {"k-diffusion:dpmpp_3m_sde", "dpmpp-3m-sde", {{"lower_order_final", "0"}},
       "SDE-DPM-Solver++(3M) with eta 1; k-diffusion keeps order 3 to the end"},
      {"k-diffusion:dpm_adaptive", "dpm-adaptive", {}, "DPM-Solver-23 with an embedded error estimate, data prediction"},
      {"k-diffusion:ipndm", "ipndm", {}, "improved PNDM: equal-step Adams-Bashforth weights of order up to 4"},
      {"k-diffusion:deis", "deis", {}, "DEIS tAB of order 3"},
      {"diffusers:DDIMScheduler", "ddim", {}, "DDIM; set --eta as the scheduler's eta"},
      {"diffusers:DDPMScheduler", "ancestral", {},
       "DDPM's posterior step (variance_type fixed_small); for VP this is DDPM, and it runs on every process"},
      {"diffusers:EulerDiscreteScheduler", "ddim", {{"eta", "0"}}, "k-diffusion's Euler: DDIM's step map (eta 0)"},
      {"diffusers:EulerAncestralDiscreteScheduler", "ddim", {{"eta", "1"}}, "k-diffusion's Euler ancestral: DDIM with eta 1"},
      {"diffusers:HeunDiscreteScheduler", "heun", {}, "EDM's Heun (Algorithm 1; no churn)"},
      {"diffusers:DPMSolverMultistepScheduler", "dpmpp-2m", {{"lower_order_final", "15"}},
       "DPM-Solver++(2M), its defaults: first-order final step below 15 steps"},
      {"diffusers:UniPCMultistepScheduler", "unipc", {{"order", "2"}, {"variant", "bh2"}, {"lower_order_final", "15"}},
       "UniPC, its defaults: order 2, B(h) = e^h - 1, lower order at the end below 15 steps"},
      {"diffusers:DEISMultistepScheduler", "deis", {{"order", "3"}, {"variable", "logrho"}, {"lower_order_final", "15"}},
       "DEIS tAB, its defaults: order 3 in log rho, lower order at the end below 15 steps"},
      {"diffusers:FlowMatchEulerDiscreteScheduler", "euler", {},
       "Euler on the flow-matching ODE (use --sde flow; its shift is our --shift)"},
      {"score_sde:euler_maruyama", "em", {}, "EulerMaruyamaPredictor"},
      {"score_sde:reverse_diffusion", "reverse-diffusion", {}, "ReverseDiffusionPredictor"},
      {"score_sde:ancestral_sampling", "ancestral", {}, "AncestralSamplingPredictor (DDPM on VP, SMLD on VE)"},
      {"score_sde:pc", "pc", {{"predictor", "reverse-diffusion"}, {"corrector", "langevin"}, {"snr", "0.16"}},
       "PC sampling as its configs set it: ReverseDiffusionPredictor, LangevinCorrector, snr 0.16, one corrector step"},
  };
  return aliases;
}

namespace {

const SolverAlias* find_alias(const std::string& name) {
  for (const SolverAlias& a : solver_aliases())
    if (a.name == name) return &a;
  return nullptr;
}

[[noreturn]] void throw_unknown_solver(const std::string& name) {
  throw InvalidArgument(detail::concat("unknown solver '", name, "'; known solvers: ", known_names(),
                                       " (and other libraries' names: `scoresde solvers --aliases`)"));
}

}  // namespace

SolverInfo solver_info(const std::string& name) {
  const SolverAlias* alias = find_alias(name);
  if (std::optional<SolverEntry> e = find_entry(alias ? alias->solver : name)) return e->info;
  throw_unknown_solver(name);
}

void register_solver(SolverEntry entry) {
  const std::string& name = entry.info.name;
  SDE_CHECK(!name.empty() && name.find_first_of(" \t\n,") == std::string::npos, "register_solver: the name '", name,
            "' must be non-empty, without spaces or commas (it is typed after --solver)");
  SDE_CHECK(entry.make != nullptr, "register_solver: '", name, "' has no factory (SolverEntry::make)");
  SDE_CHECK(find_alias(name) == nullptr, "register_solver: '", name, "' is another library's name for a solver "
            "here (`scoresde solvers --aliases`); choose another");
  Registry& r = registry();
  const std::lock_guard<std::mutex> lock(r.mutex);
  for (const SolverEntry& e : r.entries)
    SDE_CHECK(e.info.name != name, "register_solver: a solver called '", name, "' is registered already; choose another name");
  r.entries.push_back(std::move(entry));
}

std::string solver_alias_table_markdown() {
  std::string out = "| name | runs | with | how they agree |\n|---|---|---|---|\n";
  for (const SolverAlias& a : solver_aliases()) {
    std::string with;
    for (const auto& [key, value] : a.params) with += (with.empty() ? "" : ", ") + std::string("`") + key + " " + value + "`";
    out += "| `" + a.name + "` | `" + a.solver + "` | " + (with.empty() ? "-" : with) + " | " + a.note + " |\n";
  }
  return out;
}

std::string solver_table_markdown() {
  // A '|' inside a cell would end it.
  auto cell = [](const std::string& text) {
    std::string out;
    for (const char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
  };
  std::string out = "| solver | what it is | steps | options (default) |\n|---|---|---|---|\n";
  for (const SolverInfo& info : registered_solvers()) {
    std::string options;
    for (const SolverOption& o : info.options)
      options += (options.empty() ? "" : ", ") + std::string("`") + o.key + "` (" + cell(o.default_value) + ")";
    out += "| `" + info.name + "` | " + cell(info.summary) + " | " + (info.uses_time_grid ? "grid" : "adaptive") + " | " +
           (options.empty() ? "-" : options) + " |\n";
  }
  return out;
}

std::unique_ptr<Sampler> make_sampler(const std::string& name, const SolverParams& params) {
  const SolverAlias* alias = find_alias(name);
  SolverParams merged;
  if (alias)
    for (const auto& [key, value] : alias->params) merged.set(key, value);
  for (const auto& [key, value] : params.values()) merged.set(key, value);
  if (std::optional<SolverEntry> e = find_entry(alias ? alias->solver : name)) return e->make(merged);
  throw_unknown_solver(name);
}

}  // namespace sde
