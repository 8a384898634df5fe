// The tierkv half of `tierkv-bench engine`: the engine inside an io::ProdEnv with one executor;
// a phase's workers are fibers on that executor (the way a shard serves its connections), so
// concurrent writers share WAL syncs (group commit) and concurrent readers keep several page
// reads in flight through io_uring.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "io/prod_env.h"
#include "tiers/engine.h"
#include "tools/bench/engine_bench.h"

namespace tierkv::bench {
namespace {

class TierkvBench {
 public:
  TierkvBench(Env& env, const EngineBenchOptions& options, std::string dir)
      : env_(env),
        options_(options),
        dir_(std::move(dir)),
        values_(options.seed, options.value_size) {}

  EngineReport Run() {
    report_.engine = "tierkv";
    Status status = RunPhases();
    if (!status.ok()) report_.error = status.ToString();
    if (engine_ != nullptr) {
      Status closed = engine_->Close();
      if (!closed.ok() && report_.error.empty()) report_.error = "close: " + closed.ToString();
      engine_.reset();
    }
    Status removed = RemoveTree(dir_);
    if (!removed.ok() && report_.error.empty()) report_.error = "cleanup: " + removed.ToString();
    return std::move(report_);
  }

 private:
  tiers::EngineOptions EngineOptionsFor() const {
    return tiers::EngineOptions{.dir = dir_,
                                .sync = options_.sync,
                                .cache_bytes = options_.cache_mb << 20,
                                .memtable_bytes = options_.memtable_mb << 20,
                                .memory_bytes = options_.maxmemory_mb << 20,
                                .background_checkpoints = true};
  }

  // Wakes every 10 ms until Stop() and records: the peak of the engine's memtable bytes (active
  // + frozen: how far writes push memory past the budget); how late its wake-ups come (the
  // longest time the executor ran without letting other fibers in, e.g. a checkpoint's CPU
  // work); and, on stderr, when each checkpoint finishes.
  class MemtableSampler {
   public:
    MemtableSampler(Executor& executor, tiers::Engine& engine) {
      fiber_ = executor.Spawn("memtable-sampler", [this, &executor, &engine] {
        TimePoint start = executor.Now();
        uint64_t checkpoints = engine.stats().checkpoints;
        while (true) {
          tiers::EngineStats stats = engine.stats();
          peak_ = std::max(peak_, stats.memtable_bytes);
          if (stats.checkpoints != checkpoints) {
            checkpoints = stats.checkpoints;
            fmt::print(stderr, "tierkv: +{:.1f} s: checkpoint {} finished, memtables now {}\n",
                       ToSeconds(executor.Now() - start), stats.generation,
                       FormatBytes(stats.memtable_bytes));
          }
          TimePoint before = executor.Now();
          if (!executor.Sleep(milliseconds(10)).ok()) return;
          stall_ = std::max(stall_, executor.Now() - before - milliseconds(10));
        }
      });
    }
    Duration stall() const { return stall_; }
    ~MemtableSampler() { (void)Stop(); }
    uint64_t Stop() {
      if (fiber_.valid()) {
        fiber_.Cancel();
        (void)fiber_.Join();
        fiber_ = FiberHandle();
      }
      return peak_;
    }

   private:
    FiberHandle fiber_;
    uint64_t peak_ = 0;
    Duration stall_{0};
  };

  std::string SamplerNote(const MemtableSampler& sampler, uint64_t peak) const {
    return fmt::format("memtables peaked at {} (budget {} MiB); executor blocked up to {:.0f} ms",
                       FormatBytes(peak), options_.memtable_mb, ToSeconds(sampler.stall()) * 1e3);
  }

  Status RunPhases() {
    auto exists = env_.Exists(dir_);
    if (!exists) return exists.error();
    if (*exists) {
      return Status(StatusCode::kAlreadyExists,
                    dir_ + " exists (the engine would recover it, not load it): remove it first");
    }
    TK_RETURN_IF_ERROR(env_.CreateDir(DirName(dir_)));
    uint64_t rss_before = ReadRssBytes();
    auto engine = tiers::Engine::Open(env_, EngineOptionsFor());
    if (!engine) return engine.error();
    engine_ = std::move(*engine);
    TK_RETURN_IF_ERROR(Load());
    TK_RETURN_IF_ERROR(AddRss("RSS after load (growth since open)", rss_before));
    TK_RETURN_IF_ERROR(AddDisk());
    bool rss_reported = false;
    for (const PhasePlan& phase : PlanPhases(options_)) {
      fmt::print(stderr, "tierkv: {}\n", phase.name);
      switch (phase.kind) {
        case PhasePlan::Kind::kWorkers: TK_RETURN_IF_ERROR(Phase(phase)); break;
        case PhasePlan::Kind::kScan: TK_RETURN_IF_ERROR(Scan(phase)); break;
        case PhasePlan::Kind::kReopen:
          TK_RETURN_IF_ERROR(AddRss(std::string(kRssAfterPhases), rss_before));
          rss_reported = true;
          TK_RETURN_IF_ERROR(Reopen(phase));
          break;
      }
    }
    if (!rss_reported) TK_RETURN_IF_ERROR(AddRss(std::string(kRssAfterPhases), rss_before));
    return Status::Ok();
  }

