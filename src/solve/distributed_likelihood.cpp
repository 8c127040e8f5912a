#include "sde/solve/distributed_likelihood.hpp"

#include <limits>
#include <vector>

#include "sde/core/errors.hpp"

namespace sde {

LikelihoodResult log_likelihood_distributed(const Sde& sde, const ScoreModel& model, const torch::Tensor& x,
                                            LikelihoodOptions o, const ProcessGroup& group) {
  const int world = group.world_size();
  const int64_t n = x.size(0);
  const bool batched = o.batch_size > 0;
  if (!batched) {
    SDE_CHECK(n >= world, "likelihood: ", n, " points cannot be split over ", world,
              " processes that share their steps; give fewer processes or a batch size (--batch B)");
    o.ode.global_max = [&group](double local) { return group.max(local); };
  }
  std::vector<int64_t> counts(world);
  for (int r = 0; r < world; ++r) counts[r] = shard_range(n, r, world, batched ? o.batch_size : 1).count;
  const SampleRange mine = shard_range(n, group.rank(), world, batched ? o.batch_size : 1);
  o.first_index += mine.first;
  LikelihoodResult result = log_likelihood(sde, model, x.narrow(0, mine.first, mine.count), o);
  for (PointFailure& f : result.failures) f.index += mine.first;
  if (!result.ok()) {  // every point of the shard failed: NaN rows to gather, as for a single failure
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const auto f64 = x.options().dtype(torch::kFloat64);
    result.log_p = torch::full({mine.count}, nan, f64);
    result.prior_log_p = torch::full({mine.count}, nan, f64);
    if (!result.latent.defined()) result.latent = torch::full_like(x.narrow(0, mine.first, mine.count), nan);
  }
  const bool estimated_error = group.max(result.std_error.defined() ? 1.0 : 0.0) > 0;
  if (estimated_error && !result.std_error.defined())
    result.std_error = torch::full({mine.count}, std::numeric_limits<double>::quiet_NaN(), result.log_p.options());
  const double failed_points = group.sum(double(result.failures.size()));
  result.nfe = static_cast<int64_t>(group.max(double(result.nfe)));
  if (world > 1) {
    result.log_p = group.gather_rows(result.log_p.contiguous(), counts);
    result.prior_log_p = group.gather_rows(result.prior_log_p.contiguous(), counts);
    result.latent = group.gather_rows(result.latent.contiguous(), counts);
    if (estimated_error) result.std_error = group.gather_rows(result.std_error.contiguous(), counts);
  }
  if (failed_points == double(n)) {
    result.status = SolveStatus::kNonFinite;
    if (result.message.empty()) result.message = "likelihood: every point failed (each rank's result says why)";
  } else {
    result.status = SolveStatus::kSuccess;
    result.message.clear();
  }
  return result;
}

}  // namespace sde
