// An 8-bit RGB raster with just what the library's pictures need: rectangles, blending, pasting,
// text, and PNG files (written atomically). Plots built on it are in sde/io/plots.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sde {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

namespace colors {
inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr Rgb kBlack{0, 0, 0};
inline constexpr Rgb kGrey{150, 150, 150};
inline constexpr Rgb kRed{200, 30, 30};
inline constexpr Rgb kBlue{25, 70, 160};
}  // namespace colors

/// Where the text of pictures comes from: DejaVu Sans of Debian's fonts-dejavu-core.
inline constexpr const char* kDefaultFontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

class Image {
 public:
  /// Throws sde::InvalidArgument unless 0 < width, height <= 16384.
  Image(int width, int height, Rgb background = colors::kWhite);

  int width() const { return width_; }
  int height() const { return height_; }
  /// Row-major RGB bytes, 3 per pixel.
  const std::vector<uint8_t>& bytes() const { return bytes_; }

  Rgb pixel(int x, int y) const;
  /// Pixels outside the image are ignored (plots draw up to their borders without clipping).
  void set(int x, int y, Rgb c);
  /// c over the pixel with opacity alpha in [0, 1].
  void blend(int x, int y, Rgb c, double alpha);
  void fill_rect(int x, int y, int w, int h, Rgb c);
  /// A one-pixel frame just inside the rectangle.
  void frame_rect(int x, int y, int w, int h, Rgb c);
  /// Copies `src` with its top-left corner at (x, y), clipped to this image.
  void paste(const Image& src, int x, int y);

  /// Draws `text` with its top-left corner at (x, y), `pixel_height` tall, in the font at
  /// kDefaultFontPath. Returns false (drawing nothing) when the font is not installed: pictures
  /// lose their captions, never their data.
  bool draw_text(const std::string& text, int x, int y, double pixel_height, Rgb c);
  /// The width `text` would take, 0 without the font.
  static int text_width(const std::string& text, double pixel_height);
  static bool font_available();

 private:
  int width_, height_;
  std::vector<uint8_t> bytes_;
};

/// Writes `image` as a PNG through a temporary file and a rename. Throws sde::FileError naming
/// the path when it cannot be written.
void save_png(const std::string& path, const Image& image);

/// The PNG bytes save_png writes.
std::string png_bytes(const Image& image);

/// Reads an 8-bit PNG (grey, grey+alpha, RGB or RGBA; alpha dropped). Throws sde::FileError
/// naming the path when it is missing or not a PNG.
Image load_png(const std::string& path);

}  // namespace sde
