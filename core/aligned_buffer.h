// A heap buffer aligned for direct I/O (limits::kDirectIoAlignment), sized in whole blocks.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "core/assert.h"
#include "core/limits.h"
#include "core/status.h"

namespace tierkv {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // `size` is rounded up to the alignment; contents are zeroed.
  explicit AlignedBuffer(size_t size, size_t alignment = limits::kDirectIoAlignment)
      : size_(RoundUp(size, alignment)) {
    if (size_ == 0) return;
    data_ = static_cast<std::byte*>(std::aligned_alloc(alignment, size_));
    TK_ASSERT_MSG(data_ != nullptr, "out of memory");
    std::memset(data_, 0, size_);
  }
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(AlignedBuffer&& other) noexcept : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
  }
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<std::byte> span() { return {data_, size_}; }
  std::span<const std::byte> span() const { return {data_, size_}; }

  static size_t RoundUp(size_t n, size_t alignment) {
    return (n + alignment - 1) / alignment * alignment;
  }

 private:
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

inline bool IsAligned(uint64_t value, size_t alignment = limits::kDirectIoAlignment) {
  return value % alignment == 0;
}
inline bool IsAligned(const void* pointer, size_t alignment = limits::kDirectIoAlignment) {
  return reinterpret_cast<uintptr_t>(pointer) % alignment == 0;
}

// The direct-I/O rule both Envs enforce, with the same message: offset, buffer address and length
// must be multiples of limits::kDirectIoAlignment.
inline Status CheckDirectIo(const std::string& path, uint64_t offset, const void* data,
                            size_t length) {
  if (IsAligned(offset) && IsAligned(data) && IsAligned(length)) return Status::Ok();
  return Status(StatusCode::kInvalidArgument,
                "direct I/O on " + path + " needs offset, buffer address and length aligned to " +
                    std::to_string(limits::kDirectIoAlignment) + " bytes (offset " +
                    std::to_string(offset) + ", length " + std::to_string(length) + ")");
}

}  // namespace tierkv
