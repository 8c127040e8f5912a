// The process group's pieces that need no second process: shards and the one-process group.
#include "testing.hpp"

#include "sde/distributed/process_group.hpp"
#include "sde/core/errors.hpp"

TEST_CASE("shards cover [0, count) in order, evenly, in whole blocks") {
  for (const int64_t count : {0, 1, 7, 100, 1001}) {
    for (const int world : {1, 2, 3, 8}) {
      for (const int64_t block : {1, 4, 64}) {
        CAPTURE(count);
        CAPTURE(world);
        CAPTURE(block);
        int64_t next = 0, smallest = count, largest = 0;
        for (int r = 0; r < world; ++r) {
          const sde::SampleRange s = sde::shard_range(count, r, world, block);
          CHECK(s.first == next);
          if (s.count > 0 && s.first + s.count < count) CHECK(s.count % block == 0);  // whole blocks but the last
          next += s.count;
          smallest = std::min(smallest, s.count);
          largest = std::max(largest, s.count);
        }
        CHECK(next == count);
        // Block counts differ by at most one, and the last block may be short by up to block - 1.
        CHECK(largest - smallest <= 2 * block - 1);
      }
    }
  }
  CHECK_THROWS_AS(sde::shard_range(10, 2, 2), sde::InvalidArgument);
}

TEST_CASE("a group of one process is the identity and opens nothing") {
  const sde::ProcessGroup group(sde::ProcessGroupOptions{});
  CHECK(group.is_root());
  CHECK(group.max(2.5) == 2.5);
  CHECK(group.sum(2.5) == 2.5);
  std::vector<torch::Tensor> t = {torch::ones({3})};
  group.average(t);
  CHECK(torch::equal(t[0], torch::ones({3})));
  const auto rows = torch::arange(6).reshape({3, 2});
  CHECK(torch::equal(group.gather_rows(rows, {3}), rows));
  sde::ProcessGroupOptions bad;
  bad.rank = 1;
  CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("rank 1 must lie in [0, 1)"), sde::InvalidArgument);
}
