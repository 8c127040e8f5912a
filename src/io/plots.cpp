#include "sde/io/plots.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "sde/core/errors.hpp"

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

namespace {

// Distinct colours for up to 10 curves (then they repeat): Tableau's 10.
constexpr Rgb kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                            {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

// A tick label: 0.02, 5, 100 ("%g" of the rounded value).
std::string tick(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A line of width ~2 from (x0, y0) to (x1, y1), dashed when `dash` > 0 (pixels on, then off).
void draw_line(Image& image, double x0, double y0, double x1, double y1, Rgb c, int dash = 0) {
  const int steps = int(std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0)))) + 1;
  for (int i = 0; i <= steps; ++i) {
    if (dash > 0 && (i / dash) % 2 == 1) continue;
    const double u = double(i) / steps;
    const int x = int(std::lround(x0 + u * (x1 - x0))), y = int(std::lround(y0 + u * (y1 - y0)));
    image.set(x, y, c);
    image.set(x + 1, y, c);
    image.set(x, y + 1, c);
  }
}

}  // namespace

Image log_log_plot(const std::vector<Series>& series, const LinePlotOptions& options) {
  double xmin = INFINITY, xmax = 0, ymin = INFINITY, ymax = 0;
  const auto usable = [](double x, double y) { return std::isfinite(x) && std::isfinite(y) && x > 0 && y > 0; };
  for (const Series& s : series) {
    SDE_CHECK(s.x.size() == s.y.size(), "log_log_plot: series '", s.label, "' has ", s.x.size(), " x but ",
              s.y.size(), " y values");
    for (size_t i = 0; i < s.x.size(); ++i)
      if (usable(s.x[i], s.y[i])) {
        xmin = std::min(xmin, s.x[i]), xmax = std::max(xmax, s.x[i]);
        ymin = std::min(ymin, s.y[i]), ymax = std::max(ymax, s.y[i]);
      }
  }
  SDE_CHECK(xmax > 0, "log_log_plot: no series has a point with x > 0 and y > 0");
  if (usable(1.0, options.reference)) ymin = std::min(ymin, options.reference), ymax = std::max(ymax, options.reference);
  // Whole decades around the data (at least one decade on each axis).
  const double lx0 = std::floor(std::log10(xmin)), lx1 = std::max(std::ceil(std::log10(xmax)), lx0 + 1);
  const double ly0 = std::floor(std::log10(ymin)), ly1 = std::max(std::ceil(std::log10(ymax)), ly0 + 1);
  int legend_w = 0;
  for (const Series& s : series) legend_w = std::max(legend_w, Image::text_width(s.label, 13));
  legend_w = std::max(legend_w, Image::text_width(options.reference_label, 13)) + 40;
  const int left = 58, top = options.title.empty() ? 12 : 34, bottom = 44;
  const int plot_w = std::max(120, options.width - left - legend_w - 16), plot_h = std::max(120, options.height - top - bottom);
  Image image(left + plot_w + legend_w + 16, top + plot_h + bottom);
  const auto px = [&](double x) { return left + (std::log10(x) - lx0) / (lx1 - lx0) * plot_w; };
  const auto py = [&](double y) { return top + plot_h - (std::log10(y) - ly0) / (ly1 - ly0) * plot_h; };
  // Grid lines at 1, 2, 5 x 10^k, labels at the decades.
  const Rgb light{225, 225, 225};
  for (double e = lx0; e <= lx1; ++e)
    for (double m : {1.0, 2.0, 5.0}) {
      const double x = m * std::pow(10.0, e);
      if (std::log10(x) > lx1 + 1e-9) continue;
      draw_line(image, px(x), top, px(x), top + plot_h, light);
      image.draw_text(tick(x), int(px(x)) - 8, top + plot_h + 6, 12, colors::kBlack);
    }
  for (double e = ly0; e <= ly1; ++e)
    for (double m : {1.0, 2.0, 5.0}) {
      const double y = m * std::pow(10.0, e);
      if (std::log10(y) > ly1 + 1e-9) continue;
      draw_line(image, left, py(y), left + plot_w, py(y), light);
      image.draw_text(tick(y), 4, int(py(y)) - 7, 12, colors::kBlack);
    }
  image.frame_rect(left, top, plot_w + 1, plot_h + 1, colors::kGrey);
  if (!options.title.empty()) image.draw_text(options.title, left, 8, 16, colors::kBlack);
  image.draw_text(options.x_label, left + plot_w / 2 - Image::text_width(options.x_label, 13) / 2, top + plot_h + 24, 13,
                  colors::kBlack);
  image.draw_text(options.y_label, left + 4, top + 4, 13, colors::kBlack);
  int legend_y = top + 4;
  const int legend_x = left + plot_w + 16;
  if (usable(1.0, options.reference)) {
    draw_line(image, left, py(options.reference), left + plot_w, py(options.reference), colors::kBlack, 4);
    draw_line(image, legend_x, legend_y + 8, legend_x + 22, legend_y + 8, colors::kBlack, 4);
    image.draw_text(options.reference_label, legend_x + 28, legend_y, 13, colors::kBlack);
    legend_y += 18;
  }
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    const size_t index = s.color >= 0 ? size_t(s.color) : k;
    const Rgb c = kPalette[index % (sizeof(kPalette) / sizeof(kPalette[0]))];
    for (size_t i = 0; i + 1 < s.x.size(); ++i)
      if (usable(s.x[i], s.y[i]) && usable(s.x[i + 1], s.y[i + 1]))
        draw_line(image, px(s.x[i]), py(s.y[i]), px(s.x[i + 1]), py(s.y[i + 1]), c);
    for (size_t i = 0; i < s.x.size(); ++i)
      if (usable(s.x[i], s.y[i])) image.fill_rect(int(px(s.x[i])) - 2, int(py(s.y[i])) - 2, 5, 5, c);
    draw_line(image, legend_x, legend_y + 8, legend_x + 22, legend_y + 8, c);
    image.draw_text(s.label, legend_x + 28, legend_y, 13, colors::kBlack);
    legend_y += 18;
  }
  return image;
}

}  // namespace sde
