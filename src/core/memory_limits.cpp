#include "core/memory_limits.hpp"

#include <unistd.h>

#include <limits>

#include "sde/core/errors.hpp"

namespace sde {

uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

void check_fits_in_memory(double bytes, const std::string& what, const std::string& fix) {
  const uint64_t memory = physical_memory_bytes();
  if (memory == 0 || bytes <= double(memory)) return;
  const double gb = 1024.0 * 1024.0 * 1024.0;
  std::ostringstream text;
  text.precision(3);
  text << what << " needs " << bytes / gb << " GB; this machine has " << double(memory) / gb << " GB; " << fix;
  throw InvalidArgument(text.str());
}

bool checked_byte_count(const std::vector<int64_t>& sizes, uint64_t element_bytes, uint64_t& bytes) {
  uint64_t total = element_bytes;
  for (const int64_t n : sizes) {
    if (n < 0 || __builtin_mul_overflow(total, uint64_t(n), &total)) return false;
  }
  if (total > uint64_t(std::numeric_limits<int64_t>::max())) return false;
  bytes = total;
  return true;
}

}  // namespace sde
