#include "testing.hpp"

#include "random/philox.hpp"
#include "sde/random.hpp"

TEST_CASE("philox4x32-10 known answers (Random123 kat_vectors)") {
  using sde::detail::philox4x32;
  const auto zero = philox4x32({0, 0, 0, 0}, 0, 0);
  CHECK((zero == sde::detail::PhiloxWords{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  const auto pi = philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, 0xa4093822u, 0x299f31d0u);
  CHECK((pi == sde::detail::PhiloxWords{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}
