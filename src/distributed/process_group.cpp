#include "sde/distributed/process_group.hpp"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "sde/core/errors.hpp"

namespace sde {
namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

int env_int(const char* name, const char* value) {
  try {
    size_t used = 0;
    const int n = std::stoi(value, &used);
    if (used == std::string(value).size()) return n;
  } catch (const std::exception&) {
  }
  throw InvalidArgument(detail::concat("environment variable ", name, " = '", value, "' is not an integer"));
}

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// The first line of a c10 error: the rest is its C++ stack.
std::string first_line(const std::exception& e) {
  const std::string text = e.what();
  return text.substr(0, std::min<size_t>(text.find('\n'), 300));
}

bool is_loopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0;
}

}  // namespace

ProcessGroupOptions ProcessGroupOptions::from_environment() {
  ProcessGroupOptions o;
  const char* rank = env("RANK");
  const char* world = env("WORLD_SIZE");
  if (!rank || !world) {  // not torchrun's convention: mpirun's, or one process
    rank = env("OMPI_COMM_WORLD_RANK");
    world = env("OMPI_COMM_WORLD_SIZE");
  }
  if (rank && world) {
    o.rank = env_int("RANK", rank);
    o.world_size = env_int("WORLD_SIZE", world);
  }
  if (const char* addr = env("MASTER_ADDR")) o.master_addr = addr;
  if (const char* port = env("MASTER_PORT")) o.master_port = env_int("MASTER_PORT", port);
  if (const char* timeout = env("SCORESDE_DIST_TIMEOUT")) {
    try {
      o.timeout_seconds = std::stod(timeout);
    } catch (const std::exception&) {
      throw InvalidArgument(detail::concat("SCORESDE_DIST_TIMEOUT = '", timeout, "' is not a number of seconds"));
    }
  }
  o.validate();
  return o;
}

void ProcessGroupOptions::validate() const {
  SDE_CHECK(world_size >= 1, "world size ", world_size, " must be >= 1");
  SDE_CHECK(rank >= 0 && rank < world_size, "rank ", rank, " must lie in [0, ", world_size, ")");
  SDE_CHECK(master_port > 0 && master_port < 65536, "MASTER_PORT ", master_port, " is not a TCP port");
  SDE_CHECK(!master_addr.empty(), "MASTER_ADDR is empty");
  SDE_CHECK(std::isfinite(timeout_seconds) && timeout_seconds > 0, "the process-group timeout ", timeout_seconds,
            " s must be > 0");
}

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

ProcessGroup::ProcessGroup(const ProcessGroupOptions& options) : options_(options) {
  options_.validate();
  if (options_.world_size == 1) return;
  const std::string where = detail::concat(options_.master_addr, ":", options_.master_port);
  try {
    c10d::TCPStoreOptions store;
    store.port = static_cast<uint16_t>(options_.master_port);
    store.isServer = options_.rank == 0;
    store.numWorkers = options_.world_size;
    store.waitWorkers = true;
    store.timeout = milliseconds(options_.timeout_seconds);
    impl_ = std::make_unique<Impl>();
    impl_->store = c10::make_intrusive<c10d::TCPStore>(options_.master_addr, store);
    auto gloo = c10d::ProcessGroupGloo::Options::create(milliseconds(options_.timeout_seconds));
    // Loopback rendezvous: every rank on this machine talks over 127.0.0.1. Otherwise Gloo's
    // default device (the interface of this host's name), or GLOO_SOCKET_IFNAME's.
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (is_loopback(options_.master_addr))
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, options_.rank, options_.world_size, gloo);
  } catch (const std::exception& e) {
    throw DistributedError(detail::concat("rank ", options_.rank, " of ", options_.world_size,
                                          " could not join the process group at ", where, " within ",
                                          options_.timeout_seconds, " s (are all ", options_.world_size,
                                          " ranks started, with the same MASTER_ADDR and MASTER_PORT?): ",
                                          first_line(e)));
  }
}

ProcessGroup::~ProcessGroup() = default;

