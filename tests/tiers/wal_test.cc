// Tests of the write-ahead log (tiers/wal.h). The basic behaviour runs on both Envs; crashes,
// torn writes, injected disk errors and the RapidCheck model run under the simulator.
#include "tiers/wal.h"

#include <doctest/doctest.h>
#include <rapidcheck.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "core/random.h"
#include "sim/sim_env.h"
#include "tests/env_harness.h"
#include "tests/sim/sim_helpers.h"
#include "tiers/wal_internal.h"

namespace tierkv::tiers {
namespace {

using Records = std::vector<std::pair<uint64_t, std::string>>;

constexpr size_t kHeaderBytes = 24;  // the record header documented in wal.h

void MustOk(const Status& status) { REQUIRE_MESSAGE(status.ok(), status.ToString()); }

// Deterministic content for a record, so replayed bytes can be compared with what was appended.
std::string Payload(uint64_t tag, size_t size) {
  Prng prng(tag);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>('a' + prng.Uniform(26));
  return out;
}

std::unique_ptr<Wal> OpenWal(Env& env, const WalOptions& options, uint64_t from_lsn,
                             Records* replayed = nullptr) {
  Records ignored;
  Records& out = replayed ? *replayed : ignored;
  auto wal = Wal::Open(env, options, from_lsn, [&](uint64_t lsn, std::string_view payload) {
    out.emplace_back(lsn, std::string(payload));
    return Status::Ok();
  });
  REQUIRE_MESSAGE(wal.has_value(), wal.error().ToString());
  return std::move(*wal);
}

// Appends `count` records of `size` bytes one after the other; returns them.
Records AppendMany(Wal& wal, uint64_t count, size_t size, uint64_t tag = 0) {
  Records out;
  for (uint64_t i = 0; i < count; i++) {
    std::string payload = Payload(tag + wal.next_lsn(), size);
    auto lsn = wal.Append(payload);
    REQUIRE_MESSAGE(lsn.has_value(), lsn.error().ToString());
    out.emplace_back(*lsn, std::move(payload));
  }
  return out;
}

Records Slice(const Records& records, uint64_t first_lsn, uint64_t last_lsn) {
  Records out;
  for (const auto& record : records) {
    if (record.first >= first_lsn && record.first <= last_lsn) out.push_back(record);
  }
  return out;
}

// The first lsns of the segment files in `dir`, in order; `others` gets every other name.
std::vector<uint64_t> SegmentLsns(Env& env, const std::string& dir,
                                  std::vector<std::string>* others = nullptr) {
  auto names = env.ListDir(dir);
  REQUIRE(names.has_value());
  std::vector<uint64_t> lsns;
  for (const std::string& name : *names) {
    if (name.size() == 28 && name.starts_with("wal-") && name.ends_with(".log")) {
      lsns.push_back(std::stoull(name.substr(4, 20)));
    } else if (others) {
      others->push_back(name);
    }
  }
  return lsns;
}

std::string SegmentPath(const std::string& dir, uint64_t first_lsn) {
  std::string digits = std::to_string(first_lsn);
  return JoinPath(dir, "wal-" + std::string(20 - digits.size(), '0') + digits + ".log");
}

void FlipByte(Env& env, const std::string& path, uint64_t offset) {
  auto file = env.OpenFile(path, {});
  REQUIRE(file.has_value());
  std::byte byte{};
  auto n = (*file)->Read(offset, std::span(&byte, 1));
  REQUIRE((n.has_value() && *n == 1));
  byte ^= std::byte{0x5a};
  MustOk((*file)->Write(offset, std::span(&byte, 1)));
  MustOk((*file)->Sync());
}

const char* ModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kAlways: return "always";
    case SyncMode::kEverySec: return "everysec";
    case SyncMode::kNo: return "no";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Both Envs

TEST_CASE("append then reopen replays every record in order, in every sync mode") {
  testing::RunInBoth(1, [](Env& env, const std::string& root) {
    for (SyncMode mode : {SyncMode::kAlways, SyncMode::kEverySec, SyncMode::kNo}) {
      CAPTURE(ModeName(mode));
      WalOptions options{.dir = JoinPath(root, ModeName(mode)), .mode = mode};
      Records appended;
      {
        auto wal = OpenWal(env, options, 1);
        CHECK(wal->next_lsn() == 1);
        for (uint64_t i = 0; i < 100; i++) {
          std::string payload = Payload(i, (i * 37) % 2000);  // sizes from 0 up
          auto lsn = wal->Append(payload);
          REQUIRE(lsn.has_value());
          CHECK(*lsn == i + 1);
          appended.emplace_back(*lsn, payload);
        }
        CHECK(wal->stats().records == 100);
        MustOk(wal->Sync());
        MustOk(wal->Close());
      }
      Records replayed;
      auto wal = OpenWal(env, options, 1, &replayed);
      CHECK(replayed == appended);
      CHECK(wal->next_lsn() == 101);
      MustOk(wal->Close());
    }
  });
}

TEST_CASE("records on disk have the layout documented in wal.h") {
  testing::RunInBoth(1, [](Env& env, const std::string& root) {
    WalOptions options{.dir = JoinPath(root, "wal")};
    auto wal = OpenWal(env, options, 1);
    Records records = AppendMany(*wal, 2, 33);
    MustOk(wal->Close());
    auto file = env.OpenFile(SegmentPath(options.dir, 1), {.read_only = true});
    REQUIRE(file.has_value());
    std::string bytes(2 * (kHeaderBytes + 33), '\0');
    auto n = (*file)->Read(0, std::as_writable_bytes(std::span(bytes.data(), bytes.size())));
    REQUIRE((n.has_value() && *n == bytes.size()));
    CHECK((*file)->Size().value() == bytes.size());
    for (size_t i = 0; i < 2; i++) {
      const char* record = bytes.data() + i * (kHeaderBytes + 33);
      uint32_t length, reserved;
      uint64_t lsn, checksum;
      std::memcpy(&length, record, 4);
      std::memcpy(&reserved, record + 4, 4);
      std::memcpy(&lsn, record + 8, 8);
      std::memcpy(&checksum, record + 16, 8);
      CHECK(length == 33);
      CHECK(reserved == 0);
      CHECK(lsn == i + 1);
      std::string hashed(reinterpret_cast<const char*>(&lsn), 8);
      hashed += records[i].second;
      CHECK(checksum == XXH64(hashed.data(), hashed.size(), 0));
      CHECK(std::string_view(record + kHeaderBytes, 33) == records[i].second);
    }
  });
}

TEST_CASE("a record's checksum is XXH64 over its lsn then its payload, at every size") {
  // Small records take a one-shot path over a stack copy, larger ones the streaming one: both
  // must give the documented value, around the boundary too.
  for (size_t size : {0, 1, 7, 8, 33, 200, 247, 248, 249, 250, 256, 300, 4096}) {
    const uint64_t lsn = 0x0102030405060708ULL + size;
    const std::string payload = Payload(size, size);
    std::string hashed(reinterpret_cast<const char*>(&lsn), 8);
    hashed += payload;
    CAPTURE(size);
    CHECK(wal_internal::RecordChecksum(lsn, payload) == XXH64(hashed.data(), hashed.size(), 0));
  }
}

TEST_CASE("replay starts at from_lsn; a from_lsn past the end moves the next lsn up") {
  testing::RunInBoth(1, [](Env& env, const std::string& root) {
    WalOptions options{.dir = JoinPath(root, "wal")};
    Records all;
    {
      auto wal = OpenWal(env, options, 0);  // 0 means "from the start", like 1
      all = AppendMany(*wal, 50, 30);
      MustOk(wal->Close());
    }
    {
      Records replayed;
      auto wal = OpenWal(env, options, 21, &replayed);
      CHECK(replayed == Slice(all, 21, 50));
      CHECK(wal->next_lsn() == 51);
      Records more = AppendMany(*wal, 1, 30, 1000);
      CHECK(more.front().first == 51);
      all.insert(all.end(), more.begin(), more.end());
      MustOk(wal->Close());
    }
    {
      // The caller's checkpoint is ahead of the log (as after losing an unsynced tail).
      Records replayed;
      auto wal = OpenWal(env, options, 60, &replayed);
      CHECK(replayed.empty());
      CHECK(wal->next_lsn() == 60);
      Records more = AppendMany(*wal, 3, 30, 2000);
      CHECK(more.front().first == 60);
      all.insert(all.end(), more.begin(), more.end());
      MustOk(wal->Close());
    }
    // The gap 52..59 lies below from_lsn (which never goes back: the caller's checkpoint).
    Records replayed;
    auto wal = OpenWal(env, options, 61, &replayed);
    CHECK(replayed == Slice(all, 61, 62));
    CHECK(wal->next_lsn() == 63);
    MustOk(wal->Close());
  });
}

TEST_CASE("segments roll over at segment_bytes and RemoveBefore deletes only whole old ones") {
  testing::RunInBoth(1, [](Env& env, const std::string& root) {
    WalOptions options{.dir = JoinPath(root, "wal"), .segment_bytes = 1000};
    Records all;
    {
      auto wal = OpenWal(env, options, 1);
      all = AppendMany(*wal, 100, 100);  // 124-byte records, one batch each: 9 per segment
      std::vector<uint64_t> lsns = SegmentLsns(env, options.dir);
      CHECK(lsns.size() == 12);
      CHECK(wal->stats().segments == lsns.size());
      CHECK(lsns.front() == 1);
      CHECK(lsns[1] == 10);
      MustOk(wal->RemoveBefore(50));
      lsns = SegmentLsns(env, options.dir);
      REQUIRE(lsns.size() >= 2);
      CHECK(lsns[0] <= 50);  // still holds lsn 50
      CHECK(lsns[1] > 50);
      CHECK(wal->stats().segments == lsns.size());
      MustOk(wal->RemoveBefore(10));  // nothing more to remove
      CHECK(SegmentLsns(env, options.dir) == lsns);
      MustOk(wal->Close());
    }
    {
      Records replayed;
      auto wal = OpenWal(env, options, 50, &replayed);
      CHECK(replayed == Slice(all, 50, 100));
      MustOk(wal->RemoveBefore(101));  // everything is covered: only the active segment stays
      CHECK(SegmentLsns(env, options.dir) == std::vector<uint64_t>{101});
      CHECK(wal->stats().segments == 1);
      MustOk(wal->Close());
    }
    Records replayed;
    auto wal = OpenWal(env, options, 101, &replayed);
    CHECK(replayed.empty());
    CHECK(wal->next_lsn() == 101);
    CHECK(SegmentLsns(env, options.dir) == std::vector<uint64_t>{101});
    MustOk(wal->Close());
  });
}

TEST_CASE("every open appends to a new segment; an unused one is removed at the next open") {
  testing::RunInBoth(1, [](Env& env, const std::string& root) {
    WalOptions options{.dir = JoinPath(root, "wal")};
    auto reopen = [&](uint64_t appends) {
      auto wal = OpenWal(env, options, 1);
      (void)AppendMany(*wal, appends, 10);
      MustOk(wal->Close());
    };
    reopen(0);
    CHECK(SegmentLsns(env, options.dir) == std::vector<uint64_t>{1});
    reopen(5);
    CHECK(SegmentLsns(env, options.dir) == std::vector<uint64_t>{1});
    reopen(5);
    CHECK(SegmentLsns(env, options.dir) == std::vector<uint64_t>{1, 6});
    reopen(0);
    CHECK(SegmentLsns(env, options.dir) == std::vector<uint64_t>{1, 6, 11});
  });
}

TEST_CASE("group commit: 50 concurrent appenders share a few writes and syncs") {
  testing::RunInBoth(1, [](Env& env, const std::string& root) {
    WalOptions options{.dir = JoinPath(root, "wal")};
    Executor& executor = env.CurrentExecutor();
    auto wal = OpenWal(env, options, 1);
    uint64_t before = wal->stats().syncs;
    (void)AppendMany(*wal, 50, 100);
    uint64_t sequential = wal->stats().syncs - before;

    constexpr int kAppenders = 50;
    std::vector<uint64_t> lsns(kAppenders, 0);
    std::vector<FiberHandle> fibers;
    before = wal->stats().syncs;
    for (int i = 0; i < kAppenders; i++) {
      fibers.push_back(executor.Spawn("appender", [&, i] {
        auto lsn = wal->Append(Payload(1000 + i, 100));
        CHECK(lsn.has_value());
        if (lsn) lsns[i] = *lsn;
      }));
    }
    for (FiberHandle& fiber : fibers) MustOk(fiber.Join());
    uint64_t concurrent = wal->stats().syncs - before;
    MESSAGE("50 appends under kAlways: ", sequential, " syncs one at a time, ", concurrent,
            " syncs concurrently");
    CHECK(sequential == 50);
    CHECK(concurrent <= 5);
    std::vector<uint64_t> sorted = lsns;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < kAppenders; i++) CHECK(sorted[i] == 51 + i);

    // Appenders that keep coming while a flush is in progress: each batch takes everything
    // appended during the previous write and sync.
    fibers.clear();
    before = wal->stats().syncs;
    for (int i = 0; i < kAppenders; i++) {
      fibers.push_back(executor.Spawn("appender", [&, i] {
        for (int j = 0; j < 20; j++) CHECK(wal->Append(Payload(i * 100 + j, 100)).has_value());
      }));
    }
    for (FiberHandle& fiber : fibers) MustOk(fiber.Join());
    uint64_t streaming = wal->stats().syncs - before;
    MESSAGE("1000 appends from 50 fibers appending 20 each: ", streaming, " syncs");
    CHECK(streaming <= 60);
    MustOk(wal->Close());

    Records replayed;
    wal = OpenWal(env, options, 51, &replayed);
    REQUIRE(replayed.size() == kAppenders + 1000);
    for (int i = 0; i < kAppenders; i++) {
      CHECK(replayed[lsns[i] - 51] == std::make_pair(lsns[i], Payload(1000 + i, 100)));
    }
    MustOk(wal->Close());
  });
}

TEST_CASE("a cancelled appender gets Cancelled; the log carries on and keeps its record") {
  testing::RunInBoth(1, [](Env& env, const std::string& root) {
    WalOptions options{.dir = JoinPath(root, "wal")};
    auto wal = OpenWal(env, options, 1);
    std::optional<Result<uint64_t>> cancelled;
    FiberHandle fiber =
        env.CurrentExecutor().Spawn("appender", [&] { cancelled = wal->Append(Payload(1, 10)); });
    fiber.Cancel();  // before it runs: its wait returns Cancelled at once
    MustOk(fiber.Join());
    REQUIRE(cancelled.has_value());
    CHECK_FALSE(cancelled->has_value());
    CHECK(cancelled->error().code() == StatusCode::kCancelled);
    auto next = wal->Append(Payload(2, 10));
    REQUIRE(next.has_value());
    CHECK(*next == 2);
    MustOk(wal->Close());
    Records replayed;
    wal = OpenWal(env, options, 1, &replayed);
    CHECK(replayed == Records{{1, Payload(1, 10)}, {2, Payload(2, 10)}});
    MustOk(wal->Close());
  });
}

TEST_CASE("a corrupted byte in the middle of a segment ends replay at that record") {
  // Record k (lsn k+1) of 100-byte payloads starts at k * 124.
  struct Case {
    const char* what;
    uint64_t offset_in_record;
  };
  for (Case c : {Case{"payload", kHeaderBytes + 50}, Case{"length", 1}, Case{"lsn", 9},
                 Case{"checksum", 17}, Case{"reserved", 5}}) {
    CAPTURE(c.what);
    testing::RunInBoth(1, [&](Env& env, const std::string& root) {
      WalOptions options{.dir = JoinPath(root, "wal")};
      Records all;
      {
        auto wal = OpenWal(env, options, 1);
        all = AppendMany(*wal, 20, 100);
        MustOk(wal->Close());
      }
      FlipByte(env, SegmentPath(options.dir, 1), 9 * (kHeaderBytes + 100) + c.offset_in_record);
      Records replayed;
      {
        auto wal = OpenWal(env, options, 1, &replayed);
        CHECK(replayed == Slice(all, 1, 9));
        CHECK(wal->next_lsn() == 10);
        Records more = AppendMany(*wal, 2, 100, 500);
        all = Slice(all, 1, 9);
        all.insert(all.end(), more.begin(), more.end());
        MustOk(wal->Close());
      }
      replayed.clear();
      auto wal = OpenWal(env, options, 1, &replayed);
      CHECK(replayed == all);
      MustOk(wal->Close());
    });
  }
}

TEST_CASE("corruption in an old segment: later segments are set aside and never replayed") {
  testing::RunInBoth(1, [](Env& env, const std::string& root) {
    WalOptions options{.dir = JoinPath(root, "wal"), .segment_bytes = 1000};
    Records all;
    {
      auto wal = OpenWal(env, options, 1);
      all = AppendMany(*wal, 40, 100);
      MustOk(wal->Close());
    }
    CHECK(SegmentLsns(env, options.dir).size() == 5);
    FlipByte(env, SegmentPath(options.dir, 1), 4 * (kHeaderBytes + 100) + 30);  // lsn 5
    Records replayed;
    {
      auto wal = OpenWal(env, options, 1, &replayed);
      CHECK(replayed == Slice(all, 1, 4));
      std::vector<std::string> others;
      CHECK(SegmentLsns(env, options.dir, &others) == std::vector<uint64_t>{1, 5});
      CHECK(others.size() == 4);
      for (const std::string& name : others) CHECK(name.ends_with(".log.dropped"));
      // New records take the lsns the dropped segments held; the stale ones must stay gone.
      Records more = AppendMany(*wal, 30, 100, 777);
      all = Slice(all, 1, 4);
      all.insert(all.end(), more.begin(), more.end());
      MustOk(wal->Close());
    }
    replayed.clear();
    auto wal = OpenWal(env, options, 1, &replayed);
    CHECK(replayed == all);
    MustOk(wal->Close());
  });
}

// ---------------------------------------------------------------------------------------------
// Simulator: crashes, exits and disk faults

enum class End { kCrash, kExit };
struct Phase {
  std::function<void(sim::SimEnv&)> body;
  End end = End::kCrash;  // how the process ends after the body: power loss, or a plain exit
};

// Boot i of node "n1" runs phases[i]; between phases the node crashes (disk keeps only what the
// crash rules keep) or exits (the page cache survives, as when a process dies).
void RunPhases(sim::World& world, const std::vector<Phase>& phases) {
  size_t finished = 0;
  world.AddNode(sim::NodeSpec{"n1", 1, [&](sim::SimEnv& env) {
                                size_t index = env.node().boots() - 1;
                                if (index >= phases.size()) return;
                                phases[index].body(env);
                                finished = index + 1;
                                if (phases[index].end == End::kCrash) {
                                  (void)env.CurrentExecutor().Sleep(std::chrono::hours(24));
                                }
                              }});
  TimePoint limit = world.Now() + std::chrono::hours(1);
  for (size_t i = 0; i < phases.size(); i++) {
    while (finished <= i && world.Now() < limit && world.Step()) {
    }
    REQUIRE(finished == i + 1);
    if (i + 1 == phases.size()) break;
    if (phases[i].end == End::kCrash) {
      world.Crash("n1");
    } else {
      while (world.node("n1").running() && world.Step()) {
      }
    }
    world.Restart("n1");
  }
}

// Checks a replay against what was handed to Append: lsns 1..n without a gap, each with the
// payload appended under that lsn (so no torn, mixed or invented record).
void CheckGaplessPrefix(const Records& replayed, const std::map<uint64_t, std::string>& attempted) {
  for (size_t i = 0; i < replayed.size(); i++) {
    REQUIRE(replayed[i].first == i + 1);
    auto it = attempted.find(replayed[i].first);
    REQUIRE(it != attempted.end());
    CHECK(replayed[i].second == it->second);
  }
}

// Appender fibers keep appending until the node crashes at a seeded moment; the next boot
// replays. Returns what was replayed, what was attempted (by lsn) and acknowledged (lsn -> time).
struct CrashRun {
  Records replayed;
  std::map<uint64_t, std::string> attempted;
  std::map<uint64_t, TimePoint> acked;
  TimePoint crash_time;
};

CrashRun RunCrashDuringAppends(uint64_t seed, SyncMode mode, Duration crash_after,
                               Duration pause_max) {
  sim::World world(seed, {});
  CrashRun run;
  bool after_done = false;
  WalOptions options{.dir = "/wal", .mode = mode, .segment_bytes = 16 * 1024};
  auto boot = [&](sim::SimEnv& env) {
    if (env.node().boots() > 1) {
      auto wal = OpenWal(env, options, 1, &run.replayed);
      after_done = true;
      return;
    }
    auto wal = OpenWal(env, options, 1);
    Executor& executor = env.CurrentExecutor();
    for (int f = 0; f < 8; f++) {
      executor.Spawn("appender", [&, f] {
        for (uint64_t i = 0;; i++) {
          std::string payload = Payload(seed * 1'000'000 + f * 100'000 + i, env.RandomU64() % 3000);
          uint64_t expected = wal->next_lsn();
          run.attempted[expected] = payload;
          auto lsn = wal->Append(payload);
          if (!lsn) return;
          CHECK(*lsn == expected);
          run.acked[*lsn] = world.Now();
          if (pause_max.count() > 0) {
            (void)executor.Sleep(Duration(env.RandomU64() % pause_max.count()));
          }
        }
      });
    }
    (void)executor.Sleep(std::chrono::hours(24));
  };
  world.AddNode(sim::NodeSpec{"n1", 1, boot});
  world.RunFor(crash_after);
  run.crash_time = world.Now();
  world.Crash("n1");
  world.Restart("n1");
  TimePoint limit = world.Now() + std::chrono::hours(1);
  while (!after_done && world.Now() < limit && world.Step()) {
  }
  REQUIRE(after_done);
  return run;
}

TEST_CASE("kAlways: every acknowledged record survives a crash, and no torn record is replayed") {
  uint64_t acked_total = 0, lost_unacked = 0;
  for (uint64_t seed = 1; seed <= 40; seed++) {
    CAPTURE(seed);
    CrashRun run = RunCrashDuringAppends(seed, SyncMode::kAlways, milliseconds(5 + (seed * 7) % 60),
                                         Duration(0));
    CheckGaplessPrefix(run.replayed, run.attempted);
    for (const auto& [lsn, when] : run.acked) CHECK(lsn <= run.replayed.size());
    acked_total += run.acked.size();
    lost_unacked += run.attempted.size() - run.replayed.size();
  }
  MESSAGE(acked_total, " acknowledged records over 40 crashes all survived; ", lost_unacked,
          " unacknowledged ones were lost");
  CHECK(acked_total > 1000);
}

TEST_CASE("kEverySec and kNo: after a crash the replay is a gapless prefix of the appends") {
  for (SyncMode mode : {SyncMode::kEverySec, SyncMode::kNo}) {
    CAPTURE(ModeName(mode));
    uint64_t old_acked = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
      CAPTURE(seed);
      CrashRun run =
          RunCrashDuringAppends(seed, mode, milliseconds(1500 + seed * 97), milliseconds(4));
      CheckGaplessPrefix(run.replayed, run.attempted);
      if (mode == SyncMode::kEverySec) {
        // The background fiber syncs once a second: what was acknowledged more than a second
        // (plus a sync's latency) before the crash is durable.
        for (const auto& [lsn, when] : run.acked) {
          if (when + milliseconds(1100) < run.crash_time) {
            CHECK(lsn <= run.replayed.size());
            old_acked++;
          }
        }
      }
    }
    if (mode == SyncMode::kEverySec) CHECK(old_acked > 1000);
  }
}

TEST_CASE("kEverySec syncs in the background within a second; kNo only when asked") {
  for (SyncMode mode : {SyncMode::kEverySec, SyncMode::kNo}) {
    CAPTURE(ModeName(mode));
    testing::RunInEnv(testing::EnvKind::kSimulation, 1, [&](Env& env, const std::string& root) {
      Executor& executor = env.CurrentExecutor();
      auto wal = OpenWal(env, {.dir = JoinPath(root, "wal"), .mode = mode}, 1);
      uint64_t syncs = wal->stats().syncs;
      (void)AppendMany(*wal, 10, 100);
      CHECK(wal->stats().syncs == syncs);  // appends return after the write
      MustOk(executor.Sleep(milliseconds(1500)));
      uint64_t expected = syncs + (mode == SyncMode::kEverySec ? 1 : 0);
      CHECK(wal->stats().syncs == expected);
      MustOk(executor.Sleep(seconds(5)));  // idle: nothing to sync
      CHECK(wal->stats().syncs == expected);
      MustOk(wal->Sync());
      CHECK(wal->stats().syncs == syncs + 1);
      MustOk(wal->Close());
    });
  }
}

TEST_CASE("an injected write error fails the log for good, until it is reopened") {
  sim::FaultOptions faults;
  faults.disk_error_probability = 1.0;
  faults.disk_error_budget = 0;  // armed below, for exactly one operation
  testing::RunInEnv(
      testing::EnvKind::kSimulation, 1,
      [](Env& env, const std::string& root) {
        sim::World& world = static_cast<sim::SimEnv&>(env).world();
        WalOptions options{.dir = JoinPath(root, "wal")};
        auto wal = OpenWal(env, options, 1);
        Records acked = AppendMany(*wal, 3, 50);
        world.disk_error_budget() = 1;
        auto failed = wal->Append(Payload(99, 50));
        REQUIRE_FALSE(failed.has_value());
        CHECK(failed.error().code() == StatusCode::kIoError);
        CHECK(world.disk_error_budget() == 0);  // the disk works again, the log stays failed
        auto again = wal->Append(Payload(100, 50));
        REQUIRE_FALSE(again.has_value());
        CHECK(again.error().code() == StatusCode::kIoError);
        CHECK(wal->Sync().code() == StatusCode::kIoError);
        CHECK(wal->Close().code() == StatusCode::kIoError);
        Records replayed;
        wal = OpenWal(env, options, 1, &replayed);
        CHECK(replayed == acked);
        auto lsn = wal->Append(Payload(101, 50));
        REQUIRE(lsn.has_value());
        CHECK(*lsn == 4);
        MustOk(wal->Close());
      },
      5, faults);
}

TEST_CASE("fsyncgate: after a failed sync and an exit, records read back are made durable") {
  // Boot 1 fails an fsync (the simulated kernel drops the dirty pages but keeps them visible)
  // and exits. Boot 2 reads them back, replays them, and appends more under kAlways. A crash
  // must then keep everything boot 2 replayed or acknowledged; without recovery's rewrite of the
  // last segment, the dropped pages would hide boot 2's records from boot 3.
  for (SyncMode mode : {SyncMode::kAlways, SyncMode::kEverySec}) {
    CAPTURE(ModeName(mode));
    sim::FaultOptions faults;
    faults.disk_error_probability = 1.0;
    faults.disk_error_budget = 0;
    sim::World world(17, faults);
    WalOptions options{.dir = "/wal", .mode = mode};
    Records boot2;
    RunPhases(world, {
                         Phase{[&](sim::SimEnv& env) {
                                 auto wal = OpenWal(env, options, 1);
                                 (void)AppendMany(*wal, 3, 700);
                                 MustOk(wal->Sync());
                                 Executor& executor = env.CurrentExecutor();
                                 // Arm the fault once the 4th record is written: its sync is what
                                 // fails.
                                 FiberHandle arm = executor.Spawn("arm", [&] {
                                   while (wal->stats().records < 4) executor.Yield();
                                   world.disk_error_budget() = 1;
                                 });
                                 auto failed = wal->Append(Payload(4, 700));
                                 if (mode == SyncMode::kEverySec) {
                                   REQUIRE(failed.has_value());
                                   MustOk(arm.Join());
                                   failed = Err(wal->Sync());
                                 }
                                 MustOk(arm.Join());
                                 REQUIRE_FALSE(failed.has_value());
                                 CHECK(failed.error().code() == StatusCode::kIoError);
                                 CHECK_FALSE(wal->Append(Payload(5, 700)).has_value());
                               },
                               End::kExit},
                         Phase{[&](sim::SimEnv& env) {
                           auto wal =
                               OpenWal(env, {.dir = "/wal", .mode = SyncMode::kAlways}, 1, &boot2);
                           CHECK(boot2.size() ==
                                 4);  // the record whose sync failed is read back from the cache
                           Records more = AppendMany(*wal, 6, 700, 50);
                           boot2.insert(boot2.end(), more.begin(), more.end());
                         }},
                         Phase{[&](sim::SimEnv& env) {
                                 Records boot3;
                                 auto wal = OpenWal(env, options, 1, &boot3);
                                 CHECK(boot3 == boot2);
                               },
                               End::kExit},
                     });
  }
}

}  // namespace
}  // namespace tierkv::tiers
