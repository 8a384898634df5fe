// `tierkv-bench engine`: the same workloads on the tierkv storage engine and on RocksDB, in one
// run, printed as one Markdown table. This header holds what both sides share, so that they see
// exactly the same keys, values, operation mix and per-worker random streams:
//   - options and the workload list;
//   - keys "key%012d" (one ordered keyspace for both) and values cut from one pool of Prng bytes;
//   - RunWorker: the loop one worker (a fiber for tierkv, a thread for RocksDB) runs in a phase;
//   - PhaseResult rows, which engine_bench.cc renders side by side.
// The engine-specific halves: tierkv_engine_bench.cc (fibers on one ProdEnv executor) and
// rocksdb_bench.cc (RocksDB's blocking API on threads started through RocksDB's own Env, built
// only when Meson finds librocksdb).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "tiers/wal.h"
#include "tools/bench/bench_util.h"

namespace tierkv::bench {

enum class Workload { kRead, kWrite, kMixed };

struct EngineBenchOptions {
  std::string dir = "bench-tmp";
  uint64_t keys = 1000000;
  size_t value_size = 100;
  // Phases after the load, in order: scan, read, write, mixed, writers, reopen.
  std::vector<std::string> workloads = {"read", "write", "mixed", "writers", "reopen"};
  uint64_t ops = 1000000;      // per phase (each worker draws from one shared budget)
  double phase_seconds = 60;   // a phase also ends after this long (bounded runs)
  int concurrency = 32;        // tierkv: fibers on one executor; RocksDB: threads
  int writers = 50;            // the "acknowledged writes" phase
  uint64_t cache_mb = 64;      // tierkv node cache = RocksDB block cache
  uint64_t memtable_mb = 64;   // tierkv memtable budget = RocksDB write_buffer_size
  // tierkv's maxmemory share (EngineOptions::memory_bytes); when set, cache_mb and memtable_mb
  // become the split it implies (half, a sixteenth) for both engines.
  uint64_t maxmemory_mb = 0;
  uint64_t load_batch = 1000;  // keys per WriteBatch while loading
  tiers::SyncMode sync = tiers::SyncMode::kAlways;
  uint64_t seed = 1;
  bool tierkv = true;
  bool rocksdb = true;
};

std::string_view SyncModeName(tiers::SyncMode mode);

// "key000000001234": 15 bytes, fixed width so the numeric and byte orders agree.
inline constexpr size_t kKeyBytes = 15;
void FormatKey(uint64_t index, std::string& out);

// Values: slices of one pool of pseudo-random bytes (incompressible, deterministic).
class ValueSource {
 public:
  ValueSource(uint64_t seed, size_t value_size);
  // The value the load writes for key `index` (reads check it until the first overwrite).
  std::string_view ForLoad(uint64_t index) const;
  std::string_view Random(Prng& prng) const;
  size_t value_size() const { return value_size_; }

