// The Env contract, checked against both implementations (production and simulation).
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/env.h"
#include "core/sync.h"
#include "tests/env_harness.h"

namespace tierkv {
namespace {

using testing::RunInBoth;

std::span<const std::byte> Bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}
std::string Text(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::unique_ptr<File> MustOpen(Env& env, const std::string& path, OpenOptions options) {
  auto file = env.OpenFile(path, options);
  REQUIRE_MESSAGE(file.has_value(), file.error().ToString());
  return std::move(*file);
}

TEST_CASE("read after write, read past end, size") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    auto file = MustOpen(env, JoinPath(dir, "a"), {.create = true});
    REQUIRE(file->Write(0, Bytes("hello world")).ok());
    REQUIRE(file->Write(6, Bytes("there")).ok());
    std::vector<std::byte> buf(64);
    auto n = file->Read(0, buf);
    REQUIRE(n.has_value());
    CHECK(Text(std::span(buf).first(*n)) == "hello there");
    n = file->Read(8, buf);
    REQUIRE(n.has_value());
    CHECK(Text(std::span(buf).first(*n)) == "ere");
    n = file->Read(100, buf);
    REQUIRE(n.has_value());
    CHECK(*n == 0);
    CHECK(file->Size().value() == 11);
    REQUIRE(file->Truncate(5).ok());
    CHECK(file->Size().value() == 5);
  });
}

TEST_CASE("buffered writes small and large (inline and through io_uring in production) read back") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    const std::string path = JoinPath(dir, "w");
    auto file = MustOpen(env, path, {.create = true});
    // 100 KiB, then 1 MiB right after it, then 4 KiB over the seam between them.
    std::string small(100 << 10, 'a'), large(1 << 20, 'b'), patch(4096, 'c');
    for (size_t i = 0; i < large.size(); i += 4093) large[i] = static_cast<char>('0' + i % 10);
    REQUIRE(file->Write(0, Bytes(small)).ok());
    REQUIRE(file->Write(small.size(), Bytes(large)).ok());
    REQUIRE(file->Write(small.size() - 2048, Bytes(patch)).ok());
    std::string expected = small + large;
    expected.replace(small.size() - 2048, patch.size(), patch);
    std::vector<std::byte> buf(expected.size() + 100);
    auto n = file->Read(0, buf);
    REQUIRE(n.has_value());
    CHECK(*n == expected.size());
    CHECK(Text(std::span(buf).first(*n)) == expected);
    // A write the file cannot take is an error, not a crash.
    file.reset();
    auto read_only = MustOpen(env, path, {.read_only = true});
    CHECK_FALSE(read_only->Write(0, Bytes("x")).ok());
    CHECK_FALSE(read_only->Write(0, Bytes(large)).ok());
  });
}

TEST_CASE("open without create of a missing file is NotFound; exclusive create of existing") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    auto missing = env.OpenFile(JoinPath(dir, "missing"), {});
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code() == StatusCode::kNotFound);
    MustOpen(env, JoinPath(dir, "x"), {.create = true});
    auto again = env.OpenFile(JoinPath(dir, "x"), {.create = true, .exclusive = true});
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().code() == StatusCode::kAlreadyExists);
  });
}

TEST_CASE("direct I/O: aligned works, misaligned is refused with a clear error") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    auto file = MustOpen(env, JoinPath(dir, "direct"), {.create = true, .direct = true});
    AlignedBuffer block(8192);
    std::memset(block.data(), 'x', block.size());
    REQUIRE(file->Write(4096, block.span()).ok());
    AlignedBuffer back(8192);
    auto n = file->Read(4096, back.span());
    REQUIRE(n.has_value());
    CHECK(*n == 8192);
    CHECK(std::memcmp(block.data(), back.data(), 8192) == 0);
    // Reading the hole before it gives zeroes.
    n = file->Read(0, back.span().first(4096));
    REQUIRE(n.has_value());
    CHECK(*n == 4096);
    CHECK(back.data()[0] == std::byte{0});

    Status bad_offset = file->Write(100, block.span().first(4096));
    CHECK(bad_offset.code() == StatusCode::kInvalidArgument);
    CHECK(bad_offset.message().find("aligned") != std::string::npos);
    auto bad_length = file->Read(0, back.span().first(100));
    REQUIRE_FALSE(bad_length.has_value());
    CHECK(bad_length.error().code() == StatusCode::kInvalidArgument);
    auto bad_buffer = file->Read(0, back.span().subspan(1, 4096));
    REQUIRE_FALSE(bad_buffer.has_value());
    CHECK(bad_buffer.error().code() == StatusCode::kInvalidArgument);
  });
}

