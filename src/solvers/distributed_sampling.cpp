#include "sde/solvers/distributed_sampling.hpp"

#include <vector>

#include "sde/errors.hpp"
#include "sde/solvers/registry.hpp"

namespace sde {

SampleResult sample_distributed(const std::string& solver, SamplerOptions options, const SolverParams& params,
                                const Sde& sde, const ScoreModel& model, int64_t count, const ProcessGroup& group) {
  const int world = group.world_size();
  const bool batched = options.batch_size > 0;
  if (!batched) options.global_max = [&group](double local) { return group.max(local); };
  const auto sampler = make_sampler(solver, options, params);
  if (!batched) {
    SDE_CHECK(sampler->batch_coupling() != BatchCoupling::kStatistics, "solver '", solver,
              "' uses batch means (batch-mean Langevin steps), so one batch cannot be split over ", world,
              " processes; give a batch size (--batch B): each rank then computes whole batches");
    SDE_CHECK(sampler->batch_coupling() != BatchCoupling::kStepControl || count >= world, "solver '", solver,
              "' shares its steps across the batch, so each of the ", world, " ranks needs a sample; count ", count,
              " is smaller");
  }
  std::vector<int64_t> counts(world);
  for (int r = 0; r < world; ++r) counts[r] = shard_range(count, r, world, batched ? options.batch_size : 1).count;
  const SampleRange mine = shard_range(count, group.rank(), world, batched ? options.batch_size : 1);
  SampleResult result = sampler->sample(sde, model, mine.count, mine.first);

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
      result.status = SampleStatus::kNonFinite;
      result.message = "sampling failed on rank(s) " + ranks + " (their own messages say where)";
    }
    return result;
  }
  if (world > 1) result.samples = group.gather_rows(result.samples.contiguous(), counts);
  if (!group.is_root()) result.samples = torch::Tensor();
  return result;
}

}  // namespace sde
