// Tests of net/input_buffer.h: append, consume, compaction, growth and giving memory back.
#include "net/input_buffer.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "core/limits.h"

namespace tierkv::net {
namespace {

void Append(InputBuffer& buffer, std::string_view text) {
  std::span<std::byte> room = buffer.PrepareWrite(text.size());
  REQUIRE(room.size() >= text.size());
  std::memcpy(room.data(), text.data(), text.size());
  buffer.Commit(text.size());
}

}  // namespace

TEST_CASE("InputBuffer: append and consume") {
  InputBuffer buffer;
  CHECK(buffer.empty());
  Append(buffer, "hello ");
  Append(buffer, "world");
  CHECK(buffer.readable() == "hello world");
  buffer.Consume(6);
  CHECK(buffer.readable() == "world");
  CHECK(buffer.size() == 5);
  buffer.Consume(5);
  CHECK(buffer.empty());
  CHECK(buffer.readable().empty());
}

TEST_CASE("InputBuffer: compacts before growing") {
  InputBuffer buffer;
  Append(buffer, std::string(100, 'a'));
  const size_t capacity = buffer.capacity();
  buffer.Consume(90);
  // Room for almost the whole capacity exists once the 10 unconsumed bytes move to the front.
  std::span<std::byte> room = buffer.PrepareWrite(capacity - 10);
  CHECK(buffer.capacity() == capacity);
  CHECK(room.size() == capacity - 10);
  CHECK(buffer.readable() == std::string(10, 'a'));
}

TEST_CASE("InputBuffer: grows for big arguments and gives the memory back when drained") {
  InputBuffer buffer;
  Append(buffer, "x");
  const size_t big = limits::kMaxInlineRequestBytes * 4;
  std::span<std::byte> room = buffer.PrepareWrite(big);
  CHECK(room.size() >= big);
  CHECK(buffer.capacity() >= big + 1);
  CHECK(buffer.readable() == "x");
  buffer.Commit(big);
  buffer.Consume(buffer.size());
  CHECK(buffer.capacity() == 0);
  // Small buffers are kept for the next read.
  Append(buffer, "y");
  buffer.Consume(1);
  CHECK(buffer.capacity() > 0);
}

}  // namespace tierkv::net
