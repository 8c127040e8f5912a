#include "outputs.hpp"

#include <filesystem>

#include "sde/atomic_file.hpp"
#include "sde/errors.hpp"
#include "sde/plots.hpp"

namespace sde::cli {

std::string sibling(const std::string& out, const std::string& extension) {
  return std::filesystem::path(out).replace_extension(extension).string();
}

void check_npy_output(const std::string& out, bool picture) {
  SDE_CHECK(std::filesystem::path(out).extension() == ".npy", "--out ", out,
            " must end in .npy: the summary (and a picture) go beside it as ", sibling(out, ".json"), " (and ",
            sibling(out, ".png"), "), which must not be the output itself");
  for (const char* extension : {".npy", ".json", ".png"})
    if (picture || std::string(extension) != ".png") check_writable_target(sibling(out, extension));
}

std::string picture_png(const torch::Tensor& samples, const std::string& caption,
                        const std::optional<GaussianMixture>& density, bool symmetric) {
  if (samples.dim() == 2 && samples.size(1) == 2) {
    ScatterOptions options;
    options.size = 400;
    if (density) options.log_density = log_density_of(*density);
    return png_bytes(gallery({{scatter_plot(samples, options), caption}}, 1));
  }
  if (samples.dim() == 4 && (samples.size(1) == 1 || samples.size(1) == 3)) {
    const torch::Tensor first = samples.slice(0, 0, std::min<int64_t>(64, samples.size(0)));
    const int scale = samples.size(3) <= 32 ? 2 : 1;
    return png_bytes(gallery({{image_grid(first, 8, symmetric ? -1.0 : 0.0, 1.0, scale), caption}}, 1));
  }
  return {};
}

OutputDirectory::OutputDirectory(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (fs::exists(status)) {
    if (!fs::is_directory(status))
      throw FileError(detail::concat("--out ", path, " exists and is not a directory; give a directory (new or existing)"));
    return;
  }
  created_ = fs::create_directories(path, ec);
  if (ec) throw FileError(detail::concat("cannot create the output directory '", path, "': ", ec.message()));
}

OutputDirectory::~OutputDirectory() {
  std::error_code ec;
  if (created_ && std::filesystem::is_empty(path_, ec)) std::filesystem::remove(path_, ec);
}

}  // namespace sde::cli
