#include "outputs.hpp"

#include <filesystem>

#include "sde/atomic_file.hpp"
#include "sde/plots.hpp"

namespace sde::cli {

std::string sibling(const std::string& out, const std::string& extension) {
  return std::filesystem::path(out).replace_extension(extension).string();
}

void write_json(const std::string& path, const nlohmann::json& summary) {
  write_file_atomic(path, summary.dump(2) + "\n");
}

bool write_picture(const std::string& path, const torch::Tensor& samples, const std::string& caption,
                   const std::optional<GaussianMixture>& density, bool symmetric) {
  if (samples.dim() == 2 && samples.size(1) == 2) {
    ScatterOptions options;
    options.size = 400;
    if (density) options.log_density = log_density_of(*density);
    save_png(path, gallery({{scatter_plot(samples, options), caption}}, 1));
    return true;
  }
  if (samples.dim() == 4 && (samples.size(1) == 1 || samples.size(1) == 3)) {
    const torch::Tensor first = samples.slice(0, 0, std::min<int64_t>(64, samples.size(0)));
    const int scale = samples.size(3) <= 32 ? 2 : 1;
    save_png(path, gallery({{image_grid(first, 8, symmetric ? -1.0 : 0.0, 1.0, scale), caption}}, 1));
    return true;
  }
  return false;
}

}  // namespace sde::cli
