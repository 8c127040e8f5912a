// Sampling split over the ranks of a process group, equal bit for bit to one process.
#pragma once

#include <string>

#include "sde/distributed/process_group.hpp"
#include "sde/core/sampler.hpp"

namespace sde {

/// Runs `request` (the global indices [first, first + count)) with `sampler` across `group`: every
/// rank samples its shard (sample i is keyed by (seed, i) wherever it is computed) and rank 0
/// gathers them in index order. The result equals `sampler.sample(sde, model, request)` in one
/// process, bit for bit:
///  * batch_size B > 0: the shards are whole batches of B, each computed as one process would;
///  * B = 0, solvers whose adaptive steps are shared by the batch (the ODE solvers): every error
///    norm passes through the group's maximum, so each rank takes the steps of the whole batch
///    (needs count >= world size);
///  * B = 0, solvers that use batch means (pc with --step-size batch-mean): refused; give B.
/// Returns on rank 0 all the samples, elsewhere the rank's own shard. nfe is the largest over the
/// ranks, nfe_mean the mean over all samples; a failure on any rank fails every rank, rank 0's
/// message naming the ranks that failed.
SampleResult sample_distributed(const Sampler& sampler, const Sde& sde, const ScoreModel& model, SampleRequest request,
                                const ProcessGroup& group);

}  // namespace sde
