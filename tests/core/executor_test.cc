// The fiber runtime: spawn/join, yield, sleep, channel, mutex, condition variable, cancellation
// and timeouts on every suspending call. Run on both Envs (one executor).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/sync.h"
#include "tests/env_harness.h"

namespace tierkv {
namespace {

using testing::RunInBoth;

TEST_CASE("spawn, yield interleaves fibers, join waits for the end") {
  RunInBoth(1, [](Env& env, const std::string&) {
    Executor& ex = env.CurrentExecutor();
    std::string trace;
    auto a = ex.Spawn("a", [&] {
      for (int i = 0; i < 3; i++) {
        trace += 'a';
        ex.Yield();
      }
    });
    auto b = ex.Spawn("b", [&] {
      for (int i = 0; i < 3; i++) {
        trace += 'b';
        ex.Yield();
      }
    });
    REQUIRE(a.Join().ok());
    REQUIRE(b.Join().ok());
    CHECK(a.done());
    CHECK(trace == "ababab");
  });
}

TEST_CASE("channel: bounded, in order, close wakes receivers") {
  RunInBoth(1, [](Env& env, const std::string&) {
    Executor& ex = env.CurrentExecutor();
    Channel<int> channel(ex, 2);
    std::vector<int> got;
    auto consumer = ex.Spawn("consumer", [&] {
      while (true) {
        auto value = channel.Receive();
        if (!value) {
          CHECK(value.error().code() == StatusCode::kClosed);
          break;
        }
        got.push_back(*value);
      }
    });
    for (int i = 0; i < 10; i++) REQUIRE(channel.Send(i).ok());
    channel.Close();
    CHECK(channel.Send(99).code() == StatusCode::kClosed);
    REQUIRE(consumer.Join().ok());
    CHECK(got == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  });
}

TEST_CASE("channel receive and send time out") {
  RunInBoth(1, [](Env& env, const std::string&) {
    Executor& ex = env.CurrentExecutor();
    Channel<int> channel(ex, 1);
    auto empty = channel.Receive(DeadlineAfter(env.Now(), milliseconds(5)));
    REQUIRE_FALSE(empty.has_value());
    CHECK(empty.error().code() == StatusCode::kTimedOut);
    REQUIRE(channel.Send(1).ok());
    CHECK(channel.Send(2, DeadlineAfter(env.Now(), milliseconds(5))).code() == StatusCode::kTimedOut);
    CHECK_FALSE(channel.TrySend(3));
  });
}

TEST_CASE("mutex is held across suspension and handed over in FIFO order") {
  RunInBoth(1, [](Env& env, const std::string&) {
    Executor& ex = env.CurrentExecutor();
    Mutex mutex(ex);
    std::string trace;
    std::vector<FiberHandle> fibers;
    for (char name : std::string("abc")) {
      fibers.push_back(ex.Spawn(std::string(1, name), [&, name] {
        MutexLock lock(mutex);
        REQUIRE(lock.status().ok());
        trace += name;
        REQUIRE(ex.Sleep(milliseconds(1)).ok());  // suspend while holding it
        trace += name;
      }));
    }
    for (auto& fiber : fibers) REQUIRE(fiber.Join().ok());
    CHECK(trace == "aabbcc");
    CHECK_FALSE(mutex.locked());
    REQUIRE(mutex.Lock().ok());
    auto waiter = ex.Spawn("waiter", [&] {
      CHECK(mutex.Lock(DeadlineAfter(env.Now(), milliseconds(2))).code() == StatusCode::kTimedOut);
    });
    REQUIRE(waiter.Join().ok());
    mutex.Unlock();
  });
}

TEST_CASE("condition variable: wait, notify, timeout keeps the mutex") {
  RunInBoth(1, [](Env& env, const std::string&) {
    Executor& ex = env.CurrentExecutor();
    Mutex mutex(ex);
    CondVar cond(ex);
    bool ready = false;
    auto waiter = ex.Spawn("waiter", [&] {
      MutexLock lock(mutex);
      while (!ready) REQUIRE(cond.Wait(mutex).ok());
      CHECK(mutex.locked());
    });
    ex.Yield();
    {
      MutexLock lock(mutex);
      ready = true;
      cond.NotifyOne();
    }
    REQUIRE(waiter.Join().ok());
    MutexLock lock(mutex);
    CHECK(cond.Wait(mutex, DeadlineAfter(env.Now(), milliseconds(1))).code() == StatusCode::kTimedOut);
    CHECK(mutex.locked());
  });
}

TEST_CASE("cancellation interrupts sleep, channel, join; later waits return Cancelled") {
  RunInBoth(1, [](Env& env, const std::string&) {
    Executor& ex = env.CurrentExecutor();
    Channel<int> channel(ex, 1);
    std::vector<StatusCode> codes;
    auto victim = ex.Spawn("victim", [&] {
      codes.push_back(ex.Sleep(seconds(3600)).code());
      codes.push_back(channel.Receive().error().code());
      codes.push_back(ex.Sleep(milliseconds(1)).code());
    });
    ex.Yield();
    victim.Cancel();
    REQUIRE(victim.Join(DeadlineAfter(env.Now(), seconds(5))).ok());
    CHECK(codes == std::vector<StatusCode>{StatusCode::kCancelled, StatusCode::kCancelled,
                                           StatusCode::kCancelled});
    auto sleeper = ex.Spawn("sleeper", [&] { (void)ex.Sleep(seconds(3600)); });
    CHECK(sleeper.Join(DeadlineAfter(env.Now(), milliseconds(3))).code() == StatusCode::kTimedOut);
    sleeper.Cancel();
    REQUIRE(sleeper.Join().ok());
  });
}

TEST_CASE("socket read is cancellable") {
  RunInBoth(1, [](Env& env, const std::string&) {
    Executor& ex = env.CurrentExecutor();
    auto listener = env.Listen({"127.0.0.1", 0}, {});
    REQUIRE(listener.has_value());
    auto client = env.Connect((*listener)->LocalAddress(), DeadlineAfter(env.Now(), seconds(5)));
    REQUIRE(client.has_value());
    StatusCode code = StatusCode::kOk;
    auto reader = ex.Spawn("reader", [&] {
      std::vector<std::byte> buf(8);
      auto n = (*client)->Read(buf);
      code = n ? StatusCode::kOk : n.error().code();
    });
    REQUIRE(ex.Sleep(milliseconds(2)).ok());
    reader.Cancel();
    REQUIRE(reader.Join(DeadlineAfter(env.Now(), seconds(5))).ok());
    CHECK(code == StatusCode::kCancelled);
    auto accept = (*listener)->Accept(DeadlineAfter(env.Now(), milliseconds(1)));
    (void)accept;
  });
}

}  // namespace
}  // namespace tierkv
