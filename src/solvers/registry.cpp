#include "sde/solvers/registry.hpp"

#include <cmath>
#include <sstream>

#include "sde/errors.hpp"
#include "sde/solvers/registration.hpp"

namespace sde {

#define SCORESDE_SOLVER(function) SolverEntry function();
#include "sde/solvers/solver_list.hpp"
#undef SCORESDE_SOLVER

namespace {

const std::vector<SolverEntry>& entries() {
  static const std::vector<SolverEntry> table = {
#define SCORESDE_SOLVER(function) function(),
#include "sde/solvers/solver_list.hpp"
#undef SCORESDE_SOLVER
  };
  return table;
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

const std::vector<SolverInfo>& registered_solvers() {
  static const std::vector<SolverInfo> infos = [] {
    std::vector<SolverInfo> v;
    for (const SolverEntry& e : entries()) {
      v.push_back(e.info);
      v.back().uses_time_grid = e.make(SamplerOptions{}, SolverParams{})->uses_time_grid();
    }
    return v;
  }();
  return infos;
}

namespace {

std::string known_names() {
  std::string known;
  for (const SolverEntry& e : entries()) known += (known.empty() ? "" : ", ") + e.info.name;
  return known;
}

}  // namespace

const SolverInfo& solver_info(const std::string& name) {
  for (const SolverInfo& info : registered_solvers())
    if (info.name == name) return info;
  throw InvalidArgument(detail::concat("unknown solver '", name, "'; known solvers: ", known_names()));
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

std::unique_ptr<Sampler> make_sampler(const std::string& name, const SamplerOptions& options,
                                      const SolverParams& params) {
  for (const SolverEntry& e : entries())
    if (e.info.name == name) return e.make(options, params);
  throw InvalidArgument(detail::concat("unknown solver '", name, "'; known solvers: ", known_names()));
}

}  // namespace sde
