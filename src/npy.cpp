#include "sde/npy.hpp"

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "sde/atomic_file.hpp"
#include "sde/errors.hpp"

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

}  // namespace

void save_npy(const std::string& path, const torch::Tensor& tensor) {
  const char* descr = nullptr;
  for (const auto& code : kCodes)
    if (tensor.scalar_type() == code.dtype) descr = code.descr;
  SDE_CHECK(descr != nullptr, "save_npy('", path, "'): dtype ", tensor.scalar_type(),
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
  bytes.append(static_cast<const char*>(data.data_ptr()), data.numel() * data.element_size());
  write_file_atomic(path, bytes);
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
  if (bytes.size() < offset + header_len) throw fail("truncated header");
  const std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'"))) throw fail("no 'descr'");
  const std::string descr = m[1];
  if (std::regex_search(header, m, std::regex("'fortran_order':\\s*True")))
    throw fail("Fortran order is not supported; save with np.ascontiguousarray");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) throw fail("no 'shape'");
  std::vector<int64_t> shape;
  std::stringstream dims(m[1].str());
  for (std::string item; std::getline(dims, item, ',');) {
    if (item.find_first_not_of(" ") == std::string::npos) continue;
    shape.push_back(std::stoll(item));
  }
  const DtypeCode* code = nullptr;
  for (const auto& c : kCodes)
    if (descr == c.descr) code = &c;
  if (code == nullptr)
    throw fail(detail::concat("dtype '", descr, "' is not supported (use <f4, <f8, <i4 or <i8)"));
  auto tensor = torch::empty(shape, code->dtype);
  const size_t need = size_t(tensor.numel()) * tensor.element_size();
  const size_t data_offset = offset + header_len;
  if (bytes.size() != data_offset + need)
    throw fail(detail::concat("expected ", need, " data bytes for shape ", tensor.sizes(), ", found ",
                              bytes.size() - data_offset));
  std::memcpy(tensor.data_ptr(), bytes.data() + data_offset, need);
  return tensor;
}

}  // namespace sde
