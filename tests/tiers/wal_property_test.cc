// RapidCheck properties of the WAL under the simulator (split from wal_test.cc): random appends,
// syncs, crashes (some during recovery), clean reopens and disk errors against a model of what
// must be replayed. RC_PARAMS="seed=N" replays a failure.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "core/random.h"
#include "sim/sim_env.h"
#include "tests/env_harness.h"
#include "tests/sim/sim_helpers.h"
#include "tiers/wal.h"

namespace tierkv::tiers {
namespace {

using Records = std::vector<std::pair<uint64_t, std::string>>;

// Deterministic content for a record, so replayed bytes can be compared with what was appended.
std::string Payload(uint64_t tag, size_t size) {
  Prng prng(tag);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>('a' + prng.Uniform(26));
  return out;
}

// ---------------------------------------------------------------------------------------------
// RapidCheck: random appends, syncs, crashes, disk errors under kAlways against a model

struct Op {
  enum Kind { kAppend, kSync, kCrash, kReopen, kDiskError, kWait } kind = kAppend;
  std::vector<uint16_t> sizes;  // kAppend: one concurrent appender per size
  bool crash_during = false;    // kAppend: crash `delay_us` after the appends start
  uint32_t delay_us = 0;        // kCrash: if > 0, also crash the next boot this far into it;
                                // kWait: idle this long (kEverySec's syncer gets to run)
};

rc::Gen<Op> GenOp() {
  using rc::gen::build;
  using rc::gen::inRange;
  using rc::gen::set;
  auto sizes = rc::gen::mapcat(inRange<size_t>(1, 7), [](size_t count) {
    return rc::gen::container<std::vector<uint16_t>>(count, inRange<uint16_t>(0, 5001));
  });
  return rc::gen::weightedOneOf<Op>({
      {8, build<Op>(set(&Op::kind, rc::gen::just(Op::kAppend)), set(&Op::sizes, sizes),
                    set(&Op::crash_during, rc::gen::weightedElement<bool>({{4, false}, {1, true}})),
                    set(&Op::delay_us, inRange<uint32_t>(0, 6000)))},
      {2, build<Op>(set(&Op::kind, rc::gen::just(Op::kSync)))},
      {2, build<Op>(set(&Op::kind, rc::gen::just(Op::kCrash)),
                    set(&Op::delay_us, rc::gen::weightedElement<uint32_t>(
                                           {{3, 0}, {1, 500}, {1, 2000}, {1, 8000}})))},
      {1, build<Op>(set(&Op::kind, rc::gen::just(Op::kReopen)))},
      {1, build<Op>(set(&Op::kind, rc::gen::just(Op::kDiskError)))},
      {1, build<Op>(set(&Op::kind, rc::gen::just(Op::kWait)),
                    set(&Op::delay_us, inRange<uint32_t>(0, 1'500'000)))},
  });
}

struct Model {
  std::map<uint64_t, std::string> attempted;  // lsn -> payload handed to Append under it
  std::set<uint64_t> must_survive;  // acknowledged, synced, or replayed by a completed Open
  std::vector<std::string> errors;

  void CheckReplay(const Records& replayed) {
    for (size_t i = 0; i < replayed.size(); i++) {
      auto it = attempted.find(replayed[i].first);
      if (replayed[i].first != i + 1 || it == attempted.end() || it->second != replayed[i].second) {
        errors.push_back("replayed record " + std::to_string(i) + " has lsn " +
                         std::to_string(replayed[i].first) + " or a payload never appended");
        return;
      }
    }
    if (!must_survive.empty() && *must_survive.rbegin() > replayed.size()) {
      errors.push_back("lsn " + std::to_string(*must_survive.rbegin()) + " was acknowledged but " +
                       "replay ends at " + std::to_string(replayed.size()));
    }
    // The replayed log is now the truth: later lsns will be handed out again.
    attempted.erase(attempted.upper_bound(replayed.size()), attempted.end());
  }
};

// What the property's runs went through, to show that they reach the interesting paths.
struct Coverage {
  uint64_t runs = 0, boots = 0, crashes = 0, recovery_crashes = 0, failed_exits = 0;
  uint64_t acked = 0, replayed = 0;
};

struct Driver {
  const std::vector<Op>& ops;
  Coverage& coverage;
  WalOptions options;
  Model model;
  size_t next = 0;
  bool finished = false;
  bool crash_requested = false;
  std::optional<TimePoint> crash_at;
  uint32_t crash_next_boot_us = 0;
  bool append_failed = false;

