// The files a command writes: its main output with a JSON summary and a picture beside it, or an
// output directory. Output paths are checked before any work, so a bad one costs nothing.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sde/core/gaussian_mixture.hpp"

namespace sde::cli {

/// `out` with its extension replaced: samples.npy -> samples.json.
std::string sibling(const std::string& out, const std::string& extension);

/// The files a command reads, from its options' values: each value that names a file, and the files
/// of each value that names a directory (a model directory's model.json, weights and checkpoint).
/// --out and --images, the outputs, are left out.
std::vector<std::string> input_files(const CLI::App& cmd);

/// Checks `--out` of a command that writes OUT.npy with OUT.json (and OUT.png when `picture`)
/// beside it: the name must end in .npy (so that no two outputs share a path), no output may be one
/// of `inputs` (`--out t.npy` would replace the --target t.json it reads), and each path must be
/// writable (sde::check_writable_target). Throws sde::InvalidArgument / sde::FileError naming the fix.
void check_npy_output(const std::string& out, bool picture, const std::vector<std::string>& inputs);

/// The picture of samples as PNG bytes: a scatter plot for [N, 2] points (with the density's
/// contours when `density` is given), a scatter matrix of the first four coordinates' pairs for
/// [N, D] points with D > 2, a grid of the first 64 for [N, C, H, W] images with C 1 or 3 (values
/// in `range` shown black to white; `columns` > 0: that many columns and up to 10 rows, so that
/// with --class all over K classes each column is one class). Empty for other shapes.
std::string picture_png(const torch::Tensor& samples, const std::string& caption,
                        const std::optional<GaussianMixture>& density, std::pair<double, double> range,
                        int columns = 0);

/// One PNG per image of [N, C, H, W] samples (C 1 or 3): (dir/000000.png, bytes), ...
std::vector<std::pair<std::string, std::string>> image_pngs(const torch::Tensor& samples, const std::string& dir,
                                                            std::pair<double, double> range);

/// An output directory (train, demo): refused when the path is a file, created when missing, and
/// removed again when the command ends with it still empty (it failed before writing anything).
class OutputDirectory {
 public:
  explicit OutputDirectory(const std::string& path);
  ~OutputDirectory();
  OutputDirectory(const OutputDirectory&) = delete;
  OutputDirectory& operator=(const OutputDirectory&) = delete;

 private:
  std::string path_;
  bool created_ = false;
};

}  // namespace sde::cli
