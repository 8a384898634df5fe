// The RocksDB half of `tierkv-bench engine` (built only when Meson finds librocksdb).
//
// Configured to compete on the same terms as tierkv:
//   - one block cache of --cache-mb (NewLRUCache) that also holds the (partitioned) index and
//     filter blocks, as tierkv's node cache holds inner nodes; 4 KiB blocks like tierkv's pages;
//     a 10-bit Bloom filter (the usual point-lookup setting);
//   - direct I/O for reads, flushes and compactions, so that neither engine reads through the OS
//     page cache (tierkv's pages are O_DIRECT; the WALs of both are buffered files);
//   - no compression (tierkv has none yet); write_buffer_size = tierkv's memtable budget, two of
//     them, like tierkv's active + checkpointing memtables;
//   - sync modes: always -> WriteOptions.sync = true (RocksDB's write group shares one WAL sync
//     among concurrent writers, as tierkv's group commit does); everysec -> sync = false plus a
//     thread calling DB::SyncWAL() once a second while writers run (Redis's everysec, tierkv's
//     kEverySec); no -> sync = false, WAL on, never synced explicitly.
// RocksDB's API blocks, so a phase's C workers are C threads. They are started through
// RocksDB's own Env (StartThread/WaitForJoin): tierkv's seam check keeps std::thread out of
// tools/, and RocksDB already runs its own background threads that way. Latency is timed with
// the production Env's clock, the same one the tierkv half uses.
#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <functional>
#include <memory>

#include "io/prod_env.h"
#include "tools/bench/engine_bench.h"

namespace tierkv::bench {
namespace {

Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  return Status(StatusCode::kIoError, fmt::format("rocksdb {}: {}", what, status.ToString()));
}

class RocksdbBench {
 public:
  RocksdbBench(const EngineBenchOptions& options, std::string dir)
      : options_(options), dir_(std::move(dir)), values_(options.seed, options.value_size) {
    statistics_ = rocksdb::CreateDBStatistics();
    db_options_.create_if_missing = true;
    db_options_.compression = rocksdb::kNoCompression;
    db_options_.write_buffer_size = options.memtable_mb << 20;
    db_options_.max_write_buffer_number = 2;
    db_options_.use_direct_reads = true;
    db_options_.use_direct_io_for_flush_and_compaction = true;
    db_options_.statistics = statistics_;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(options.cache_mb << 20);
    table.block_size = 4096;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Index and filter blocks are charged to the block cache, as tierkv's inner nodes are to its
    // node cache. Partitioned (4 KiB partitions, top level pinned): whole per-file index and
    // filter blocks of ~1 MiB thrash a small sharded cache (a first run read ~40 KiB per Get).
    table.cache_index_and_filter_blocks = true;
    table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
    table.partition_filters = true;
    table.metadata_block_size = 4096;
    table.pin_top_level_index_and_filter = true;
    db_options_.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    write_options_.sync = options.sync == tiers::SyncMode::kAlways;
    write_options_.disableWAL = false;
  }

  EngineReport Run() {
    report_.engine = "RocksDB " + std::to_string(ROCKSDB_MAJOR) + "." +
                     std::to_string(ROCKSDB_MINOR) + "." + std::to_string(ROCKSDB_PATCH);
    Status status = RunPhases();
    if (!status.ok()) report_.error = status.ToString();
    db_.reset();
    rocksdb::Status destroyed = rocksdb::DestroyDB(dir_, db_options_);
    if (!destroyed.ok() && report_.error.empty())
      report_.error = "cleanup: " + destroyed.ToString();
    return std::move(report_);
  }