 private:
  static constexpr size_t kPoolBytes = 1 << 20;
  size_t value_size_;
  std::string pool_;
};

// One row of the table for one engine.
struct PhaseResult {
  std::string phase;
  std::string result;  // "123456 ops/s", "1.2 GiB"
  double value = 0;    // the number behind `result`, for the tierkv / RocksDB column
  uint64_t ops = 0;    // operations behind the row, when it is a phase
  bool has_latency = false;
  double p50_us = 0, p99_us = 0, p999_us = 0;
  std::string notes;
};

struct EngineReport {
  std::string engine;
  std::vector<PhaseResult> rows;
  std::string error;  // set when the engine failed; rows so far are kept
};

EngineReport RunTierkvEngineBench(const EngineBenchOptions& options, const std::string& dir);
#ifdef TIERKV_HAVE_ROCKSDB
EngineReport RunRocksdbEngineBench(const EngineBenchOptions& options, const std::string& dir);
#endif

// VmRSS (or, with peak, VmHWM) of this process, from /proc/self/status (0 if unreadable).
uint64_t ReadRssBytes(bool peak = false);
std::string FormatBytes(uint64_t bytes);

// VmRSS now (growth since `rss_before`) and after malloc_trim(0), which hands freed heap back to
// the OS: the difference is memory the engine freed but glibc kept (fragmentation).
struct RssSample {
  uint64_t growth = 0;
  std::string note;  // "VmRSS 300.0 MiB (120.0 MiB after malloc_trim)"
};
RssSample SampleRss(uint64_t rss_before);

// Bytes this process (all its threads, io_uring's included) made the kernel read from and write
// to storage, from /proc/self/io: the device traffic of a phase, for both engines alike.
struct ProcIo {
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
};
ProcIo ReadProcIo();
// "disk read 1.2 MiB, written 40.0 MiB (410 B per op)" since `before`.
std::string IoNote(const ProcIo& before, uint64_t ops);

// ---------------------------------------------------------------------------------------------
// Phases

struct PhaseSpec {
  Workload workload = Workload::kRead;
  uint64_t keys = 0;
  TimePoint deadline;
  uint64_t seed = 0;          // worker w uses Prng(seed * 1000003 + w) on both engines
  bool check_values = false;  // reads compare with ValueSource::ForLoad (no overwrite yet)
};

// Operation slots shared by a phase's workers (atomic: RocksDB's workers are threads).
struct OpBudget {
  explicit OpBudget(uint64_t limit) : limit(limit) {}
  bool Take() { return next.fetch_add(1, std::memory_order_relaxed) < limit; }
  std::atomic<uint64_t> next{0};
  const uint64_t limit;
};

struct WorkerResult {
  uint64_t reads = 0, writes = 0;
  uint64_t missing = 0, wrong = 0;  // reads of loaded keys that found nothing / a bad value
  Status error;
  LatencyRecorder latency;
};

// The loop of one worker. `get(key, value&, found&)` and `put(key, value)` return Status.
template <typename GetFn, typename PutFn>
void RunWorker(const PhaseSpec& spec, const ValueSource& values, const Clock& clock,
               OpBudget& budget, uint64_t worker, GetFn&& get, PutFn&& put, WorkerResult& out) {
  Prng prng(spec.seed * 1000003 + worker);
  std::string key, value;
  while (clock.Now() < spec.deadline && budget.Take()) {
    uint64_t index = prng.Uniform(spec.keys);
    FormatKey(index, key);
    bool write = spec.workload == Workload::kWrite ||
                 (spec.workload == Workload::kMixed && prng.Chance(0.1));
    std::string_view new_value = values.Random(prng);
    TimePoint start = clock.Now();
    Status status;
    bool found = false;
    if (write) {
      status = put(key, new_value);
    } else {
      status = get(key, value, found);
    }
    out.latency.Add(clock.Now() - start);
    if (!status.ok()) {
      out.error = status;
      return;
    }
    if (write) {
      out.writes++;
      continue;
    }
    out.reads++;
    if (!found) {
      out.missing++;
    } else if (value.size() != values.value_size() ||
               (spec.check_values && value != values.ForLoad(index))) {
      out.wrong++;
    }
  }
}

// What the phases after the load are, in --workloads order; the same plan for both engines, so
// rows line up and workers draw the same random streams.
struct PhasePlan {
  enum class Kind { kWorkers, kScan, kReopen };
  Kind kind = Kind::kWorkers;
  std::string name;  // the row's label
  Workload workload = Workload::kRead;
  int workers = 1;
  uint64_t seed = 0;
};
std::vector<PhasePlan> PlanPhases(const EngineBenchOptions& options);
Duration PhaseDuration(const EngineBenchOptions& options);
inline constexpr std::string_view kRssAfterPhases = "RSS after the phases (growth since open)";

// Folds the workers' results into one row ("N ops/s" with latency percentiles).
PhaseResult SummarizePhase(std::string phase, std::vector<WorkerResult>& workers, Duration elapsed);

}  // namespace tierkv::bench
