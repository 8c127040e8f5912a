#include "sde/solve/distributed_sampling.hpp"

#include <vector>

#include "sde/core/errors.hpp"

namespace sde {

SampleResult sample_distributed(const Sampler& sampler, const Sde& sde, const ScoreModel& model, SampleRequest request,
                                const ProcessGroup& group) {
  request.validate();
  const int world = group.world_size();
  const int64_t count = request.sample_count(), batch = request.batch_size;
  const bool batched = batch > 0;
  if (!batched) {
    request.global_max = [&group](double local) { return group.max(local); };
    SDE_CHECK(sampler.batch_coupling() != BatchCoupling::kStatistics, "solver '", sampler.name(),
              "' uses batch means (batch-mean Langevin steps), so one batch cannot be split over ", world,
              " processes; give a batch size (--batch B): each rank then computes whole batches");
    SDE_CHECK(sampler.batch_coupling() != BatchCoupling::kStepControl || count >= world, "solver '", sampler.name(),
              "' shares its steps across the batch, so each of the ", world, " ranks needs a sample; count ", count,
              " is smaller");
  }
  std::vector<int64_t> counts(world);
  for (int r = 0; r < world; ++r) counts[r] = shard_range(count, r, world, batched ? batch : 1).count;
  const SampleRange mine = shard_range(count, group.rank(), world, batched ? batch : 1);
  SampleRequest shard = request;
  shard.first = request.first + mine.first;
  shard.count = mine.count;
  if (request.latents.defined()) shard.latents = request.latents.narrow(0, mine.first, mine.count);
  SampleResult result = sampler.sample(sde, model, shard);

  // Every rank learns whether any failed before the gather, so that none waits for rows that
  // will not come. The sum of 2^rank over the failed ranks names them.
  const double failed = group.sum(result.ok() ? 0.0 : double(int64_t(1) << std::min(group.rank(), 52)));
  result.nfe = static_cast<int64_t>(group.max(double(result.nfe)));
  result.nfe_mean = count > 0 ? group.sum(result.nfe_mean * double(mine.count)) / double(count) : 0.0;
  if (failed > 0) {
    if (result.ok()) {
      std::string ranks;
      for (int r = 0; r < world && r < 53; ++r)
        if (int64_t(failed) >> r & 1) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
      result.status = SolveStatus::kNonFinite;
      result.message = "sampling failed on rank(s) " + ranks + " (their own messages say where)";
    }
    return result;
  }
  if (world > 1) result.samples = group.gather_rows(result.samples.contiguous(), counts);
  if (!group.is_root()) result.samples = torch::Tensor();
  return result;
}

}  // namespace sde
