#include "sde/io/image.hpp"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include <stb/stb_truetype.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>

#include "sde/core/atomic_file.hpp"
#include "sde/core/errors.hpp"

namespace sde {
namespace {

/// The font file's bytes and stb_truetype's view of them, loaded on first use; nullptr when the
/// font is not installed.
struct Font {
  std::vector<unsigned char> data;
  stbtt_fontinfo info{};
};

const Font* font() {
  static const std::unique_ptr<Font> loaded = []() -> std::unique_ptr<Font> {
    std::ifstream in(kDefaultFontPath, std::ios::binary);
    if (!in) return nullptr;
    auto f = std::make_unique<Font>();
    f->data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!stbtt_InitFont(&f->info, f->data.data(), stbtt_GetFontOffsetForIndex(f->data.data(), 0))) return nullptr;
    return f;
  }();
  return loaded.get();
}

/// UTF-8 to code points; a malformed byte becomes '?' (captions are ours, this is a safety net).
std::vector<int> code_points(const std::string& text) {
  std::vector<int> out;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (extra < 0 || (extra > 0 && i + extra >= text.size())) {
      out.push_back('?');
      ++i;
      continue;
    }
    int cp = extra == 0 ? c : c & (0x3f >> extra);
    for (int k = 1; k <= extra; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

/// Walks the glyphs of `text`: calls visit(code point, pen x, scale) and returns the advance.
template <class Visit>
int layout(const Font& f, const std::string& text, double pixel_height, Visit&& visit) {
  const float scale = stbtt_ScaleForPixelHeight(&f.info, static_cast<float>(pixel_height));
  float pen = 0;
  int previous = 0;
  for (int cp : code_points(text)) {
    if (previous) pen += scale * stbtt_GetCodepointKernAdvance(&f.info, previous, cp);
    visit(cp, pen, scale);
    int advance = 0, bearing = 0;
    stbtt_GetCodepointHMetrics(&f.info, cp, &advance, &bearing);
    pen += scale * advance;
    previous = cp;
  }
  return static_cast<int>(std::ceil(pen));
}

void png_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

}  // namespace

Image::Image(int width, int height, Rgb background) : width_(width), height_(height) {
  SDE_CHECK(width > 0 && height > 0 && width <= 16384 && height <= 16384, "Image: size ", width, " x ", height,
            " is outside 1..16384 pixels per side");
  bytes_.resize(size_t(width) * size_t(height) * 3);
  for (size_t i = 0; i < bytes_.size(); i += 3) {
    bytes_[i] = background.r;
    bytes_[i + 1] = background.g;
    bytes_[i + 2] = background.b;
  }
}

Rgb Image::pixel(int x, int y) const {
  SDE_CHECK(x >= 0 && y >= 0 && x < width_ && y < height_, "Image::pixel: (", x, ", ", y, ") is outside ", width_,
            " x ", height_);
  const uint8_t* p = &bytes_[(size_t(y) * width_ + x) * 3];
  return {p[0], p[1], p[2]};
}

void Image::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  uint8_t* p = &bytes_[(size_t(y) * width_ + x) * 3];
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

void Image::blend(int x, int y, Rgb c, double alpha) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  alpha = std::clamp(alpha, 0.0, 1.0);
  uint8_t* p = &bytes_[(size_t(y) * width_ + x) * 3];
  const uint8_t src[3] = {c.r, c.g, c.b};
  for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>(std::lround(p[k] + alpha * (src[k] - p[k])));
}

void Image::fill_rect(int x, int y, int w, int h, Rgb c) {
  for (int j = std::max(y, 0); j < std::min(y + h, height_); ++j)
    for (int i = std::max(x, 0); i < std::min(x + w, width_); ++i) set(i, j, c);
}

void Image::frame_rect(int x, int y, int w, int h, Rgb c) {
  fill_rect(x, y, w, 1, c);
  fill_rect(x, y + h - 1, w, 1, c);
  fill_rect(x, y, 1, h, c);
  fill_rect(x + w - 1, y, 1, h, c);
}

void Image::paste(const Image& src, int x, int y) {
  for (int j = 0; j < src.height(); ++j)
    for (int i = 0; i < src.width(); ++i) set(x + i, y + j, src.pixel(i, j));
}

bool Image::font_available() { return font() != nullptr; }

int Image::text_width(const std::string& text, double pixel_height) {
  const Font* f = font();
  return f ? layout(*f, text, pixel_height, [](int, float, float) {}) : 0;
}

bool Image::draw_text(const std::string& text, int x, int y, double pixel_height, Rgb c) {
  const Font* f = font();
  if (!f) return false;
  int ascent = 0, descent = 0, gap = 0;
  stbtt_GetFontVMetrics(&f->info, &ascent, &descent, &gap);
  layout(*f, text, pixel_height, [&](int cp, float pen, float scale) {
    const int baseline = y + static_cast<int>(std::lround(ascent * scale));
    int w = 0, h = 0, dx = 0, dy = 0;
    unsigned char* glyph = stbtt_GetCodepointBitmap(&f->info, scale, scale, cp, &w, &h, &dx, &dy);
    const int left = x + static_cast<int>(std::lround(pen)) + dx;
    for (int j = 0; j < h; ++j)
      for (int i = 0; i < w; ++i) blend(left + i, baseline + dy + j, c, glyph[j * w + i] / 255.0);
    stbtt_FreeBitmap(glyph, nullptr);
  });
  return true;
}

void save_png(const std::string& path, const Image& image) { write_file_atomic(path, png_bytes(image)); }

std::string png_bytes(const Image& image) {
  std::string bytes;
  const int ok = stbi_write_png_to_func(png_bytes, &bytes, image.width(), image.height(), 3, image.bytes().data(),
                                        image.width() * 3);
  if (!ok) throw FileError(detail::concat("save_png: could not encode a ", image.width(), " x ", image.height(), " image"));
  return bytes;
}

Image load_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(detail::concat("load_png: cannot open ", path, " (check the path)"));
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int w = 0, h = 0, channels = 0;
  unsigned char* data = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()),
                                              static_cast<int>(bytes.size()), &w, &h, &channels, 3);
  if (!data) throw FileError(detail::concat("load_png: ", path, " is not a readable PNG (", stbi_failure_reason(), ")"));
  Image image(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const unsigned char* p = data + (size_t(y) * w + x) * 3;
      image.set(x, y, {p[0], p[1], p[2]});
    }
  stbi_image_free(data);
  return image;
}

}  // namespace sde
