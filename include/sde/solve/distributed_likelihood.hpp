// Likelihoods split over the ranks of a process group, equal to one process.
#pragma once

#include "sde/distributed/process_group.hpp"
#include "sde/solve/likelihood.hpp"

namespace sde {

/// log p of every point of x (all of it, on every rank) across `group`: rank r integrates its
/// contiguous shard of the points and rank 0 gathers log_p, prior_log_p, latent and std_error in
/// point order. The result equals log_likelihood(sde, model, x, o) in one process:
///  * batch_size B > 0: the shards are whole batches of B, each integrated as one process would
///    (bit for bit where the network computes a row independently of the others in its call);
///  * B = 0: every error norm passes through the group's maximum, so each rank takes the steps of
///    the whole set (needs as many points as ranks; a failure is then not narrowed down).
/// Every rank gets nfe as the largest over the ranks. Failures list the points (indices into x)
/// that failed on rank 0's shard; others are NaN in the gathered log_p, their reasons on their
/// rank's result. The status fails only where every point failed.
LikelihoodResult log_likelihood_distributed(const Sde& sde, const ScoreModel& model, const torch::Tensor& x,
                                            LikelihoodOptions o, const ProcessGroup& group);

}  // namespace sde
