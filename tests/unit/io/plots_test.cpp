// Pictures: PNG files round-trip exactly, plots put points, contours and images where the data
// says, captions draw when the font is there, and bad input is refused by name.
#include "testing.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "sde/core/errors.hpp"
#include "sde/io/image.hpp"
#include "sde/io/plots.hpp"

namespace {

using sde::testing::temp_file;

bool is_white(sde::Rgb c) { return c == sde::colors::kWhite; }

int pixels_of_color(const sde::Image& image, sde::Rgb c) {
  int count = 0;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) count += image.pixel(x, y) == c;
  return count;
}

constexpr sde::Rgb kFirstPalette{31, 119, 180}, kThirdPalette{44, 160, 44};

}  // namespace

TEST_CASE("PNG files round-trip bit for bit and bad files are refused by name") {
  sde::Image image(7, 5);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x) image.set(x, y, {uint8_t(30 * x), uint8_t(50 * y), uint8_t(x * y)});
  const std::string path = temp_file("round.png");
  sde::save_png(path, image);
  const sde::Image back = sde::load_png(path);
  REQUIRE(back.width() == 7);
  REQUIRE(back.height() == 5);
  CHECK(back.bytes() == image.bytes());

  CHECK_THROWS_WITH_AS(sde::load_png(temp_file("missing.png")), doctest::Contains("missing.png"), sde::FileError);
  std::ofstream(temp_file("bad.png")) << "not a png";
  CHECK_THROWS_WITH_AS(sde::load_png(temp_file("bad.png")), doctest::Contains("not a readable PNG"), sde::FileError);
  CHECK_THROWS_AS(sde::save_png("/nonexistent-dir/x.png", image), sde::FileError);
  CHECK_THROWS_AS(sde::Image(0, 4), sde::InvalidArgument);
}

TEST_CASE("a scatter plot puts each point at its pixel and the density's contours around its mode") {
  // Two points at known places in the range [0, 1]^2 on a 100-pixel plot.
  sde::ScatterOptions options;
  options.size = 100;
  options.range = sde::PlotRange{0, 1, 0, 1};
  const auto points = torch::tensor({{0.255, 0.755}, {0.905, 0.105}}, torch::kFloat64);
  const sde::Image plot = sde::scatter_plot(points, options);
  // x = 0.255 -> column 25; y = 0.755 -> row (1 - 0.755) * 100 = 24.5 -> 24.
  CHECK_FALSE(is_white(plot.pixel(25, 24)));
  CHECK_FALSE(is_white(plot.pixel(90, 89)));
  CHECK(is_white(plot.pixel(50, 50)));
  CHECK(plot.pixel(0, 50) == sde::colors::kGrey);  // the frame

  // A standard Gaussian centred at (0.5, 0.5) with std 0.1: the 1-sigma contour (log p 0.5 below
  // the top) is the circle of radius 0.1, i.e. 10 pixels from the centre.
  options.log_density = [](double x, double y) { return -0.5 * ((x - 0.5) * (x - 0.5) + (y - 0.5) * (y - 0.5)) / 0.01; };
  const sde::Image contours = sde::scatter_plot(points, options);
  int on_circle = 0, off_circle = 0;
  for (int j = 1; j < 99; ++j)
    for (int i = 1; i < 99; ++i) {
      if (is_white(contours.pixel(i, j)) || (i == 25 || i == 26) || (i == 90 || i == 91)) continue;
      const double r = std::hypot(i + 0.5 - 50, j + 0.5 - 50);
      const bool near = std::abs(r - 10) < 1.5 || std::abs(r - 20) < 1.5 || std::abs(r - 30) < 1.5;  // 1, 2, 3 sigma
      (near ? on_circle : off_circle)++;
    }
  CHECK(on_circle > 3 * 2 * 3.14 * 10);  // about 2 pi r pixels per circle, three circles
  CHECK(off_circle == 0);

  CHECK_THROWS_WITH_AS(sde::scatter_plot(torch::zeros({4, 3})), doctest::Contains("[N, 2]"), sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::scatter_plot(torch::full({2, 2}, NAN)), doctest::Contains("NaN"), sde::InvalidArgument);
}