  // The node program: (re)opens the log and runs ops until a crash, an exit or the end.
  void Boot(sim::SimEnv& env) {
    Executor& executor = env.CurrentExecutor();
    coverage.boots++;
    if (crash_next_boot_us > 0) {  // crash somewhere in this boot's recovery
      coverage.recovery_crashes++;
      crash_at = env.world().Now() + microseconds(crash_next_boot_us);
      crash_next_boot_us = 0;
      crash_requested = true;
    }
    while (true) {
      Records replayed;
      auto wal = Wal::Open(env, options, 1, [&](uint64_t lsn, std::string_view payload) {
        replayed.emplace_back(lsn, std::string(payload));
        return Status::Ok();
      });
      if (crash_requested) {  // the crash may or may not have cut the recovery short
        (void)executor.Sleep(std::chrono::hours(24));
        return;
      }
      if (!wal) {
        // An injected read, write or sync error: exit, and the world restarts the node.
        coverage.failed_exits++;
        if (wal.error().code() != StatusCode::kIoError) {
          model.errors.push_back("open failed: " + wal.error().ToString());
          finished = true;
        }
        return;
      }
      model.CheckReplay(replayed);
      coverage.replayed += replayed.size();
      for (const auto& record : replayed) model.must_survive.insert(record.first);
      switch (RunOps(env, **wal)) {
        case Next::kReopen: (void)(*wal)->Close(); continue;
        case Next::kCrash: (void)executor.Sleep(std::chrono::hours(24)); return;
        case Next::kExit: (void)(*wal)->Close(); return;
      }
    }
  }

  enum class Next { kReopen, kCrash, kExit };

  // One appender: records what it hands to Append under which lsn, and what was acknowledged.
  void AppendOne(sim::SimEnv& env, Executor& executor, Wal& wal, uint16_t size) {
    // Entered during teardown if the crash came before it ever ran (see Start in wal.cc).
    if (executor.shutting_down()) return;
    std::string payload = Payload(env.RandomU64(), size);
    uint64_t expected = wal.next_lsn();
    model.attempted[expected] = payload;
    auto lsn = wal.Append(payload);
    if (!lsn) {
      append_failed = true;
    } else if (*lsn != expected) {
      model.errors.push_back("append got lsn " + std::to_string(*lsn));
    } else {
      if (options.mode == SyncMode::kAlways) model.must_survive.insert(*lsn);
      coverage.acked++;
    }
  }

