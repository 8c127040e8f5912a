// Checks of sizes before anything is allocated: a request too large for the machine is refused
// with a message that names it, instead of ending the process in std::bad_alloc or the OOM killer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sde {

/// The physical memory of this machine in bytes (0 where the system does not say).
uint64_t physical_memory_bytes();

/// Throws sde::InvalidArgument when `bytes` exceed the physical memory: "`what` needs X GB, this
/// machine has Y GB; `fix`". Does nothing where the memory is unknown.
void check_fits_in_memory(double bytes, const std::string& what, const std::string& fix);

/// The number of elements of `sizes` times `element_bytes`, or false when an entry is negative or
/// the product overflows 63 bits (a header that lies about its sizes).
bool checked_byte_count(const std::vector<int64_t>& sizes, uint64_t element_bytes, uint64_t& bytes);

}  // namespace sde