  Status Load() {
    fmt::print(stderr, "tierkv: loading {} keys\n", options_.keys);
    const Clock& clock = env_.clock();
    ProcIo io_before = ReadProcIo();
    MemtableSampler sampler(env_.CurrentExecutor(), *engine_);
    TimePoint start = clock.Now();
    std::string key;
    for (uint64_t first = 0; first < options_.keys; first += options_.load_batch) {
      tiers::WriteBatch batch;
      uint64_t end = std::min(options_.keys, first + options_.load_batch);
      for (uint64_t index = first; index < end; index++) {
        FormatKey(index, key);
        batch.Put(key, values_.ForLoad(index));
      }
      TK_RETURN_IF_ERROR(engine_->Write(batch));
    }
    Duration loaded = clock.Now() - start;
    uint64_t memtable_peak = sampler.Stop();
    uint64_t checkpoints_during = engine_->stats().checkpoints;
    TimePoint persist_start = clock.Now();
    TK_RETURN_IF_ERROR(engine_->Checkpoint());
    Duration persisted = clock.Now() - persist_start;
    double rate = static_cast<double>(options_.keys) / ToSeconds(loaded);
    report_.rows.push_back(PhaseResult{
        .phase =
            fmt::format("load {} keys in order, batches of {}", options_.keys, options_.load_batch),
        .result = fmt::format("{:.0f} keys/s", rate),
        .value = rate,
        .notes =
            fmt::format("{:.1f} s; {} checkpoints during the load, final checkpoint {:.1f} s; "
                        "{}; {}",
                        ToSeconds(loaded), checkpoints_during, ToSeconds(persisted),
                        SamplerNote(sampler, memtable_peak), IoNote(io_before, options_.keys))});
    return Status::Ok();
  }

  Status AddRss(std::string phase, uint64_t rss_before) {
    RssSample rss = SampleRss(rss_before);
    tiers::EngineStats stats = engine_->stats();
    report_.rows.push_back(PhaseResult{
        .phase = std::move(phase),
        .result = FormatBytes(rss.growth),
        .value = static_cast<double>(rss.growth),
        .notes = fmt::format("{}, peak {} (tierkv runs first: its own), peak growth {}; node "
                             "cache {} in {} nodes, memtables {}",
                             rss.note, FormatBytes(ReadRssBytes(/*peak=*/true)),
                             FormatBytes(ReadRssBytes(/*peak=*/true) - rss_before),
                             FormatBytes(stats.cache.bytes), stats.cache.nodes,
                             FormatBytes(stats.memtable_bytes))});
    return Status::Ok();
  }

  Status AddDisk() {
    auto bytes = DiskBytes(dir_);
    if (!bytes) return bytes.error();
    tiers::EngineStats stats = engine_->stats();
    report_.rows.push_back(
        PhaseResult{.phase = "disk bytes after load",
                    .result = FormatBytes(*bytes),
                    .value = static_cast<double>(*bytes),
                    .notes = fmt::format("data file {} pages, {} used; {} WAL segments",
                                         stats.file_pages, stats.used_pages, stats.wal.segments)});
    return Status::Ok();
  }

  Status Phase(const PhasePlan& phase) {
    Executor& executor = env_.CurrentExecutor();
    const Clock& clock = env_.clock();
    PhaseSpec spec{.workload = phase.workload,
                   .keys = options_.keys,
                   .deadline = DeadlineAfter(clock.Now(), PhaseDuration(options_)),
                   .seed = phase.seed,
                   // Exact bytes only while nothing overwrote them: a phase that writes too
                   // (the mix) changes what its own later reads find.
                   .check_values = !overwritten_ && phase.workload == Workload::kRead};
    OpBudget budget(options_.ops);
    std::vector<WorkerResult> results(phase.workers);
    tiers::EngineStats before = engine_->stats();
    ProcIo io_before = ReadProcIo();
    MemtableSampler sampler(executor, *engine_);
    TimePoint start = clock.Now();
    std::vector<FiberHandle> fibers;
    for (int w = 0; w < phase.workers; w++) {
      fibers.push_back(executor.Spawn("bench-worker", [&, w] {
        auto get = [&](std::string_view key, std::string& value, bool& found) -> Status {
          auto got = engine_->Get(key);
          if (!got) return got.error();
          found = got->has_value();
          if (found) value = std::move(**got);
          return Status::Ok();
        };
        auto put = [&](std::string_view key, std::string_view value) {
          return engine_->Put(key, value);
        };
        RunWorker(spec, values_, clock, budget, w, get, put, results[w]);
      }));
    }
    for (FiberHandle& fiber : fibers) TK_RETURN_IF_ERROR(fiber.Join());
    PhaseResult row = SummarizePhase(phase.name, results, clock.Now() - start);
    uint64_t memtable_peak = sampler.Stop();
    tiers::EngineStats after = engine_->stats();
    uint64_t hits = after.cache.hits - before.cache.hits;
    uint64_t misses = after.cache.misses - before.cache.misses;
    row.notes +=
        fmt::format("; node cache hits {:.1f}% ({} misses)",
                    100.0 * static_cast<double>(hits) / std::max<double>(1, hits + misses), misses);
    if (phase.workload != Workload::kRead) {
      uint64_t records = after.wal.records - before.wal.records;
      uint64_t syncs = after.wal.syncs - before.wal.syncs;
      row.notes +=
          fmt::format("; {} WAL records, {} syncs; {} checkpoints; {}", records, syncs,
                      after.checkpoints - before.checkpoints, SamplerNote(sampler, memtable_peak));
      overwritten_ = true;
    }
    row.notes += "; " + IoNote(io_before, row.ops);
    report_.rows.push_back(std::move(row));
    for (const WorkerResult& result : results) {
      if (!result.error.ok()) return result.error;
    }
    return Status::Ok();
  }

