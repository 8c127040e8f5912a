#include "sde_options.hpp"

#include "sde/core/errors.hpp"
#include "sde/io/schedule_file.hpp"

#include <memory>

namespace sde::cli {

CLI::Option* add_target_option(CLI::App* cmd, std::string& target, bool required) {
  return cmd->add_option("--target", target, "Gaussian-mixture JSON file: the exact score")
      ->required(required)->check(CLI::ExistingFile);
}

bool sde_options_given(const CLI::App* cmd) {
  for (const char* flag : {"--sde", "--beta-min", "--beta-max", "--sigma-min", "--sigma-max", "--cosine-s",
                           "--cosine-beta-max", "--edm-sigma-max", "--schedule-file", "--T"})
    if (cmd->count(flag) > 0) return true;
  return false;
}

void add_sde_options(CLI::App* cmd, SdeConfig& sde) {
  cmd->add_option("--sde", sde.name, "forward SDE")
      ->check(CLI::IsMember(sde_names()))->capture_default_str();
  auto* beta_min = cmd->add_option("--beta-min", sde.beta.beta_min, "VP/sub-VP beta_min")->capture_default_str();
  auto* beta_max = cmd->add_option("--beta-max", sde.beta.beta_max, "VP/sub-VP beta_max")->capture_default_str();
  auto* sigma_min = cmd->add_option("--sigma-min", sde.ve.sigma_min, "VE sigma_min")->capture_default_str();
  auto* sigma_max = cmd->add_option("--sigma-max", sde.ve.sigma_max, "VE sigma_max")->capture_default_str();
  cmd->add_option("--cosine-s", sde.cosine.s, "cosine: the offset s of alpha_bar")->capture_default_str();
  cmd->add_option("--cosine-beta-max", sde.cosine.beta_max, "cosine: T is where beta reaches this")
      ->capture_default_str();
  cmd->add_option("--edm-sigma-max", sde.edm.sigma_max, "edm: sigma_max, which is T (sample to --eps 0.002)")
      ->capture_default_str();
  // The table is read when the options are parsed; --schedule-values (defined first, so its value
  // is set when the file's callback runs) says what a .npy holds.
  auto values = std::make_shared<std::string>("alphas_cumprod");
  cmd->add_option("--schedule-values", *values, "discrete: what a .npy --schedule-file holds")
      ->check(CLI::IsMember({"alphas_cumprod", "betas"}))->capture_default_str();
  cmd->add_option_function<std::string>(
      "--schedule-file",
      [&sde, values](const std::string& path) {
        // Read while the options are parsed: a bad file is a usage error naming the option (exit 2).
        try {
          sde.discrete = load_discrete_schedule(path, *values);
        } catch (const Error& e) {
          throw CLI::ValidationError("--schedule-file", e.what());
        }
      },
      "discrete: a table of alphas_cumprod or betas (.npy, or JSON {\"alphas_cumprod\": [...]} / {\"betas\": [...]}); "
      "default DDPM's linear betas 1e-4..0.02, N = 1000");
  beta_min->excludes(sigma_min)->excludes(sigma_max);
  beta_max->excludes(sigma_min)->excludes(sigma_max);
  cmd->add_option("--T", sde.t_max, "end time T of the forward SDE")->capture_default_str();
}

std::unique_ptr<LoadedModel> load_model_dir(const CLI::App* cmd, const std::string& dir) {
  SDE_CHECK(!sde_options_given(cmd), "the model in ", dir,
            " was trained for its own SDE (model.json); drop --sde and its parameters");
  return std::make_unique<LoadedModel>(load_score_model(dir));
}

std::shared_ptr<const Sde> make_sde_from(const CLI::App* cmd, const SdeConfig& sde) {
  // Each family's parameters, and the SDEs they apply to.
  const struct {
    const char *first, *second, *applies_to;
    bool applies;
  } families[] = {{"--beta-min", "--beta-max", "vp|subvp", sde.name == "vp" || sde.name == "subvp"},
                  {"--sigma-min", "--sigma-max", "ve", sde.name == "ve"},
                  {"--cosine-s", "--cosine-beta-max", "cosine", sde.name == "cosine"},
                  {"--edm-sigma-max", nullptr, "edm", sde.name == "edm"},
                  {"--schedule-file", "--schedule-values", "discrete", sde.name == "discrete"}};
  for (const auto& f : families)
    if (!f.applies && (cmd->count(f.first) || (f.second && cmd->count(f.second))))
      throw InvalidArgument(detail::concat(f.first, f.second ? std::string("/") + f.second : std::string(),
                                           f.second ? " apply" : " applies", " to --sde ", f.applies_to, ", not ",
                                           sde.name));
  std::shared_ptr<const Sde> made = make_sde(sde);
  // The cosine process ends where its beta reaches --cosine-beta-max (alpha_bar's pole lies just
  // past t = 1): T = 1, the default, is cut to that end; a larger T the user asked for is refused
  // rather than cut silently.
  SDE_CHECK(!cmd->count("--T") || sde.t_max <= 1.0 || made->t_max() == sde.t_max, "--T ", sde.t_max, " lies past where ", sde.name,
            "'s beta reaches --cosine-beta-max ", sde.cosine.beta_max, " (t = ", made->t_max(),
            "); give --T at most that, or a larger --cosine-beta-max");
  return made;
}

}  // namespace sde::cli
