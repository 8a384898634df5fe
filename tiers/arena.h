// A bump allocator for a memtable's nodes and strings (LevelDB's Arena, as a std::pmr resource).
// A memtable only grows and is dropped whole, so its many small allocations need no individual
// frees: each is a pointer bump in a fixed-size block, and dropping the memtable frees a few
// hundred blocks instead of millions of nodes (freeing a frozen memtable node by node, with
// glibc's consolidation, was a fifth of the serving thread's time under pipelined writes).
// Fixed blocks (unlike std::pmr::monotonic_buffer_resource's doubling ones) keep the unused tail
// small, so the memtable's byte budget stays honest: bytes() counts whole blocks. Past
// kHugeFrom bytes the blocks are huge pages (core/huge_pages.h: a big memtable's keys are read at
// random, and each 4 KiB page's TLB miss is a page walk); before, a small memtable (a small
// maxmemory's) would waste most of a 2 MiB block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <new>
#include <vector>

#include "core/huge_pages.h"

namespace tierkv::tiers {

class Arena final : public std::pmr::memory_resource {
 public:
  static constexpr size_t kBlockBytes = 256 * 1024;
  static constexpr uint64_t kHugeFrom = 4 * kHugePageBytes;

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() override {
    for (const Block& block : blocks_) FreeHuge(block.memory, block.size);
  }

  // Bytes taken from the system (whole blocks).
  uint64_t bytes() const { return bytes_; }

 private:
  static constexpr size_t kAlign = alignof(std::max_align_t);
  struct Block {
    std::byte* memory;
    size_t size;
  };

  void* do_allocate(size_t bytes, size_t alignment) override {
    const size_t aligned = (used_ + alignment - 1) & ~(alignment - 1);
    if (current_ != nullptr && aligned + bytes <= current_size_) {
      used_ = aligned + bytes;
      return current_ + aligned;
    }
    // A large allocation gets a block of its own; the current block keeps serving small ones.
    if (bytes > kBlockBytes / 4) return NewBlock(bytes);
    current_size_ = bytes_ >= kHugeFrom ? kHugePageBytes : kBlockBytes;
    current_ = NewBlock(current_size_);
    used_ = bytes;
    return current_;
  }
  void do_deallocate(void*, size_t, size_t) override {}  // freed with the arena
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::byte* NewBlock(size_t bytes) {
    const size_t size = (bytes + kAlign - 1) & ~(kAlign - 1);
    auto* memory = static_cast<std::byte*>(AllocateHuge(size));
    blocks_.push_back(Block{memory, size});
    bytes_ += size;
    return memory;
  }

  std::vector<Block> blocks_;
  std::byte* current_ = nullptr;
  size_t current_size_ = 0;
  size_t used_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace tierkv::tiers
