#include "sde/io/npy.hpp"

#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include "sde/core/atomic_file.hpp"
#include "sde/core/errors.hpp"
#include "core/memory_limits.hpp"

namespace sde {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

struct DtypeCode {
  torch::Dtype dtype;
  const char* descr;
};
constexpr DtypeCode kCodes[] = {{torch::kFloat32, "<f4"},
                                {torch::kFloat64, "<f8"},
                                {torch::kInt32, "<i4"},
                                {torch::kInt64, "<i8"}};


struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// The header is a Python dict literal, {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }.
// A small scanner without recursion or backtracking: any header, however long, is read in one
// pass (std::regex recursed per character and overflowed the stack on long fields).
template <class Fail>
NpyHeader parse_header(std::string_view text, const Fail& fail) {
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
  };
  auto expect = [&](char c, const char* where) {
    skip();
    if (i >= text.size() || text[i] != c)
      throw fail(detail::concat("header: expected '", c, "' ", where, " at character ", i));
    ++i;
  };
  auto quoted = [&](const char* where) {
    skip();
    if (i >= text.size() || (text[i] != '\'' && text[i] != '"'))
      throw fail(detail::concat("header: expected a quoted string ", where, " at character ", i));
    const char quote = text[i++];
    const size_t end = text.find(quote, i);
    if (end == std::string_view::npos) throw fail("header: unterminated string");
    const std::string_view value = text.substr(i, end - i);
    i = end + 1;
    if (value.size() > 64) throw fail(detail::concat("header: a ", value.size(), "-character string ", where));
    return std::string(value);
  };
  NpyHeader header;
  bool has_descr = false, has_shape = false;
  expect('{', "to open the header");
  for (;;) {
    skip();
    if (i < text.size() && text[i] == '}') break;
    const std::string key = quoted("as a key");
    expect(':', "after a key");
    skip();
    if (key == "descr") {
      header.descr = quoted("as 'descr'");
      has_descr = true;
    } else if (key == "fortran_order") {
      if (text.compare(i, 4, "True") == 0) {
        header.fortran_order = true;
        i += 4;
      } else if (text.compare(i, 5, "False") == 0) {
        i += 5;
      } else {
        throw fail("header: 'fortran_order' is neither True nor False");
      }
    } else if (key == "shape") {
      expect('(', "to open 'shape'");
      for (;;) {
        skip();
        if (i < text.size() && text[i] == ')') break;
        const size_t first = i;
        int64_t n = 0;
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
          if (__builtin_mul_overflow(n, int64_t(10), &n) || __builtin_add_overflow(n, int64_t(text[i] - '0'), &n))
            throw fail("header: a 'shape' entry overflows 64 bits");
        if (i == first) throw fail(detail::concat("header: 'shape' entry at character ", i, " is not a non-negative integer"));
        header.shape.push_back(n);
        if (header.shape.size() > 64) throw fail("header: 'shape' has more than 64 dimensions");
        skip();
        if (i < text.size() && text[i] == ',') ++i;
        else if (i >= text.size() || text[i] != ')') throw fail("header: 'shape' is not a tuple of integers");
      }
      ++i;
      has_shape = true;
    } else {
      throw fail(detail::concat("header: unknown key '", key, "'"));
    }
    skip();
    if (i < text.size() && text[i] == ',') ++i;
    else if (i >= text.size() || text[i] != '}') throw fail("header: expected ',' or '}' after a value");
  }
  if (!has_descr) throw fail("no 'descr'");
  if (!has_shape) throw fail("no 'shape'");
  return header;
}

}  // namespace

void save_npy(const std::string& path, const torch::Tensor& tensor) { write_file_atomic(path, npy_bytes(tensor)); }

std::string npy_bytes(const torch::Tensor& tensor) {
  const char* descr = nullptr;
  for (const auto& code : kCodes)
    if (tensor.scalar_type() == code.dtype) descr = code.descr;
  SDE_CHECK(descr != nullptr, "save_npy: dtype ", tensor.scalar_type(),
            " is not supported; convert to float32, float64, int32 or int64");
  std::ostringstream shape;
  shape << "(";
  for (int64_t s : tensor.sizes()) shape << s << ", ";
  std::string shape_text = shape.str();
  if (tensor.dim() > 1) shape_text.resize(shape_text.size() - 2);  // "(n, d)"; 1-D keeps "(n,)"
  if (tensor.dim() == 1) shape_text.resize(shape_text.size() - 1);
  shape_text += ")";
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': " + shape_text + ", }";
  // Pad with spaces so that magic (6) + version (2) + length (2) + header is a multiple of 64.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  const auto data = tensor.detach().to(torch::kCPU).contiguous();
  std::string bytes(kMagic, 6);
  bytes += '\x01';
  bytes += '\x00';
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  if (data.numel() > 0)  // a zero-element tensor has no storage to copy from
    bytes.append(static_cast<const char*>(data.data_ptr()), data.numel() * data.element_size());
  return bytes;
}

torch::Tensor load_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(detail::concat("cannot open '", path, "'; check the path"));
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto fail = [&](const std::string& why) {
    return FileError(detail::concat("'", path, "' is not a readable .npy file: ", why));
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) throw fail("bad magic bytes");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = size_t(uint8_t(bytes[8])) | size_t(uint8_t(bytes[9])) << 8;
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw fail("truncated header");
    for (int i = 0; i < 4; ++i) header_len |= size_t(uint8_t(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    throw fail(detail::concat("unsupported format version ", major));
  }
  if (bytes.size() - offset < header_len) throw fail("truncated header");
  const NpyHeader header = parse_header(std::string_view(bytes).substr(offset, header_len), fail);
  const DtypeCode* code = nullptr;
  for (const auto& c : kCodes)
    if (header.descr == c.descr) code = &c;
  if (code == nullptr)
    throw fail(detail::concat("dtype '", header.descr, "' is not supported (use <f4, <f8, <i4 or <i8)"));
  if (header.fortran_order) throw fail("Fortran order is not supported; save with np.ascontiguousarray");
  // The size the header claims is checked against the file before anything is allocated.
  uint64_t need = 0;
  if (!checked_byte_count(header.shape, c10::elementSize(code->dtype), need))
    throw fail(detail::concat("shape ", c10::IntArrayRef(header.shape), " overflows 64-bit sizes"));
  const size_t data_offset = offset + header_len;
  if (bytes.size() - data_offset != need)
    throw fail(detail::concat("expected ", need, " data bytes for shape ", c10::IntArrayRef(header.shape),
                              ", found ", bytes.size() - data_offset));
  auto tensor = torch::empty(header.shape, code->dtype);
  if (need > 0) std::memcpy(tensor.data_ptr(), bytes.data() + data_offset, need);
  return tensor;
}

}  // namespace sde
