// Several processes working as one: a process group on c10d's Gloo backend (the engine under
// PyTorch's DistributedDataParallel; a CUDA build of LibTorch offers NCCL the same way), joined
// through a TCP rendezvous in torchrun's convention or under OpenMPI's mpirun.
//
// The header carries no c10d types: the group is used through the few collectives the library
// needs (a maximum, sums and means, gathering rows on rank 0).
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "sde/core/random.hpp"

namespace sde {

struct ProcessGroupOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";  ///< where rank 0 listens for the rendezvous
  int master_port = 29500;
  /// How long to wait for the others at the rendezvous and in any collective before failing with
  /// an error (a rank that died or never started must not hang the rest).
  double timeout_seconds = 120;

  /// From the environment: torchrun's RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, or else
  /// OpenMPI's OMPI_COMM_WORLD_RANK and OMPI_COMM_WORLD_SIZE (mpirun) with MASTER_ADDR/PORT
  /// optional; SCORESDE_DIST_TIMEOUT (seconds) overrides the timeout. Neither set: one process.
  /// Throws sde::InvalidArgument for values that are not numbers or out of range.
  static ProcessGroupOptions from_environment();
  void validate() const;
};

/// A joined process group. With world_size 1 every collective is the identity and nothing is
/// opened. Every collective must be called by all ranks in the same order. Failures (a peer that
/// does not join or dies, a timeout) throw sde::DistributedError naming the rank and the cause.
class ProcessGroup {
 public:
  /// Joins: rank 0 opens the rendezvous at master_addr:master_port, the others connect to it.
  explicit ProcessGroup(const ProcessGroupOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return options_.rank; }
  int world_size() const { return options_.world_size; }
  bool is_root() const { return options_.rank == 0; }

  /// The largest of `local` over the ranks (exact: no rounding).
  double max(double local) const;
  /// The sum of `local` over the ranks.
  double sum(double local) const;
  /// Each tensor replaced by the mean over the ranks of its values (float tensors; one all-reduce
  /// of a flat buffer for the whole list).
  void average(std::vector<torch::Tensor>& tensors) const;
  /// Rank r's `rows` ([counts[r], ...], the same trailing shape and dtype everywhere) stacked in
  /// rank order on rank 0; an undefined tensor on the others.
  torch::Tensor gather_rows(const torch::Tensor& rows, const std::vector<int64_t>& counts) const;

 private:
  struct Impl;
  ProcessGroupOptions options_;
  std::unique_ptr<Impl> impl_;
};

/// Rank `rank`'s contiguous part of the indices [0, count) split over `world` ranks in whole
/// blocks of `block` indices (the last block may be short): blocks are dealt as evenly as
/// possible, lower ranks first. Shards of one block size keep a batch of that size together.
SampleRange shard_range(int64_t count, int rank, int world, int64_t block = 1);

}  // namespace sde
