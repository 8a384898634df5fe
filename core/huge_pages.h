// Memory for big tables probed at random (the memtable's hash index and arena, the row cache's
// slots): 2 MiB-aligned and advised for transparent huge pages.
//
// Why: a pipelined SET touches a memtable slot, a key record and a row cache slot at random
// addresses in tables of many megabytes. With 4 KiB pages nearly each touch is a TLB miss, and
// in a VM a miss is a two-dimensional page walk (guest and host tables). A SET -P 16 profile
// showed the memtable's software prefetches themselves stalling on those walks; backing the
// tables with huge pages (glibc's hugetlb tunable as the experiment) cut the server's CPU per
// SET by 12%. Seastar and Dragonfly back their memory with huge pages for the same reason.
//
// A hint, not a seam: madvise changes no behaviour (where THP is off, or the kernel has no
// huge page free, the memory is ordinary), so the simulator runs the same code. Below
// kHugePageBytes an allocation is plain operator new: a huge page would be mostly unused.
#pragma once

#include <cstddef>

namespace tierkv {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// `bytes` of memory aligned to 64 bytes at least; at kHugePageBytes or more, a whole number of
// huge pages, aligned to one and advised MADV_HUGEPAGE. Throws std::bad_alloc like new.
void* AllocateHuge(size_t bytes);
// Frees what AllocateHuge(bytes) returned (the same `bytes`).
void FreeHuge(void* memory, size_t bytes);

// An allocator for containers of such tables (std::vector<Slot, HugePageAllocator<Slot>>).
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator
  T* allocate(size_t n) { return static_cast<T*>(AllocateHuge(n * sizeof(T))); }
  void deallocate(T* memory, size_t n) { FreeHuge(memory, n * sizeof(T)); }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
};

}  // namespace tierkv