  Next RunOps(sim::SimEnv& env, Wal& wal) {
    Executor& executor = env.CurrentExecutor();
    while (next < ops.size()) {
      const Op& op = ops[next++];
      switch (op.kind) {
        case Op::kAppend: {
          append_failed = false;
          std::vector<FiberHandle> fibers;
          for (uint16_t size : op.sizes) {
            // Appenders may outlive this call (a crash during appends): they capture only what
            // lives until the crash.
            fibers.push_back(
                executor.Spawn("appender", [this, env = &env, ex = &executor, wal = &wal, size] {
                  AppendOne(*env, *ex, *wal, size);
                }));
          }
          if (op.crash_during) {
            crash_at = env.world().Now() + microseconds(op.delay_us);
            crash_requested = true;
            return Next::kCrash;
          }
          for (FiberHandle& fiber : fibers) (void)fiber.Join();
          if (append_failed) {
            coverage.failed_exits++;
            return Next::kExit;
          }
          break;
        }
        case Op::kSync: {
          uint64_t last = wal.next_lsn() - 1;
          if (!wal.Sync().ok()) {
            coverage.failed_exits++;
            return Next::kExit;
          }
          for (uint64_t lsn = 1; lsn <= last; lsn++) model.must_survive.insert(lsn);
          break;
        }
        case Op::kCrash:
          crash_requested = true;
          crash_next_boot_us = op.delay_us;
          return Next::kCrash;
        case Op::kReopen: return Next::kReopen;
        case Op::kDiskError:
          env.world().disk_error_budget() = 1;  // the next read, write or sync fails
          break;
        case Op::kWait: (void)executor.Sleep(microseconds(op.delay_us)); break;
      }
    }
    finished = true;
    return Next::kExit;
  }
};

// Runs the model over random op sequences; the mode is drawn from `modes` per run.
bool CheckProperty(const std::vector<SyncMode>& modes, Coverage& coverage) {
  return rc::check("random appends, syncs, crashes and disk errors against the model", [&] {
    const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
    const SyncMode mode = *rc::gen::elementOf(modes);
    const uint64_t segment_bytes = *rc::gen::inRange<uint64_t>(2048, 65536);
    const std::vector<Op> ops = *rc::gen::container<std::vector<Op>>(GenOp());
    sim::FaultOptions faults;
    faults.disk_error_probability = 1.0;
    faults.disk_error_budget = 0;  // Op::kDiskError arms one error at a time
    sim::World world(seed, faults);
    Driver driver{ops, coverage,
                  WalOptions{.dir = "/wal", .mode = mode, .segment_bytes = segment_bytes}};
    coverage.runs++;
    world.AddNode(sim::NodeSpec{"n1", 1, [&](sim::SimEnv& env) { driver.Boot(env); }});
    TimePoint limit = world.Now() + std::chrono::hours(10);
    bool final_check = false;
    for (int boots = 0; boots < 10000 && world.Now() < limit; boots++) {
      while (!driver.crash_requested && world.node("n1").running() && world.Step()) {
      }
      if (driver.crash_requested) {
        if (driver.crash_at) world.RunUntil(*driver.crash_at);
        driver.crash_requested = false;
        driver.crash_at.reset();
        world.Crash("n1");
        coverage.crashes++;
      } else if (world.node("n1").running()) {
        break;  // no event left: stuck
      }
      if (driver.finished) {
        if (final_check) break;
        final_check = true;  // one more boot replays and checks the final state
      }
      world.Restart("n1");
    }
    RC_ASSERT(final_check);
    RC_ASSERT(driver.model.errors == std::vector<std::string>{});
  });
}

void ReportCoverage(const Coverage& coverage) {
  MESSAGE(coverage.runs, " runs: ", coverage.boots, " boots, ", coverage.crashes, " crashes (",
          coverage.recovery_crashes, " during recovery), ", coverage.failed_exits,
          " exits after an I/O error, ", coverage.acked, " acknowledged appends, ",
          coverage.replayed, " records replayed");
}

TEST_CASE("property: under kAlways every acknowledged record is replayed, in order, gapless") {
  Coverage coverage;
  CHECK(CheckProperty({SyncMode::kAlways}, coverage));
  ReportCoverage(coverage);
}

TEST_CASE("property: under kEverySec and kNo every synced record survives, replay is gapless") {
  // Acknowledged appends are only written in these modes; what must survive is what a Sync()
  // confirmed or a completed Open replayed. Syncs from the background fiber, from Sync() and at
  // segment ends overlap here, with injected sync failures among them.
  Coverage coverage;
  CHECK(CheckProperty({SyncMode::kEverySec, SyncMode::kNo}, coverage));
  ReportCoverage(coverage);
}

}  // namespace
}  // namespace tierkv::tiers