namespace {

// Runs one collective and waits for it; a peer's failure or a timeout becomes a DistributedError.
template <class Start>
void run(const ProcessGroupOptions& o, const char* what, Start&& start) {
  try {
    start()->wait();
  } catch (const std::exception& e) {
    throw DistributedError(detail::concat("rank ", o.rank, " of ", o.world_size, ": ", what,
                                          " failed (another rank died or did not arrive within ", o.timeout_seconds,
                                          " s): ", first_line(e)));
  }
}

}  // namespace

double ProcessGroup::max(double local) const {
  if (!impl_) return local;
  std::vector<at::Tensor> value = {torch::full({1}, local, torch::kFloat64)};
  run(options_, "max", [&] { return impl_->group->allreduce(value, c10d::AllreduceOptions{c10d::ReduceOp::MAX}); });
  return value[0].item<double>();
}

double ProcessGroup::sum(double local) const {
  if (!impl_) return local;
  std::vector<at::Tensor> value = {torch::full({1}, local, torch::kFloat64)};
  run(options_, "sum", [&] { return impl_->group->allreduce(value); });
  return value[0].item<double>();
}

void ProcessGroup::average(std::vector<torch::Tensor>& tensors) const {
  if (!impl_ || tensors.empty()) return;
  std::vector<at::Tensor> flat_parts;
  for (const auto& t : tensors) flat_parts.push_back(t.detach().reshape({-1}));
  std::vector<at::Tensor> flat = {at::cat(flat_parts)};
  run(options_, "average", [&] { return impl_->group->allreduce(flat); });
  flat[0].div_(options_.world_size);
  int64_t offset = 0;
  for (auto& t : tensors) {
    const int64_t n = t.numel();
    t.detach().copy_(flat[0].narrow(0, offset, n).view_as(t));
    offset += n;
  }
}

torch::Tensor ProcessGroup::gather_rows(const torch::Tensor& rows, const std::vector<int64_t>& counts) const {
  SDE_CHECK(int(counts.size()) == options_.world_size && counts[options_.rank] == rows.size(0), "gather_rows: rank ",
            options_.rank, " holds ", rows.size(0), " rows but the counts say ",
            counts.size() > size_t(options_.rank) ? counts[options_.rank] : -1);
  if (!impl_) return rows;
  // Gloo gathers tensors of one shape: pad every shard to the longest, trim on rank 0.
  const int64_t longest = *std::max_element(counts.begin(), counts.end());
  std::vector<int64_t> shape = rows.sizes().vec();
  shape[0] = longest;
  std::vector<at::Tensor> input = {at::zeros(shape, rows.options())};
  input[0].narrow(0, 0, rows.size(0)).copy_(rows);
  std::vector<std::vector<at::Tensor>> output;  // Gloo wants none on the other ranks
  if (is_root()) {
    output.resize(1);
    for (int r = 0; r < options_.world_size; ++r) output[0].push_back(at::empty(shape, rows.options()));
  }
  run(options_, "gather", [&] { return impl_->group->gather(output, input, c10d::GatherOptions{}); });
  if (!is_root()) return {};
  std::vector<at::Tensor> parts;
  for (int r = 0; r < options_.world_size; ++r) parts.push_back(output[0][r].narrow(0, 0, counts[r]));
  return at::cat(parts);
}

SampleRange shard_range(int64_t count, int rank, int world, int64_t block) {
  SDE_CHECK(count >= 0 && world >= 1 && rank >= 0 && rank < world && block >= 1, "shard_range: count ", count,
            ", rank ", rank, ", world ", world, ", block ", block, " are not a valid split");
  const int64_t blocks = (count + block - 1) / block, base = blocks / world, extra = blocks % world;
  const int64_t first_block = rank * base + std::min<int64_t>(rank, extra);
  const int64_t my_blocks = base + (rank < extra ? 1 : 0);
  const int64_t first = std::min(count, first_block * block);
  return {first, std::min(count, (first_block + my_blocks) * block) - first};
}

}  // namespace sde