 private:
  Status RunPhases() {
    rocksdb::Env* env = rocksdb::Env::Default();
    if (env->FileExists(dir_).ok()) {
      return Status(StatusCode::kAlreadyExists, dir_ + " exists: remove it first");
    }
    std::string parent = DirName(dir_);
    TK_RETURN_IF_ERROR(FromRocks(env->CreateDirIfMissing(parent), "create " + parent));
    uint64_t rss_before = ReadRssBytes();
    TK_RETURN_IF_ERROR(Open());
    TK_RETURN_IF_ERROR(Load());
    AddRss("RSS after load (growth since open)", rss_before);
    TK_RETURN_IF_ERROR(AddDisk());
    bool rss_reported = false;
    for (const PhasePlan& phase : PlanPhases(options_)) {
      fmt::print(stderr, "rocksdb: {}\n", phase.name);
      switch (phase.kind) {
        case PhasePlan::Kind::kWorkers: TK_RETURN_IF_ERROR(Phase(phase)); break;
        case PhasePlan::Kind::kScan: TK_RETURN_IF_ERROR(Scan(phase)); break;
        case PhasePlan::Kind::kReopen:
          AddRss(std::string(kRssAfterPhases), rss_before);
          rss_reported = true;
          TK_RETURN_IF_ERROR(Reopen(phase));
          break;
      }
    }
    if (!rss_reported) AddRss(std::string(kRssAfterPhases), rss_before);
    return Status::Ok();
  }

