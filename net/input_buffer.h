// A connection's input buffer: bytes read from the socket and not yet consumed by the parser.
//
// Reads append at the end, the parser consumes from the front. Consuming only moves an offset, so
// a pipeline of many small commands costs no copying per command; the unconsumed tail is moved to
// the front only when a read needs room. Storage is left uninitialised (make_unique_for_overwrite):
// a 512 MB bulk argument is not zero-filled before the socket fills it.
// Rejected: std::string with erase-from-front (quadratic on deep pipelines) and resize-before-read
// (zero-fills every read); a ring buffer (the parser wants each command contiguous).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

#include "core/assert.h"
#include "core/limits.h"

namespace tierkv::net {

class InputBuffer {
 public:
  InputBuffer() = default;
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;

  // The unconsumed bytes.
  std::string_view readable() const {
    return std::string_view(data_.get() + begin_, end_ - begin_);
  }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  size_t capacity() const { return capacity_; }

  // Drops `count` bytes from the front.
  void Consume(size_t count) {
    TK_ASSERT(count <= size());
    begin_ += count;
    if (begin_ == end_) {
      begin_ = end_ = 0;
      // A buffer grown past the largest inline request held a big bulk argument: give the memory
      // back instead of keeping it for the connection's lifetime.
      if (capacity_ > limits::kMaxInlineRequestBytes) {
        data_.reset();
        capacity_ = 0;
      }
    }
  }

  // Room for at least `min_bytes` at the end (moving the unconsumed bytes to the front or growing
  // as needed). Fill a prefix of it, then Commit() what was filled.
  std::span<std::byte> PrepareWrite(size_t min_bytes) {
    TK_ASSERT(min_bytes > 0);
    if (capacity_ - end_ < min_bytes && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (capacity_ - end_ < min_bytes) {
      size_t capacity = std::max(end_ + min_bytes, capacity_ * 2);
      auto grown = std::make_unique_for_overwrite<char[]>(capacity);
      if (end_ > 0) std::memcpy(grown.get(), data_.get(), end_);
      data_ = std::move(grown);
      capacity_ = capacity;
    }
    return std::span<std::byte>(reinterpret_cast<std::byte*>(data_.get() + end_), capacity_ - end_);
  }

  // Marks `count` bytes of the span PrepareWrite returned as filled.
  void Commit(size_t count) {
    TK_ASSERT(count <= capacity_ - end_);
    end_ += count;
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last filled byte
};

}  // namespace tierkv::net