  Status Scan(const PhasePlan& phase) {
    const Clock& clock = env_.clock();
    TimePoint deadline = DeadlineAfter(clock.Now(), PhaseDuration(options_));
    tiers::EngineStats before = engine_->stats();
    ProcIo io_before = ReadProcIo();
    TimePoint start = clock.Now();
    auto iterator = engine_->NewIterator();
    uint64_t count = 0, bytes = 0;
    TK_RETURN_IF_ERROR(iterator->SeekToFirst());
    while (iterator->Valid() && clock.Now() < deadline) {
      auto value = iterator->value();
      if (!value) return value.error();
      bytes += iterator->key().size() + value->size();
      count++;
      TK_RETURN_IF_ERROR(iterator->Next());
    }
    Duration elapsed = clock.Now() - start;
    tiers::EngineStats after = engine_->stats();
    double rate = static_cast<double>(count) / ToSeconds(elapsed);
    report_.rows.push_back(PhaseResult{
        .phase = phase.name,
        .result = fmt::format("{:.0f} keys/s", rate),
        .value = rate,
        .notes = fmt::format("{} keys ({}) in {:.1f} s{}; node cache misses {}; {}", count,
                             FormatBytes(bytes), ToSeconds(elapsed),
                             count < options_.keys ? " (stopped by --phase-seconds)" : "",
                             after.cache.misses - before.cache.misses, IoNote(io_before, count))});
    return Status::Ok();
  }

  Status Reopen(const PhasePlan& phase) {
    const Clock& clock = env_.clock();
    TimePoint start = clock.Now();
    TK_RETURN_IF_ERROR(engine_->Close());
    engine_.reset();
    Duration closed = clock.Now() - start;
    start = clock.Now();
    auto engine = tiers::Engine::Open(env_, EngineOptionsFor());
    if (!engine) return engine.error();
    engine_ = std::move(*engine);
    Duration opened = clock.Now() - start;
    tiers::EngineStats stats = engine_->stats();
    report_.rows.push_back(PhaseResult{
        .phase = phase.name,
        .result = fmt::format("{:.2f} s", ToSeconds(opened)),
        .value = ToSeconds(opened),
        .notes = fmt::format("close {:.2f} s; open read {} pages (superblocks and the saved allocation map; the tree only when the map is missing or damaged)",
                             ToSeconds(closed), stats.cache.misses)});
    return Status::Ok();
  }

  // Sum of the sizes of the files under `path` (a file or a directory).
  Result<uint64_t> DiskBytes(const std::string& path) {
    auto names = env_.ListDir(path);
    if (names) {
      uint64_t total = 0;
      for (const std::string& name : *names) {
        auto bytes = DiskBytes(JoinPath(path, name));
        if (!bytes) return bytes;
        total += *bytes;
      }
      return total;
    }
    auto file = env_.OpenFile(path, {.read_only = true});
    if (!file) return Err(file.error());
    return (*file)->Size();
  }

  // Removes `path` and everything under it. Directories go through std::remove (the Env has no
  // RemoveDir; this is a tool, allowed to call the OS).
  Status RemoveTree(const std::string& path) {
    auto names = env_.ListDir(path);
    if (!names) {
      Status status = env_.RemoveFile(path);
      return status.code() == StatusCode::kNotFound ? Status::Ok() : status;
    }
    for (const std::string& name : *names) TK_RETURN_IF_ERROR(RemoveTree(JoinPath(path, name)));
    if (std::remove(path.c_str()) != 0)
      return Status(StatusCode::kIoError, "cannot remove " + path);
    return Status::Ok();
  }

  Env& env_;
  const EngineBenchOptions& options_;
  const std::string dir_;
  const ValueSource values_;
  std::unique_ptr<tiers::Engine> engine_;
  bool overwritten_ = false;
  EngineReport report_;
};

}  // namespace

EngineReport RunTierkvEngineBench(const EngineBenchOptions& options, const std::string& dir) {
  io::ProdEnv env({.node_name = "bench", .executors = 1, .log_level = "warn"});
  EngineReport report;
  env.Run([&] { report = TierkvBench(env, options, dir).Run(); });
  return report;
}

}  // namespace tierkv::bench
