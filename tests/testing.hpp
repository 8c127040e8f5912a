// Include this first in every test file: LibTorch's c10 logging header defines its own CHECK
// macro, so doctest must come after it for CHECK to mean doctest's assertion.
#pragma once

#include <torch/types.h>

#include <doctest/doctest.h>
