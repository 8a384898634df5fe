#include "sim/sim_pmem.h"

#include <cstring>

#include "core/assert.h"
#include "core/limits.h"

namespace tierkv::sim {
namespace {

constexpr uint64_t kLine = limits::kPmemCacheLineBytes;

class SimPmemRegion final : public PmemRegion {
 public:
  explicit SimPmemRegion(std::shared_ptr<SimPmemImage> image)
      : image_(std::move(image)), buffer_(image_->persisted) {
    image_->live = buffer_.data();
  }
  ~SimPmemRegion() override {
    // A clean unmap while the process lives: the OS writes the mapping back eventually.
    if (image_->live == buffer_.data()) {
      image_->persisted = buffer_;
      image_->live = nullptr;
    }
  }
  std::byte* data() override { return buffer_.data(); }
  uint64_t size() const override { return buffer_.size(); }
  void Persist(uint64_t offset, uint64_t length) override { Flush(offset, length); }
  void Flush(uint64_t offset, uint64_t length) override {
    TK_ASSERT(offset + length <= buffer_.size());
    if (length == 0) return;
    uint64_t begin = offset / kLine * kLine;
    uint64_t end = std::min<uint64_t>((offset + length + kLine - 1) / kLine * kLine, buffer_.size());
    std::memcpy(image_->persisted.data() + begin, buffer_.data() + begin, end - begin);
  }
  void Drain() override {}
  bool is_pmem() const override { return true; }

 private:
  std::shared_ptr<SimPmemImage> image_;
  std::vector<std::byte> buffer_;
};

}  // namespace

Result<std::unique_ptr<PmemRegion>> SimPmemStore::Map(const std::string& path, uint64_t size) {
  if (size == 0) return Err(StatusCode::kInvalidArgument, "pmem region of size 0: " + path);
  auto& image = images_[path];
  if (!image) {
    image = std::make_shared<SimPmemImage>();
    image->persisted.resize(size);
  } else if (image->persisted.size() != size) {
    return Err(StatusCode::kInvalidArgument, "pmem file " + path + " has size " +
                                                 std::to_string(image->persisted.size()) +
                                                 ", expected " + std::to_string(size));
  }
  if (image->live != nullptr) return Err(StatusCode::kBusy, "pmem file " + path + " already mapped");
  return std::make_unique<SimPmemRegion>(image);
}

void SimPmemStore::Crash(Prng& prng) {
  for (auto& [path, image] : images_) {
    if (image->live == nullptr) continue;
    std::byte* live = image->live;
    std::byte* persisted = image->persisted.data();
    uint64_t size = image->persisted.size();
    for (uint64_t line = 0; line < size; line += kLine) {
      uint64_t n = std::min<uint64_t>(kLine, size - line);
      if (std::memcmp(live + line, persisted + line, n) == 0) continue;
      uint64_t choice = prng.Uniform(3);
      if (choice == 0) {
        std::memcpy(persisted + line, live + line, n);  // kept
      } else if (choice == 2) {
        for (uint64_t word = 0; word < n; word += 8) {  // torn
          uint64_t w = std::min<uint64_t>(8, n - word);
          if (prng.Chance(0.5)) std::memcpy(persisted + line + word, live + line + word, w);
        }
      }  // else lost
    }
    image->live = nullptr;  // the region object dies with the node and must not write back
  }
}

}  // namespace tierkv::sim