TEST_CASE("an image grid maps [low, high] to 0..255 and lays images out in rows") {
  // Three 2x2 grey images with values -1, 0 and 1, two columns, pad 1, scale 2.
  const auto images = torch::stack({torch::full({1, 2, 2}, -1.0), torch::zeros({1, 2, 2}), torch::ones({1, 2, 2})});
  const sde::Image grid = sde::image_grid(images, 2, -1, 1, 2, 1);
  CHECK(grid.width() == 1 + 2 * (4 + 1));
  CHECK(grid.height() == 1 + 2 * (4 + 1));
  CHECK(grid.pixel(1, 1) == sde::Rgb{0, 0, 0});
  CHECK(grid.pixel(6, 4) == sde::Rgb{128, 128, 128});  // 127.5 rounds to 128
  CHECK(grid.pixel(1, 6) == sde::Rgb{255, 255, 255});
  CHECK(grid.pixel(0, 0) == sde::colors::kWhite);      // padding
  CHECK_THROWS_WITH_AS(sde::image_grid(torch::zeros({2, 2, 4, 4}), 2), doctest::Contains("C 1 or 3"),
                       sde::InvalidArgument);
}

TEST_CASE("captions and titles are drawn in the font when it is installed") {
  if (!sde::Image::font_available()) {
    MESSAGE("skipped: " << sde::kDefaultFontPath << " missing (Debian package fonts-dejavu-core)");
    return;
  }
  sde::Image image(80, 20);
  CHECK(image.draw_text("NFE 42", 2, 2, 14, sde::colors::kBlack));
  int inked = 0;
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 80; ++x) inked += !is_white(image.pixel(x, y));
  CHECK(inked > 40);
  CHECK(sde::Image::text_width("NFE 42", 14) > sde::Image::text_width("NFE", 14));

  const sde::Image panel(30, 30, sde::colors::kBlack);
  const sde::Image g = sde::gallery({{panel, "a"}, {panel, "b"}, {panel, "c"}}, 2, "title");
  CHECK(g.width() >= 2 * 30);
  CHECK(g.height() >= 2 * 30);
}

TEST_CASE("a log-log plot puts a power law on a straight line and refuses series it cannot draw") {
  // y = 10 / x from x = 1 to 100: on log-log axes a line from the top-left to the bottom-right of its
  // decades, drawn in the first palette colour; the dashed reference line lies at y = 0.5.
  sde::Series series{"solver", {1, 10, 100}, {10, 1, 0.1}};
  sde::LinePlotOptions options;
  options.reference = 0.5;
  options.reference_label = "floor";
  const sde::Image image = sde::log_log_plot({series}, options);
  CHECK(image.width() > 200);
  const int coloured = pixels_of_color(image, kFirstPalette);
  CHECK(coloured > 100);
  // A series' own palette index overrides its position: the same curve as index 2 is green.
  sde::Series green = series;
  green.color = 2;
  const sde::Image recoloured = sde::log_log_plot({green}, options);
  CHECK(pixels_of_color(recoloured, kFirstPalette) == 0);
  CHECK(pixels_of_color(recoloured, kThirdPalette) == coloured);
  // Non-positive points are left out; a series with none usable everywhere is refused.
  CHECK_NOTHROW(sde::log_log_plot({series, {"broken", {1, 2}, {0, -1}}}));
  CHECK_THROWS_WITH_AS(sde::log_log_plot({{"none", {0}, {1}}}), doctest::Contains("no series has a point"),
                       sde::InvalidArgument);
  CHECK_THROWS_WITH_AS(sde::log_log_plot({{"odd", {1, 2}, {1}}}), doctest::Contains("has 2 x but 1 y"),
                       sde::InvalidArgument);
}
