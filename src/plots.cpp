#include "sde/plots.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "sde/errors.hpp"

namespace sde {
namespace {

constexpr double kCaptionHeight = 14;  // font pixel height of captions
constexpr int kCaptionBand = 20;       // band above a panel that holds its caption
constexpr int kTitleBand = 28;

torch::Tensor checked_points(const torch::Tensor& points, const char* who) {
  SDE_CHECK(points.defined() && points.dim() == 2 && points.size(1) == 2 && points.size(0) > 0, who,
            ": points must have shape [N, 2] with N >= 1, got ", points.defined() ? points.sizes() : at::IntArrayRef{});
  torch::Tensor p = points.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  SDE_CHECK(p.isfinite().all().item<bool>(), who, ": points contain NaN or infinity");
  return p;
}

}  // namespace

PlotRange range_of(const torch::Tensor& points, double margin) {
  const torch::Tensor p = checked_points(points, "range_of");
  const double lo = std::min(p.select(1, 0).min().item<double>(), p.select(1, 1).min().item<double>());
  const double hi = std::max(p.select(1, 0).max().item<double>(), p.select(1, 1).max().item<double>());
  const double pad = std::max(hi - lo, 1e-9) * margin;
  return {lo - pad, hi + pad, lo - pad, hi + pad};
}

std::function<double(double, double)> log_density_of(const GaussianMixture& mixture) {
  SDE_CHECK(mixture.dim() == 2, "log_density_of: the mixture is ", mixture.dim(), "-dimensional; plots are 2-D");
  return [mixture](double x, double y) { return mixture.log_prob(Eigen::Vector2d(x, y)); };
}

Image scatter_plot(const torch::Tensor& points, const ScatterOptions& options) {
  const torch::Tensor p = checked_points(points, "scatter_plot");
  const PlotRange r = options.range.value_or(range_of(p));
  SDE_CHECK(r.xmax > r.xmin && r.ymax > r.ymin, "scatter_plot: empty range [", r.xmin, ", ", r.xmax, "] x [", r.ymin,
            ", ", r.ymax, "]");
  const int n = options.size;
  SDE_CHECK(n >= 16, "scatter_plot: size ", n, " is too small (at least 16 pixels)");
  Image image(n, n);
  // Pixel centre (i, j) <-> data point; y grows upwards in data and downwards in the image.
  const auto data_x = [&](int i) { return r.xmin + (i + 0.5) / n * (r.xmax - r.xmin); };
  const auto data_y = [&](int j) { return r.ymax - (j + 0.5) / n * (r.ymax - r.ymin); };

  // Dots: 2 x 2 pixels whose opacity falls with N, so a dense region saturates and a sparse one
  // stays visible at both 500 and 50000 points.
  const int64_t count = p.size(0);
  const double alpha = std::clamp(600.0 / double(count), 0.04, 0.7);
  const auto a = p.accessor<double, 2>();
  for (int64_t k = 0; k < count; ++k) {
    const int i = static_cast<int>(std::floor((a[k][0] - r.xmin) / (r.xmax - r.xmin) * n));
    const int j = static_cast<int>(std::floor((r.ymax - a[k][1]) / (r.ymax - r.ymin) * n));
    if (i < 0 || j < 0 || i >= n || j >= n) continue;
    for (int dj = 0; dj < 2; ++dj)
      for (int di = 0; di < 2; ++di) image.blend(i + di, j + dj, options.point_color, alpha);
  }

  if (options.log_density) {
    std::vector<double> logp(size_t(n) * n);
    double top = -INFINITY;
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) top = std::max(top, logp[size_t(j) * n + i] = options.log_density(data_x(i), data_y(j)));
    // A pixel is on a contour when the level lies between its value and its right or lower
    // neighbour's: one-pixel lines without tracing them.
    for (double drop : {0.5, 2.0, 4.5}) {
      const double level = top - drop;
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i) {
          const double v = logp[size_t(j) * n + i];
          const bool right = i + 1 < n && (v - level) * (logp[size_t(j) * n + i + 1] - level) <= 0;
          const bool down = j + 1 < n && (v - level) * (logp[size_t(j + 1) * n + i] - level) <= 0;
          if (right || down) image.blend(i, j, options.contour_color, 0.8);
        }
    }
  }
  image.frame_rect(0, 0, n, n, colors::kGrey);
  return image;
}