TEST_CASE("rename, remove, list, exists, create directory") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    MustOpen(env, JoinPath(dir, "b"), {.create = true});
    MustOpen(env, JoinPath(dir, "a"), {.create = true});
    REQUIRE(env.CreateDir(JoinPath(dir, "sub")).ok());
    REQUIRE(env.CreateDir(JoinPath(dir, "sub")).ok());  // exists: still Ok
    auto names = env.ListDir(dir);
    REQUIRE(names.has_value());
    CHECK(*names == std::vector<std::string>{"a", "b", "sub"});
    REQUIRE(env.RenameFile(JoinPath(dir, "a"), JoinPath(dir, "c")).ok());
    CHECK_FALSE(env.Exists(JoinPath(dir, "a")).value());
    CHECK(env.Exists(JoinPath(dir, "c")).value());
    REQUIRE(env.RemoveFile(JoinPath(dir, "b")).ok());
    CHECK(env.RemoveFile(JoinPath(dir, "b")).code() == StatusCode::kNotFound);
    REQUIRE(env.SyncDir(dir).ok());
    names = env.ListDir(dir);
    REQUIRE(names.has_value());
    CHECK(*names == std::vector<std::string>{"c", "sub"});
    CHECK(env.ListDir(JoinPath(dir, "nope")).error().code() == StatusCode::kNotFound);
  });
}

TEST_CASE("file lock: exclusive while held, free again once released") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    std::string path = JoinPath(dir, "LOCK");
    auto first = env.LockFile(path);
    REQUIRE_MESSAGE(first.has_value(), first.error().ToString());
    CHECK(env.Exists(path).value());
    auto second = env.LockFile(path);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code() == StatusCode::kBusy);
    auto other = env.LockFile(JoinPath(dir, "OTHER"));  // locks are per path
    CHECK(other.has_value());
    first->reset();
    auto again = env.LockFile(path);
    CHECK_MESSAGE(again.has_value(), again.error().ToString());
  });
}

TEST_CASE("sync and datasync succeed and keep contents readable") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    auto file = MustOpen(env, JoinPath(dir, "s"), {.create = true});
    REQUIRE(file->Write(0, Bytes("durable")).ok());
    REQUIRE(file->Sync().ok());
    REQUIRE(file->Write(7, Bytes("!")).ok());
    REQUIRE(file->DataSync().ok());
    REQUIRE(env.SyncDir(dir).ok());
    std::vector<std::byte> buf(16);
    auto n = file->Read(0, buf);
    REQUIRE(n.has_value());
    CHECK(Text(std::span(buf).first(*n)) == "durable!");
  });
}

TEST_CASE("pmem: map, store, persist, remap sees the contents") {
  RunInBoth(1, [](Env& env, const std::string& dir) {
    std::string path = JoinPath(dir, "pmem");
    {
      auto region = env.MapPmem(path, 1 << 20);
      REQUIRE_MESSAGE(region.has_value(), region.error().ToString());
      CHECK((*region)->size() == (1 << 20));
      std::memcpy((*region)->data() + 4096, "persistent", 10);
      (*region)->Persist(4096, 10);
      (*region)->Flush(0, 64);
      (*region)->Drain();
    }
    auto region = env.MapPmem(path, 1 << 20);
    REQUIRE(region.has_value());
    CHECK(std::memcmp((*region)->data() + 4096, "persistent", 10) == 0);
    auto wrong = env.MapPmem(path, 1 << 21);
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().code() == StatusCode::kInvalidArgument);
  });
}

TEST_CASE("timers fire in deadline order") {
  RunInBoth(1, [](Env& env, const std::string&) {
    Executor& ex = env.CurrentExecutor();
    std::vector<int> order;
    std::vector<FiberHandle> fibers;
    for (int ms : {30, 10, 20, 5}) {
      fibers.push_back(ex.Spawn("sleeper", [&ex, &order, ms] {
        REQUIRE(ex.Sleep(milliseconds(ms)).ok());
        order.push_back(ms);
      }));
    }
    TimePoint start = env.Now();
    for (auto& fiber : fibers) REQUIRE(fiber.Join().ok());
    CHECK(order == std::vector<int>{5, 10, 20, 30});
    CHECK(env.Now() - start >= milliseconds(30));
  });
}

TEST_CASE("cross-executor messages arrive in order and run on the target executor") {
  RunInBoth(2, [](Env& env, const std::string&) {
    Executor& home = env.CurrentExecutor();
    std::vector<int> received;  // touched only on executor 1
    Event done(home);
    constexpr int kMessages = 200;
    for (int i = 0; i < kMessages; i++) {
      env.Post(1, [&env, &received, i] {
        REQUIRE(env.CurrentExecutor().index() == 1);
        received.push_back(i);
      });
    }
    env.Post(1, [&env, &done] { env.Post(0, [&done] { done.Set(); }); });
    REQUIRE(done.Wait(DeadlineAfter(env.Now(), seconds(10))).ok());
    REQUIRE(received.size() == kMessages);
    for (int i = 0; i < kMessages; i++) CHECK(received[i] == i);
  });
}

