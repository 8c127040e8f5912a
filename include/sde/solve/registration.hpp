// How a solver joins the registry: its name, summary, a typed options struct with one field table
// (which parses the options by name, shows their defaults in `scoresde solvers` and the solver
// guide, and names the known keys for a typo), and a factory. The library's solvers each define
// one function returning their SolverEntry (listed in solver_list.hpp); a program of its own passes
// its entry to sde::register_solver, after which make_sampler and the CLI's code paths find it by name
// (docs/adding_a_solver.md; examples/10_own_solver_and_guidance.cpp).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sde/solve/per_sample_step_control.hpp"
#include "sde/solve/registry.hpp"
#include "sde/solve/shared_step_control.hpp"
#include "sde/solve/stepper_sampler.hpp"

namespace sde {

/// A registered solver: what `scoresde solvers` shows, and how to make it from text options.
struct SolverEntry {
  SolverInfo info;
  std::function<std::unique_ptr<Sampler>(const SolverParams&)> make;
};

/// Adds a solver to the registry, for make_sampler(entry.info.name, ...) and registered_solvers().
/// Throws sde::InvalidArgument for a name that is taken (by a solver or an alias), empty or holds
/// spaces, or an entry without a factory. Thread-safe; registrations last for the program's life.
void register_solver(SolverEntry entry);

/// Whether a solver steps on the request's time grid or chooses its own steps.
enum class Steps { kOnGrid, kAdaptive };

/// One option of a solver's options struct O: parsing its text into O, and showing O's value.
template <class O>
struct OptionField {
  std::string key;
  std::string type;  ///< FLOAT, INT, or the names of a choice, "a|b|c"
  std::string help;
  std::function<void(O&, const std::string&)> parse;
  std::function<std::string(const O&)> show;
};

namespace detail {
double parse_finite_option(const std::string& key, const std::string& text);
int64_t parse_integer_option(const std::string& key, const std::string& text);
std::string shown_number(double value);
[[noreturn]] void throw_unknown_choice(const std::string& key, const std::string& text, const std::string& known);
[[noreturn]] void throw_unknown_option(const std::string& solver, const std::string& keys, const std::string& known);
}  // namespace detail

/// A real-valued option; `member` returns the field of O it sets.
template <class O>
OptionField<O> number_option(std::string key, std::function<double&(O&)> member, std::string help) {
  return {key, "FLOAT", std::move(help),
          [key, member](O& o, const std::string& text) { member(o) = detail::parse_finite_option(key, text); },
          [member](const O& o) { O copy = o; return detail::shown_number(member(copy)); }};
}

/// An integer option.
template <class O>
OptionField<O> integer_option(std::string key, std::function<int64_t&(O&)> member, std::string help) {
  return {key, "INT", std::move(help),
          [key, member](O& o, const std::string& text) { member(o) = detail::parse_integer_option(key, text); },
          [member](const O& o) { O copy = o; return std::to_string(member(copy)); }};
}

/// An option with named values (an enum, or a bool); `names` lists name and value pairs.
template <class O, class V>
OptionField<O> choice_option(std::string key, std::function<V&(O&)> member, std::vector<std::pair<std::string, V>> names,
                             std::string help) {
  std::string known, shown, type;
  for (const auto& [name, value] : names) {
    known += (known.empty() ? "" : ", ") + name;
    shown += (shown.empty() ? "" : " | ") + name;
    type += (type.empty() ? "" : "|") + name;
  }
  return {key, type, help.empty() ? shown : shown + " (" + help + ")",
          [key, member, names, known](O& o, const std::string& text) {
            for (const auto& [name, value] : names)
              if (name == text) {
                member(o) = value;
                return;
              }
            detail::throw_unknown_choice(key, text, known);
          },
          [member, names](const O& o) {
            O copy = o;
            for (const auto& [name, value] : names)
              if (value == member(copy)) return name;
            return std::string("?");
          }};
}

/// The entry of a solver whose options struct is O (default-constructed: the defaults). `make`
/// gets the parsed options; O may have a validate() it calls.
template <class O>
SolverEntry solver_entry(std::string name, std::string summary, std::vector<OptionField<O>> fields,
                         std::function<std::unique_ptr<Sampler>(const std::string& name, const O&)> make,
                         Steps steps = Steps::kOnGrid) {
  SolverEntry entry;
  entry.info.name = name;
  entry.info.summary = std::move(summary);
  entry.info.uses_time_grid = steps == Steps::kOnGrid;
  const O defaults{};
  std::string known;
  for (const OptionField<O>& f : fields) {
    entry.info.options.push_back({f.key, f.show(defaults), f.help, f.type});
    known += (known.empty() ? "" : ", ") + f.key;
  }
  entry.make = [name, fields, make, known](const SolverParams& params) {
    O o{};
    std::string unknown;
    for (const auto& [key, text] : params.values()) {
      bool found = false;
      for (const OptionField<O>& f : fields)
        if (f.key == key) {
          f.parse(o, text);
          found = true;
        }
      if (!found) unknown += (unknown.empty() ? "" : ", ") + key;
    }
    if (!unknown.empty()) detail::throw_unknown_option(name, unknown, known.empty() ? "(none)" : known);
    return make(name, o);
  };
  return entry;
}

/// The lower_order_final option of a multistep solver whose options struct O has that member
/// (an int64_t: lower-order final steps when N is below it; see multistep_order).
template <class O>
OptionField<O> lower_order_final_option() {
  return integer_option<O>("lower_order_final", [](O& o) -> int64_t& { return o.lower_order_final; },
                           "lower-order final steps when N is below it (0: never)");
}

/// A solver without options of its own.
struct NoOptions {};

/// A fixed-grid solver without options: the stepper S, default-constructed.
template <class S>
SolverEntry fixed_grid_solver(std::string name, std::string summary) {
  return solver_entry<NoOptions>(std::move(name), std::move(summary), {},
                                 [](const std::string& n, const NoOptions&) {
                                   return std::make_unique<StepperSampler>(n, std::make_unique<S>());
                                 });
}

/// The fields of PerSampleStepControl's options, inside O. `variable` names the step variable.
template <class O>
std::vector<OptionField<O>> per_sample_control_fields(std::function<PerSampleStepOptions&(O&)> c,
                                                      const std::string& variable) {
  return {number_option<O>("rtol", [c](O& o) -> double& { return c(o).rtol; }, "relative tolerance"),
          number_option<O>("atol", [c](O& o) -> double& { return c(o).atol; }, "absolute tolerance, in data units"),
          number_option<O>("h_init", [c](O& o) -> double& { return c(o).h_init; }, "first step, in " + variable),
          number_option<O>("safety", [c](O& o) -> double& { return c(o).safety; }, "safety factor theta on each proposed step"),
          integer_option<O>("max_steps", [c](O& o) -> int64_t& { return c(o).max_steps; },
                            "attempts per sample before giving up")};
}

/// The fields of SharedStepControl's options, inside O.
template <class O>
std::vector<OptionField<O>> shared_control_fields(std::function<SharedStepOptions&(O&)> c) {
  return {number_option<O>("rtol", [c](O& o) -> double& { return c(o).rtol; }, "relative tolerance"),
          number_option<O>("atol", [c](O& o) -> double& { return c(o).atol; }, "absolute tolerance"),
          choice_option<O, OdeErrorNorm>("norm", [c](O& o) -> OdeErrorNorm& { return c(o).norm; },
                                         {{"rms", OdeErrorNorm::kPerSampleRms}, {"max", OdeErrorNorm::kMax},
                                          {"batch-rms", OdeErrorNorm::kBatchRms}},
                                         "per-sample RMS then the worst sample; the largest entry of the batch; "
                                         "the RMS over the whole batch, as scipy on the flattened batch"),
          number_option<O>("h_init", [c](O& o) -> double& { return c(o).h_init; },
                           "first step, as a fraction of [eps, T]; 0 = Hairer's automatic choice"),
          integer_option<O>("max_steps", [c](O& o) -> int64_t& { return c(o).max_steps; },
                            "attempted steps before giving up")};
}

}  // namespace sde
