// The programs run on the malloc the build chose (CMakeLists.txt, scoresde::allocator): the one
// every library's call resolves to is the first definition in the global lookup order.
#include "testing.hpp"

#include <dlfcn.h>

#include <string>

TEST_CASE("malloc resolves to the allocator the build links") {
  void* malloc_address = dlsym(RTLD_DEFAULT, "malloc");
  REQUIRE(malloc_address != nullptr);
  Dl_info info{};
  REQUIRE(dladdr(malloc_address, &info) != 0);
  const std::string library = info.dli_fname ? info.dli_fname : "";
  CAPTURE(library);
#if defined(__SANITIZE_ADDRESS__)
  CHECK(library.find("libasan") != std::string::npos);  // scripts/test --sanitize: the sanitizer's malloc
#else
  if (std::string(SCORESDE_ALLOCATOR) == "tcmalloc") {
    CHECK(library.find("libtcmalloc") != std::string::npos);
  } else {
    CHECK(library.find("libc.so") != std::string::npos);
  }
#endif
}
