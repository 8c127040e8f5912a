#include "outputs.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "sde/core/atomic_file.hpp"
#include "sde/core/errors.hpp"
#include "sde/io/plots.hpp"

namespace sde::cli {

std::string sibling(const std::string& out, const std::string& extension) {
  return std::filesystem::path(out).replace_extension(extension).string();
}

std::vector<std::string> input_files(const CLI::App& cmd) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const CLI::Option* option : cmd.get_options()) {
    if (option->count() == 0 || option->check_lname("out") || option->check_lname("images")) continue;
    for (const std::string& value : option->results()) {
      std::error_code ec;
      if (fs::is_regular_file(value, ec)) files.push_back(value);
      if (!fs::is_directory(value, ec)) continue;
      for (const fs::directory_entry& entry : fs::directory_iterator(value, ec))
        if (entry.is_regular_file(ec)) files.push_back(entry.path().string());
    }
  }
  return files;
}

void check_npy_output(const std::string& out, bool picture, const std::vector<std::string>& inputs) {
  SDE_CHECK(std::filesystem::path(out).extension() == ".npy", "--out ", out,
            " must end in .npy: the summary (and a picture) go beside it as ", sibling(out, ".json"), " (and ",
            sibling(out, ".png"), "), which must not be the output itself");
  for (const char* extension : {".npy", ".json", ".png"}) {
    if (!picture && std::string(extension) == ".png") continue;
    const std::string path = sibling(out, extension);
    for (const std::string& input : inputs) {
      std::error_code ec;
      SDE_CHECK(!std::filesystem::equivalent(path, input, ec), "--out ", out, " would write ", path,
                ", which this run reads (", input, "); choose another --out");
    }
    check_writable_target(path);
  }
}

std::string picture_png(const torch::Tensor& samples, const std::string& caption,
                        const std::optional<GaussianMixture>& density, std::pair<double, double> range, int columns) {
  if (samples.dim() == 2 && samples.size(1) == 2) {
    ScatterOptions options;
    options.size = 400;
    if (density) options.log_density = log_density_of(*density);
    return png_bytes(gallery({{scatter_plot(samples, options), caption}}, 1));
  }
  if (samples.dim() == 2 && samples.size(1) > 2) {
    // A scatter matrix: every pair of the first four coordinates, on one shared range per coordinate.
    const int64_t dims = std::min<int64_t>(samples.size(1), 4);
    std::vector<Panel> panels;
    ScatterOptions options;
    options.size = 240;
    for (int64_t i = 0; i < dims; ++i)
      for (int64_t j = i + 1; j < dims; ++j) {
        const torch::Tensor pair = samples.index_select(1, torch::tensor({i, j}));
        panels.push_back({scatter_plot(pair, options), "x" + std::to_string(i) + " vs x" + std::to_string(j)});
      }
    const std::string title = caption + (samples.size(1) > dims ? " (first 4 of " + std::to_string(samples.size(1)) +
                                                                      " coordinates)"
                                                                : std::string());
    return png_bytes(gallery(panels, 3, title));
  }
  if (samples.dim() == 4 && (samples.size(1) == 1 || samples.size(1) == 3)) {
    const int grid_columns = columns > 0 ? columns : 8;
    const int64_t shown = columns > 0 ? int64_t(columns) * 10 : 64;
    const torch::Tensor first = samples.slice(0, 0, std::min<int64_t>(shown, samples.size(0)));
    const int scale = samples.size(3) <= 32 ? 2 : 1;
    return png_bytes(gallery({{image_grid(first, grid_columns, range.first, range.second, scale), caption}}, 1));
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> image_pngs(const torch::Tensor& samples, const std::string& dir,
                                                            std::pair<double, double> range) {
  SDE_CHECK(samples.dim() == 4 && (samples.size(1) == 1 || samples.size(1) == 3), "one PNG per image needs images of "
            "shape (n, C, H, W) with C 1 or 3, not ", samples.sizes());
  std::vector<std::pair<std::string, std::string>> files;
  for (int64_t i = 0; i < samples.size(0); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%06lld.png", (long long)i);
    files.emplace_back((std::filesystem::path(dir) / name).string(),
                       png_bytes(image_grid(samples.slice(0, i, i + 1), 1, range.first, range.second, 1, 0)));
  }
  return files;
}

namespace {

// The directory an OutputDirectory created, for the signal handler: SIGTERM, SIGINT and SIGHUP end
// the program without unwinding, so the destructor would not remove it. rmdir (async-signal-safe)
// removes it only while it is empty, and the signal then takes its default course.
char g_created_directory[4096] = {0};

extern "C" void remove_created_directory_and_reraise(int signal) {
  if (g_created_directory[0] != '\0') ::rmdir(g_created_directory);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

}  // namespace

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
  if (created_ && path.size() < sizeof g_created_directory) {
    std::memcpy(g_created_directory, path.c_str(), path.size() + 1);
    for (int signal : {SIGTERM, SIGINT, SIGHUP}) std::signal(signal, remove_created_directory_and_reraise);
  }
}

OutputDirectory::~OutputDirectory() {
  if (created_) {
    for (int signal : {SIGTERM, SIGINT, SIGHUP}) std::signal(signal, SIG_DFL);
    g_created_directory[0] = '\0';
  }
  std::error_code ec;
  if (created_ && std::filesystem::is_empty(path_, ec)) std::filesystem::remove(path_, ec);
}

}  // namespace sde::cli