Image image_grid(const torch::Tensor& images, int columns, double low, double high, int scale, int pad) {
  SDE_CHECK(images.defined() && images.dim() == 4 && (images.size(1) == 1 || images.size(1) == 3) &&
                images.size(0) > 0,
            "image_grid: images must have shape [N, C, H, W] with C 1 or 3 and N >= 1, got ",
            images.defined() ? images.sizes() : at::IntArrayRef{});
  SDE_CHECK(columns > 0 && scale > 0 && pad >= 0, "image_grid: columns (", columns, ") and scale (", scale,
            ") must be positive and pad (", pad, ") non-negative");
  SDE_CHECK(high > low, "image_grid: the value range [", low, ", ", high, "] is empty");
  const int64_t count = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const torch::Tensor bytes = ((images.detach().to(torch::kCPU, torch::kFloat64) - low) / (high - low) * 255.0)
                                  .nan_to_num(0.0)
                                  .round()
                                  .clamp(0, 255)
                                  .to(torch::kUInt8)
                                  .contiguous();
  const auto v = bytes.accessor<uint8_t, 4>();
  const int cols = static_cast<int>(std::min<int64_t>(columns, count));
  const int rows = static_cast<int>((count + cols - 1) / cols);
  const int cell_w = int(w) * scale, cell_h = int(h) * scale;
  Image grid(pad + cols * (cell_w + pad), pad + rows * (cell_h + pad));
  for (int64_t k = 0; k < count; ++k) {
    const int x0 = pad + int(k % cols) * (cell_w + pad), y0 = pad + int(k / cols) * (cell_h + pad);
    for (int y = 0; y < cell_h; ++y)
      for (int x = 0; x < cell_w; ++x) {
        const int64_t sy = y / scale, sx = x / scale;
        const uint8_t r = v[k][0][sy][sx];
        grid.set(x0 + x, y0 + y, c == 1 ? Rgb{r, r, r} : Rgb{r, v[k][1][sy][sx], v[k][2][sy][sx]});
      }
  }
  return grid;
}

Image gallery(const std::vector<Panel>& panels, int columns, const std::string& title) {
  SDE_CHECK(!panels.empty() && columns > 0, "gallery: needs at least one panel and columns > 0 (got ", panels.size(),
            " panels, ", columns, " columns)");
  int cell_w = 0, cell_h = 0;
  for (const Panel& p : panels) {
    cell_w = std::max({cell_w, p.image.width(), Image::text_width(p.caption, kCaptionHeight)});
    cell_h = std::max(cell_h, p.image.height());
  }
  constexpr int kGap = 12;
  const int cols = std::min<int>(columns, int(panels.size()));
  const int rows = (int(panels.size()) + cols - 1) / cols;
  const int top = title.empty() ? 0 : kTitleBand;
  Image out(kGap + cols * (cell_w + kGap), top + kGap + rows * (kCaptionBand + cell_h + kGap));
  if (!title.empty()) out.draw_text(title, kGap, 6, 18, colors::kBlack);
  for (size_t k = 0; k < panels.size(); ++k) {
    const int x0 = kGap + int(k % cols) * (cell_w + kGap);
    const int y0 = top + kGap + int(k / cols) * (kCaptionBand + cell_h + kGap);
    out.draw_text(panels[k].caption, x0, y0 + 2, kCaptionHeight, colors::kBlack);
    out.paste(panels[k].image, x0, y0 + kCaptionBand);
  }
  return out;
}

}  // namespace sde
