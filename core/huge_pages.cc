#include "core/huge_pages.h"

#include <sys/mman.h>

#include <new>

namespace tierkv {
namespace {

constexpr size_t kSmallAlign = 64;

size_t Rounded(size_t bytes) { return (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1); }

}  // namespace

void* AllocateHuge(size_t bytes) {
  if (bytes < kHugePageBytes) return ::operator new(bytes, std::align_val_t{kSmallAlign});
  const size_t size = Rounded(bytes);
  void* memory = ::operator new(size, std::align_val_t{kHugePageBytes});
  // Before the first touch, so the page faults can take huge pages. Failure leaves ordinary
  // pages (THP compiled out or disabled): nothing to handle.
  (void)madvise(memory, size, MADV_HUGEPAGE);
  return memory;
}

void FreeHuge(void* memory, size_t bytes) {
  if (memory == nullptr) return;
  if (bytes < kHugePageBytes) {
    ::operator delete(memory, std::align_val_t{kSmallAlign});
    return;
  }
  ::operator delete(memory, std::align_val_t{kHugePageBytes});
}

}  // namespace tierkv