  Status Open() {
    rocksdb::DB* db = nullptr;
    TK_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(db_options_, dir_, &db), "open " + dir_));
    db_.reset(db);
    return Status::Ok();
  }

  // Runs fn(0..count-1) on `count` threads and, in everysec, a thread that syncs the WAL once a
  // second until they finish. Returns the number of those periodic syncs.
  uint64_t RunThreads(int count, const std::function<void(int)>& fn) {
    struct Shared {
      const std::function<void(int)>* fn;
      std::atomic<int> running;
      std::atomic<uint64_t> syncs{0};
      rocksdb::DB* db;
      const Clock* clock;
    } shared{&fn, count, 0, db_.get(), &clock_};
    struct Arg {
      Shared* shared;
      int index;
    };
    std::vector<Arg> args;
    for (int i = 0; i < count; i++) args.push_back(Arg{&shared, i});
    rocksdb::Env* env = rocksdb::Env::Default();
    for (Arg& arg : args) {
      env->StartThread(
          [](void* raw) {
            Arg* arg = static_cast<Arg*>(raw);
            (*arg->shared->fn)(arg->index);
            arg->shared->running.fetch_sub(1);
          },
          &arg);
    }
    if (options_.sync == tiers::SyncMode::kEverySec) {
      env->StartThread(
          [](void* raw) {
            Shared* shared = static_cast<Shared*>(raw);
            TimePoint last = shared->clock->Now();
            while (shared->running.load() > 0) {
              rocksdb::Env::Default()->SleepForMicroseconds(10000);
              if (shared->clock->Now() - last < seconds(1)) continue;
              last = shared->clock->Now();
              rocksdb::Status synced = shared->db->SyncWAL();
              TK_ASSERT_MSG(synced.ok(), synced.ToString().c_str());
              shared->syncs++;
            }
          },
          &shared);
    }
    env->WaitForJoin();
    return shared.syncs.load();
  }

  Status Load() {
    fmt::print(stderr, "rocksdb: loading {} keys\n", options_.keys);
    ProcIo io_before = ReadProcIo();
    TimePoint start = clock_.Now();
    Status status;
    RunThreads(1, [&](int) {
      std::string key;
      for (uint64_t first = 0; first < options_.keys; first += options_.load_batch) {
        rocksdb::WriteBatch batch;
        uint64_t end = std::min(options_.keys, first + options_.load_batch);
        for (uint64_t index = first; index < end; index++) {
          FormatKey(index, key);
          std::string_view value = values_.ForLoad(index);
          batch.Put(key, rocksdb::Slice(value.data(), value.size()));
        }
        status = FromRocks(db_->Write(write_options_, &batch), "write");
        if (!status.ok()) return;
      }
    });
    TK_RETURN_IF_ERROR(status);
    Duration loaded = clock_.Now() - start;
    TimePoint persist_start = clock_.Now();
    TK_RETURN_IF_ERROR(FromRocks(db_->Flush(rocksdb::FlushOptions()), "flush"));
    TK_RETURN_IF_ERROR(WaitForCompactions());
    Duration persisted = clock_.Now() - persist_start;
    double rate = static_cast<double>(options_.keys) / ToSeconds(loaded);
    report_.rows.push_back(PhaseResult{
        .phase =
            fmt::format("load {} keys in order, batches of {}", options_.keys, options_.load_batch),
        .result = fmt::format("{:.0f} keys/s", rate),
        .value = rate,
        .notes = fmt::format("{:.1f} s; flush + compactions settling after the load {:.1f} s; {}",
                             ToSeconds(loaded), ToSeconds(persisted),
                             IoNote(io_before, options_.keys))});
    return Status::Ok();
  }

  // Waits (bounded) until no compaction runs or is pending, so that "disk bytes after load"
  // measures a settled tree, as tierkv's does after its checkpoint.
  Status WaitForCompactions() {
    TimePoint deadline = clock_.Now() + seconds(600);
    while (clock_.Now() < deadline) {
      uint64_t running = 0, pending = 0;
      db_->GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &running);
      db_->GetIntProperty(rocksdb::DB::Properties::kCompactionPending, &pending);
      if (running == 0 && pending == 0) return Status::Ok();
      rocksdb::Env::Default()->SleepForMicroseconds(100000);
    }
    return Status(StatusCode::kTimedOut, "rocksdb compactions still running after 600 s");
  }

  void AddRss(std::string phase, uint64_t rss_before) {
    RssSample rss = SampleRss(rss_before);
    uint64_t cache = 0, memtables = 0, readers = 0;
    db_->GetIntProperty(rocksdb::DB::Properties::kBlockCacheUsage, &cache);
    db_->GetIntProperty(rocksdb::DB::Properties::kSizeAllMemTables, &memtables);
    db_->GetIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem, &readers);
    report_.rows.push_back(PhaseResult{
        .phase = std::move(phase),
        .result = FormatBytes(rss.growth),
        .value = static_cast<double>(rss.growth),
        .notes = fmt::format("{}; block cache {}, memtables {}, table readers {}", rss.note,
                             FormatBytes(cache), FormatBytes(memtables), FormatBytes(readers))});
  }

  Status AddDisk() {
    rocksdb::Env* env = rocksdb::Env::Default();
    std::vector<std::string> names;
    TK_RETURN_IF_ERROR(FromRocks(env->GetChildren(dir_, &names), "list " + dir_));
    uint64_t total = 0, sst_files = 0, wal_bytes = 0;
    for (const std::string& name : names) {
      uint64_t size = 0;
      if (!env->GetFileSize(dir_ + "/" + name, &size).ok()) continue;  // a directory
      total += size;
      if (name.ends_with(".sst")) sst_files++;
      if (name.ends_with(".log")) wal_bytes += size;
    }
    report_.rows.push_back(PhaseResult{
        .phase = "disk bytes after load",
        .result = FormatBytes(total),
        .value = static_cast<double>(total),
        .notes = fmt::format("{} SST files, WAL {}", sst_files, FormatBytes(wal_bytes))});
    return Status::Ok();
  }

  uint64_t Ticker(rocksdb::Tickers ticker) const { return statistics_->getTickerCount(ticker); }

  Status Phase(const PhasePlan& phase) {
    PhaseSpec spec{.workload = phase.workload,
                   .keys = options_.keys,
                   .deadline = DeadlineAfter(clock_.Now(), PhaseDuration(options_)),
                   .seed = phase.seed,
                   // Exact bytes only while nothing overwrote them: a phase that writes too
                   // (the mix) changes what its own later reads find.
                   .check_values = !overwritten_ && phase.workload == Workload::kRead};
    OpBudget budget(options_.ops);
    std::vector<WorkerResult> results(phase.workers);
    uint64_t hits = Ticker(rocksdb::BLOCK_CACHE_HIT), misses = Ticker(rocksdb::BLOCK_CACHE_MISS);
    uint64_t wal_syncs = Ticker(rocksdb::WAL_FILE_SYNCED), stall_us = Ticker(rocksdb::STALL_MICROS);
    uint64_t flushed = Ticker(rocksdb::FLUSH_WRITE_BYTES);
    uint64_t compacted = Ticker(rocksdb::COMPACT_WRITE_BYTES);
    ProcIo io_before = ReadProcIo();
    TimePoint start = clock_.Now();
    uint64_t periodic_syncs = RunThreads(phase.workers, [&](int w) {
      rocksdb::ReadOptions read_options;
      auto get = [&](std::string_view key, std::string& value, bool& found) -> Status {
        rocksdb::Status status =
            db_->Get(read_options, rocksdb::Slice(key.data(), key.size()), &value);
        found = status.ok();
        return status.IsNotFound() ? Status::Ok() : FromRocks(status, "get");
      };
      auto put = [&](std::string_view key, std::string_view value) {
        return FromRocks(db_->Put(write_options_, rocksdb::Slice(key.data(), key.size()),
                                  rocksdb::Slice(value.data(), value.size())),
                         "put");
      };
      RunWorker(spec, values_, clock_, budget, w, get, put, results[w]);
    });
    PhaseResult row = SummarizePhase(phase.name, results, clock_.Now() - start);
    hits = Ticker(rocksdb::BLOCK_CACHE_HIT) - hits;
    misses = Ticker(rocksdb::BLOCK_CACHE_MISS) - misses;
    row.notes +=
        fmt::format("; block cache hits {:.1f}% ({} misses)",
                    100.0 * static_cast<double>(hits) / std::max<double>(1, hits + misses), misses);
    if (phase.workload != Workload::kRead) {
      row.notes +=
          fmt::format("; WAL syncs {} (+{} periodic); flushed {}, compacted {}; stalled {:.1f} s",
                      Ticker(rocksdb::WAL_FILE_SYNCED) - wal_syncs, periodic_syncs,
                      FormatBytes(Ticker(rocksdb::FLUSH_WRITE_BYTES) - flushed),
                      FormatBytes(Ticker(rocksdb::COMPACT_WRITE_BYTES) - compacted),
                      static_cast<double>(Ticker(rocksdb::STALL_MICROS) - stall_us) / 1e6);
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
    TimePoint deadline = DeadlineAfter(clock_.Now(), PhaseDuration(options_));
    uint64_t misses = Ticker(rocksdb::BLOCK_CACHE_MISS);
    ProcIo io_before = ReadProcIo();
    TimePoint start = clock_.Now();
    uint64_t count = 0, bytes = 0;
    std::unique_ptr<rocksdb::Iterator> iterator(db_->NewIterator(rocksdb::ReadOptions()));
    for (iterator->SeekToFirst(); iterator->Valid() && clock_.Now() < deadline; iterator->Next()) {
      bytes += iterator->key().size() + iterator->value().size();
      count++;
    }
    TK_RETURN_IF_ERROR(FromRocks(iterator->status(), "scan"));
    Duration elapsed = clock_.Now() - start;
    double rate = static_cast<double>(count) / ToSeconds(elapsed);
    report_.rows.push_back(PhaseResult{
        .phase = phase.name,
        .result = fmt::format("{:.0f} keys/s", rate),
        .value = rate,
        .notes = fmt::format(
            "{} keys ({}) in {:.1f} s{}; block cache misses {}; {}", count, FormatBytes(bytes),
            ToSeconds(elapsed), count < options_.keys ? " (stopped by --phase-seconds)" : "",
            Ticker(rocksdb::BLOCK_CACHE_MISS) - misses, IoNote(io_before, count))});
    return Status::Ok();
  }

  Status Reopen(const PhasePlan& phase) {
    TimePoint start = clock_.Now();
    TK_RETURN_IF_ERROR(FromRocks(db_->Close(), "close"));
    db_.reset();
    Duration closed = clock_.Now() - start;
    start = clock_.Now();
    TK_RETURN_IF_ERROR(Open());
    Duration opened = clock_.Now() - start;
    report_.rows.push_back(PhaseResult{
        .phase = phase.name,
        .result = fmt::format("{:.2f} s", ToSeconds(opened)),
        .value = ToSeconds(opened),
        .notes = fmt::format(
            "close {:.2f} s (with the WAL on, close does not flush: open replays the WAL)",
            ToSeconds(closed))});
    return Status::Ok();
  }

  const EngineBenchOptions& options_;
  const std::string dir_;
  const ValueSource values_;
  io::ProdClock clock_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  rocksdb::Options db_options_;
  rocksdb::WriteOptions write_options_;
  std::unique_ptr<rocksdb::DB> db_;
  bool overwritten_ = false;
  EngineReport report_;
};

}  // namespace

EngineReport RunRocksdbEngineBench(const EngineBenchOptions& options, const std::string& dir) {
  return RocksdbBench(options, dir).Run();
}

}  // namespace tierkv::bench
