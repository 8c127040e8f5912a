// Pictures of samples: 2-D scatter plots with the exact density's contours, grids of images,
// and galleries of captioned panels. Written with sde::save_png (sde/io/image.hpp).
#pragma once

#include <torch/types.h>

#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sde/core/gaussian_mixture.hpp"
#include "sde/io/image.hpp"

namespace sde {

/// The data rectangle a 2-D plot shows.
struct PlotRange {
  double xmin = -1, xmax = 1, ymin = -1, ymax = 1;
};

/// The square range around `points` [N, 2] (min and max of both coordinates, widened by
/// `margin` of the span on each side). Throws sde::InvalidArgument for another shape, no
/// points or non-finite coordinates.
PlotRange range_of(const torch::Tensor& points, double margin = 0.08);

struct ScatterOptions {
  int size = 300;                   ///< side of the square plot in pixels
  std::optional<PlotRange> range;   ///< default: range_of(points)
  /// The exact log-density, when known: drawn as contours where log p is 0.5, 2 and 4.5 below its
  /// maximum over the plot (the 1, 2 and 3 standard-deviation ellipses of a Gaussian).
  std::function<double(double x, double y)> log_density;
  Rgb point_color = colors::kBlue;
  Rgb contour_color = colors::kRed;
};

/// The log-density of a 2-D mixture, for ScatterOptions::log_density (the mixture is copied in).
std::function<double(double, double)> log_density_of(const GaussianMixture& mixture);

/// Points [N, 2] as translucent dots (their overlap shows the density), framed, with the exact
/// density's contours when given. Points outside the range are left out.
Image scatter_plot(const torch::Tensor& points, const ScatterOptions& options = {});

/// Images [N, C, H, W] (C = 1 grey or 3 RGB) in a grid of `columns`, pixel values mapped from
/// [low, high] to 0..255 (clamped), each image enlarged `scale` times, `pad` pixels between.
Image image_grid(const torch::Tensor& images, int columns, double low = -1, double high = 1, int scale = 1,
                 int pad = 2);

struct Panel {
  Image image;
  std::string caption;  ///< printed above the panel (needs the font: sde/io/image.hpp)
};

/// Panels in rows of `columns`, each under its caption, with an optional title on top.
Image gallery(const std::vector<Panel>& panels, int columns, const std::string& title = "");

/// One curve of a line plot: points (x_i, y_i), joined in order; non-positive or non-finite
/// points are left out (on log axes they have no place) and break the line.
struct Series {
  std::string label;
  std::vector<double> x, y;
  /// Index into the plot's palette (wrapping); -1: the series' position in the plot. Set it to
  /// keep one curve's colour across panels that do not all hold the same curves.
  int color = -1;
};

struct LinePlotOptions {
  int width = 900, height = 460;  ///< the whole picture, legend included
  std::string title, x_label, y_label;
  /// A horizontal reference line (e.g. the noise floor of a metric) drawn dashed; NaN: none.
  double reference = std::nan("");
  std::string reference_label;
};

/// Curves on log-log axes (decades marked), each in its own colour with a legend on the right:
/// error against NFE, one curve per solver. Throws sde::InvalidArgument unless some series has a
/// point with x, y > 0 and every series has as many x as y.
Image log_log_plot(const std::vector<Series>& series, const LinePlotOptions& options = {});

}  // namespace sde