// Starts a listener on executor 1 that echoes everything back, then runs `client` on executor 0.
void WithEchoServer(Env& env, const std::function<void(Env&, NetAddress, Event&)>& client) {
  Executor& home = env.CurrentExecutor();
  Event listening(home), server_done(home);
  NetAddress address{"127.0.0.1", 0};
  Status server_status;
  env.Post(1, [&] {
    auto listener = env.Listen({"127.0.0.1", 0}, {});
    REQUIRE_MESSAGE(listener.has_value(), listener.error().ToString());
    NetAddress bound = (*listener)->LocalAddress();
    env.Post(0, [&, bound] {
      address = bound;
      listening.Set();
    });
    auto socket = (*listener)->Accept(DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE_MESSAGE(socket.has_value(), socket.error().ToString());
    std::vector<std::byte> buf(4096);
    while (true) {
      auto n = (*socket)->Read(buf, DeadlineAfter(env.Now(), seconds(10)));
      if (!n) {
        server_status = n.error();
        break;
      }
      if (*n == 0) break;
      Status written = (*socket)->Write(std::span(buf).first(*n));
      if (!written.ok()) {
        server_status = written;
        break;
      }
    }
    (*socket)->Close();
    env.Post(0, [&] { server_done.Set(); });
  });
  REQUIRE(listening.Wait(DeadlineAfter(env.Now(), seconds(10))).ok());
  client(env, address, server_done);
  REQUIRE(server_done.Wait(DeadlineAfter(env.Now(), seconds(10))).ok());
  (void)server_status;
}

TEST_CASE("socket echo with orderly close") {
  RunInBoth(2, [](Env& env, const std::string&) {
    WithEchoServer(env, [](Env& env, NetAddress address, Event&) {
      auto socket = env.Connect(address, DeadlineAfter(env.Now(), seconds(10)));
      REQUIRE_MESSAGE(socket.has_value(), socket.error().ToString());
      std::string sent;
      for (int i = 0; i < 50; i++) {
        std::string line = "message " + std::to_string(i) + "\n";
        sent += line;
        REQUIRE((*socket)->Write(Bytes(line)).ok());
      }
      std::string got;
      std::vector<std::byte> buf(1024);
      while (got.size() < sent.size()) {
        auto n = (*socket)->Read(buf, DeadlineAfter(env.Now(), seconds(10)));
        REQUIRE_MESSAGE(n.has_value(), n.error().ToString());
        REQUIRE(*n > 0);
        got += Text(std::span(buf).first(*n));
      }
      CHECK(got == sent);  // bytes arrive complete and in order
      (*socket)->Close();
    });
  });
}

TEST_CASE("socket reset: the peer's read fails with ConnectionReset") {
  RunInBoth(2, [](Env& env, const std::string&) {
    Executor& home = env.CurrentExecutor();
    Event listening(home), done(home);
    NetAddress address;
    Status peer_read;
    env.Post(1, [&] {
      auto listener = env.Listen({"127.0.0.1", 0}, {});
      REQUIRE(listener.has_value());
      NetAddress bound = (*listener)->LocalAddress();
      env.Post(0, [&, bound] {
        address = bound;
        listening.Set();
      });
      auto socket = (*listener)->Accept(DeadlineAfter(env.Now(), seconds(10)));
      REQUIRE(socket.has_value());
      std::vector<std::byte> buf(64);
      auto n = (*socket)->Read(buf, DeadlineAfter(env.Now(), seconds(10)));
      Status status = n ? Status::Ok() : n.error();
      env.Post(0, [&, status] {
        peer_read = status;
        done.Set();
      });
    });
    REQUIRE(listening.Wait(DeadlineAfter(env.Now(), seconds(10))).ok());
    auto socket = env.Connect(address, DeadlineAfter(env.Now(), seconds(10)));
    REQUIRE(socket.has_value());
    (*socket)->Reset();
    REQUIRE(done.Wait(DeadlineAfter(env.Now(), seconds(10))).ok());
    CHECK(peer_read.code() == StatusCode::kConnectionReset);
  });
}

TEST_CASE("connect to a port nobody listens on is refused; read honours its deadline") {
  RunInBoth(2, [](Env& env, const std::string&) {
    auto listener = env.Listen({"127.0.0.1", 0}, {});
    REQUIRE(listener.has_value());
    NetAddress address = (*listener)->LocalAddress();
    listener->reset();
    auto refused = env.Connect(address, DeadlineAfter(env.Now(), seconds(5)));
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code() == StatusCode::kConnectionRefused);

    auto again = env.Listen({"127.0.0.1", 0}, {});
    REQUIRE(again.has_value());
    auto client = env.Connect((*again)->LocalAddress(), DeadlineAfter(env.Now(), seconds(5)));
    REQUIRE(client.has_value());
    std::vector<std::byte> buf(16);
    TimePoint start = env.Now();
    auto n = (*client)->Read(buf, DeadlineAfter(env.Now(), milliseconds(50)));
    REQUIRE_FALSE(n.has_value());
    CHECK(n.error().code() == StatusCode::kTimedOut);
    CHECK(env.Now() - start >= milliseconds(50));
  });
}

}  // namespace
}  // namespace tierkv
