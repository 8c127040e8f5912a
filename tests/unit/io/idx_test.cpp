// IDX files: written here (plain and gzip), read back exactly; malformed ones refused by name.
// Fashion-MNIST itself is checked where Debian's dataset-fashion-mnist is installed.
#include "testing.hpp"

#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "sde/core/errors.hpp"
#include "sde/io/idx.hpp"

namespace {

using sde::testing::temp_file;

// An IDX file of unsigned bytes with the given dimensions and data.
std::string idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::string out = {0, 0, 0x08, char(dims.size())};
  for (uint32_t d : dims) out += {char(d >> 24), char(d >> 16), char(d >> 8), char(d)};
  out.append(data.begin(), data.end());
  return out;
}

void write_plain(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size()));
  gzclose(f);
}

}  // namespace

TEST_CASE("IDX files round-trip, plain and gzip-compressed") {
  std::vector<uint8_t> data(2 * 3 * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 11);
  const std::string bytes = idx_bytes({2, 3, 4}, data);
  const std::string plain = temp_file("plain.idx"), zipped = temp_file("zipped.idx.gz");
  write_plain(plain, bytes);
  write_gzip(zipped, bytes);
  for (const auto& path : {plain, zipped}) {
    CAPTURE(path);
    const auto x = sde::load_idx(path);
    CHECK(x.sizes() == torch::IntArrayRef({2, 3, 4}));
    CHECK(bool(x.scalar_type() == torch::kUInt8));
    CHECK(x[1][2][3].item<int>() == int(uint8_t(23 * 11)));
    CHECK(x.flatten()[5].item<int>() == 55);
  }
}

TEST_CASE("malformed IDX files are refused with the reason") {
  const std::string path = temp_file("bad.idx");
  CHECK_THROWS_WITH_AS(sde::load_idx(path), doctest::Contains("cannot open"), sde::FileError);
  write_plain(path, "PK\3\4 not idx");
  CHECK_THROWS_WITH_AS(sde::load_idx(path), doctest::Contains("bad magic number"), sde::FileError);
  write_plain(path, idx_bytes({2, 2}, {1, 2, 3}));
  CHECK_THROWS_WITH_AS(sde::load_idx(path), doctest::Contains("holds 3 bytes of data; its header [2, 2] needs 4"),
                       sde::FileError);
  std::string floats = idx_bytes({1}, {0, 0, 0, 0});
  floats[2] = 0x0D;
  write_plain(path, floats);
  CHECK_THROWS_WITH_AS(sde::load_idx(path), doctest::Contains("element type 0xd"), sde::FileError);
  CHECK_THROWS_WITH_AS(sde::load_fashion_mnist("train", sde::PixelScaling::kUnit, "/nonexistent"),
                       doctest::Contains("apt install dataset-fashion-mnist"), sde::FileError);
  CHECK_THROWS_WITH_AS(sde::load_fashion_mnist("valid", sde::PixelScaling::kUnit), doctest::Contains("train, test"),
                       sde::InvalidArgument);
}

TEST_CASE("Fashion-MNIST loads scaled to [0, 1] or [-1, 1] (needs dataset-fashion-mnist)") {
  if (!std::filesystem::exists(std::string(sde::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: dataset-fashion-mnist is not installed (apt install dataset-fashion-mnist)");
    return;
  }
  const auto unit = sde::load_fashion_mnist("test", sde::PixelScaling::kUnit);
  CHECK(unit.images.sizes() == torch::IntArrayRef({10000, 1, 28, 28}));
  CHECK(unit.labels.sizes() == torch::IntArrayRef({10000}));
  CHECK(unit.images.min().item<double>() == 0.0);
  CHECK(unit.images.max().item<double>() == 1.0);
  CHECK(unit.labels.min().item<int64_t>() == 0);
  CHECK(unit.labels.max().item<int64_t>() == 9);
  // Ten classes of 1000 test images each.
  CHECK(torch::equal(torch::bincount(unit.labels), torch::full({10}, 1000, torch::kLong)));
  const auto symmetric = sde::load_fashion_mnist("test", sde::PixelScaling::kSymmetric);
  CHECK(torch::allclose(symmetric.images, unit.images * 2 - 1));
}
