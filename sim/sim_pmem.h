// Simulated persistent memory. A mapped region is a plain buffer the node stores into; beside it
// the store keeps the persisted image. Persist/Flush+Drain copy the covered cache lines into the
// image. When the node crashes, every cache line whose contents differ from the image is resolved
// independently: kept (it happened to be evicted to the media), lost, or torn at 8-byte words
// (the x86 atomicity unit for aligned stores). The image is what the next MapPmem sees.
// Flush without Drain is modelled as already persistent at flush time: a simplification that can
// only hide a missing Drain, never report a false failure.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/random.h"

namespace tierkv::sim {

struct SimPmemImage {
  std::vector<std::byte> persisted;
  std::byte* live = nullptr;  // the mapped buffer while a region is mapped
};

class SimPmemStore {
 public:
  // Maps `path`: a region whose contents start as the persisted image.
  Result<std::unique_ptr<PmemRegion>> Map(const std::string& path, uint64_t size);
  // Power loss: resolves unpersisted lines of every mapped region into the images.
  void Crash(Prng& prng);

 private:
  std::map<std::string, std::shared_ptr<SimPmemImage>> images_;
};

}  // namespace tierkv::sim
