// `tierkv-bench engine`: option parsing, the helpers both engines share, and the one table.
// The engines run one after the other (tierkv first), each in its own subdirectory of --dir,
// which each removes when it is done; rows are printed side by side, tierkv then RocksDB.
#include "tools/bench/engine_bench.h"

#include <fmt/format.h>
#include <malloc.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace tierkv::bench {

std::string_view SyncModeName(tiers::SyncMode mode) {
  switch (mode) {
    case tiers::SyncMode::kAlways: return "always";
    case tiers::SyncMode::kEverySec: return "everysec";
    case tiers::SyncMode::kNo: return "no";
  }
  TK_UNREACHABLE();
}

void FormatKey(uint64_t index, std::string& out) {
  TK_ASSERT(index < 1000000000000ULL);
  out.assign("key000000000000");
  for (size_t i = kKeyBytes; index > 0; index /= 10) out[--i] = static_cast<char>('0' + index % 10);
}

ValueSource::ValueSource(uint64_t seed, size_t value_size) : value_size_(value_size) {
  TK_ASSERT(value_size > 0);
  Prng prng(seed);
  pool_.resize(kPoolBytes + value_size);
  for (char& c : pool_) c = static_cast<char>(prng.Next() >> 56);
}

std::string_view ValueSource::ForLoad(uint64_t index) const {
  // A multiplicative hash spreads neighbouring keys over the pool.
  uint64_t offset = (index * 0x9e3779b97f4a7c15ULL >> 20) % kPoolBytes;
  return std::string_view(pool_).substr(offset, value_size_);
}

std::string_view ValueSource::Random(Prng& prng) const {
  return std::string_view(pool_).substr(prng.Uniform(kPoolBytes), value_size_);
}

uint64_t ReadRssBytes(bool peak) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string field = peak ? "VmHWM:" : "VmRSS:";
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) {
      std::istringstream fields(line.substr(6));
      uint64_t kib = 0;
      fields >> kib;
      return kib << 10;
    }
  }
  return 0;
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes >= (1ULL << 30))
    return fmt::format("{:.2f} GiB", static_cast<double>(bytes) / (1ULL << 30));
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1ULL << 20));
}

RssSample SampleRss(uint64_t rss_before) {
  uint64_t rss = ReadRssBytes();
  malloc_trim(0);
  uint64_t trimmed = ReadRssBytes();
  return RssSample{.growth = rss > rss_before ? rss - rss_before : 0,
                   .note = fmt::format("VmRSS {} ({} after malloc_trim)", FormatBytes(rss),
                                       FormatBytes(trimmed))};
}

ProcIo ReadProcIo() {
  std::ifstream io("/proc/self/io");
  ProcIo result;
  std::string name;
  uint64_t value = 0;
  while (io >> name >> value) {
    if (name == "read_bytes:") result.read_bytes = value;
    if (name == "write_bytes:") result.write_bytes = value;
  }
  return result;
}

std::string IoNote(const ProcIo& before, uint64_t ops) {
  ProcIo now = ReadProcIo();
  uint64_t read = now.read_bytes - before.read_bytes,
           written = now.write_bytes - before.write_bytes;
  return fmt::format(
      "disk read {}, written {} ({:.0f} B written per op)", FormatBytes(read), FormatBytes(written),
      static_cast<double>(written) / static_cast<double>(std::max<uint64_t>(ops, 1)));
}

std::vector<PhasePlan> PlanPhases(const EngineBenchOptions& options) {
  using Kind = PhasePlan::Kind;
  std::vector<PhasePlan> plan;
  uint64_t seed = options.seed * 100;
  for (const std::string& workload : options.workloads) {
    if (workload == "scan") plan.push_back({Kind::kScan, "full scan in key order (one iterator)"});
    if (workload == "read") {
      plan.push_back(
          {Kind::kWorkers, "random reads", Workload::kRead, options.concurrency, seed + 1});
    }
    if (workload == "write") {
      plan.push_back(
          {Kind::kWorkers, "random writes", Workload::kWrite, options.concurrency, seed + 2});
    }
    if (workload == "mixed") {
      plan.push_back({Kind::kWorkers, "90/10 read/write mix", Workload::kMixed, options.concurrency,
                      seed + 3});
    }
    if (workload == "writers") {
      plan.push_back({Kind::kWorkers,
                      fmt::format("acknowledged writes, {} writers, sync {}", options.writers,
                                  SyncModeName(options.sync)),
                      Workload::kWrite, options.writers, seed + 4});
    }
    if (workload == "reopen")
      plan.push_back({Kind::kReopen, "reopen: open time after a clean close"});
  }
  return plan;
}

Duration PhaseDuration(const EngineBenchOptions& options) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(options.phase_seconds));
}

PhaseResult SummarizePhase(std::string phase, std::vector<WorkerResult>& workers,
                           Duration elapsed) {
  TK_ASSERT(!workers.empty());
  WorkerResult total;
  for (WorkerResult& worker : workers) {
    total.reads += worker.reads;
    total.writes += worker.writes;
    total.missing += worker.missing;
    total.wrong += worker.wrong;
    total.latency.Merge(worker.latency);
    if (total.error.ok() && !worker.error.ok()) total.error = worker.error;
  }
  uint64_t ops = total.reads + total.writes;
  double rate = static_cast<double>(ops) / std::max(ToSeconds(elapsed), 1e-9);
  PhaseResult row;
  row.phase = std::move(phase);
  row.value = rate;
  row.ops = ops;
  row.result = fmt::format("{:.0f} ops/s", rate);
  row.has_latency = true;
  row.p50_us = total.latency.Percentile(0.5) / 1e3;
  row.p99_us = total.latency.Percentile(0.99) / 1e3;
  row.p999_us = total.latency.Percentile(0.999) / 1e3;
  row.notes = fmt::format("{} ops in {:.1f} s, max latency {:.1f} ms", ops, ToSeconds(elapsed),
                          total.latency.Percentile(1.0) / 1e6);
  if (total.missing > 0 || total.wrong > 0) {
    row.notes +=
        fmt::format("; WRONG: {} reads found nothing, {} a bad value", total.missing, total.wrong);
  }
  if (!total.error.ok()) row.notes += "; ERROR: " + total.error.ToString();
  return row;
}

namespace {

void Usage() {
  fmt::print(stderr,
             "usage: tierkv-bench engine [--keys N] [--value-size B] [--mix read|write|mixed]\n"
             "         [--workloads scan,read,write,mixed,writers,reopen] [--ops N]\n"
             "         [--phase-seconds S] [--concurrency C] [--writers W] [--cache-mb M]\n"
             "         [--memtable-mb M] [--maxmemory-mb M] [--load-batch N]\n"
             "         [--sync always|everysec|no]\n"
             "         [--dir D] [--seed S] [--engines tierkv,rocksdb]\n");
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

bool ParseOptions(int argc, char** argv, EngineBenchOptions& options) {
  static const std::vector<std::string> kWorkloads = {"scan",  "read",    "write",
                                                      "mixed", "writers", "reopen"};
  for (int i = 0; i < argc; i++) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    std::string value = argv[++i];
    if (arg == "--keys")
      options.keys = std::stoull(value);
    else if (arg == "--value-size")
      options.value_size = std::stoull(value);
    else if (arg == "--mix")
      options.workloads = {value};
    else if (arg == "--workloads")
      options.workloads = SplitList(value);
    else if (arg == "--ops")
      options.ops = std::stoull(value);
    else if (arg == "--phase-seconds")
      options.phase_seconds = std::stod(value);
    else if (arg == "--concurrency")
      options.concurrency = std::stoi(value);
    else if (arg == "--writers")
      options.writers = std::stoi(value);
    else if (arg == "--cache-mb")
      options.cache_mb = std::stoull(value);
    else if (arg == "--memtable-mb")
      options.memtable_mb = std::stoull(value);
    else if (arg == "--maxmemory-mb")
      options.maxmemory_mb = std::stoull(value);
    else if (arg == "--load-batch")
      options.load_batch = std::stoull(value);
    else if (arg == "--dir")
      options.dir = value;
    else if (arg == "--seed")
      options.seed = std::stoull(value);
    else if (arg == "--sync") {
      if (value == "always")
        options.sync = tiers::SyncMode::kAlways;
      else if (value == "everysec")
        options.sync = tiers::SyncMode::kEverySec;
      else if (value == "no")
        options.sync = tiers::SyncMode::kNo;
      else
        return false;
    } else if (arg == "--engines") {
      auto engines = SplitList(value);
      options.tierkv = std::find(engines.begin(), engines.end(), "tierkv") != engines.end();
      options.rocksdb = std::find(engines.begin(), engines.end(), "rocksdb") != engines.end();
    } else {
      return false;
    }
  }
  for (const std::string& workload : options.workloads) {
    if (std::find(kWorkloads.begin(), kWorkloads.end(), workload) == kWorkloads.end()) return false;
  }
  if (options.maxmemory_mb > 0) {
    options.cache_mb = options.maxmemory_mb / 2;
    options.memtable_mb = std::max<uint64_t>(options.maxmemory_mb / 16, 1);
  }
  return options.keys > 0 && options.value_size > 0 && options.concurrency > 0 &&
         options.writers > 0 && options.load_batch > 0 && options.phase_seconds > 0;
}

std::string Latency(const PhaseResult& row, double PhaseResult::*field) {
  return row.has_latency ? fmt::format("{:.1f}", row.*field) : "-";
}

std::string Render(const std::vector<EngineReport>& reports) {
  Table table(
      {"phase", "engine", "result", "p50 us", "p99 us", "p99.9 us", "tierkv / RocksDB", "notes"});
  std::vector<std::string> phases;
  for (const EngineReport& report : reports) {
    for (const PhaseResult& row : report.rows) {
      if (std::find(phases.begin(), phases.end(), row.phase) == phases.end()) {
        phases.push_back(row.phase);
      }
    }
  }
  auto find = [&](const EngineReport& report, const std::string& phase) -> const PhaseResult* {
    for (const PhaseResult& row : report.rows) {
      if (row.phase == phase) return &row;
    }
    return nullptr;
  };
  for (const std::string& phase : phases) {
    for (size_t r = 0; r < reports.size(); r++) {
      const PhaseResult* row = find(reports[r], phase);
      if (row == nullptr) continue;
      std::string ratio = "-";
      if (r == 0 && reports.size() > 1) {
        const PhaseResult* other = find(reports[1], phase);
        if (other != nullptr && other->value > 0)
          ratio = fmt::format("{:.2f}", row->value / other->value);
      }
      table.Row({phase, reports[r].engine, row->result, Latency(*row, &PhaseResult::p50_us),
                 Latency(*row, &PhaseResult::p99_us), Latency(*row, &PhaseResult::p999_us), ratio,
                 row->notes});
    }
  }
  return table.Render();
}

}  // namespace

int RunEngineBench(int argc, char** argv) {
  EngineBenchOptions options;
  if (!ParseOptions(argc, argv, options)) {
    Usage();
    return 2;
  }
  fmt::print(stderr,
             "engine bench: {} keys x {} B, cache {} MiB, memtable {} MiB, sync {}, "
             "concurrency {}, {} ops or {} s per phase, dir {}\n",
             options.keys, options.value_size, options.cache_mb, options.memtable_mb,
             SyncModeName(options.sync), options.concurrency, options.ops, options.phase_seconds,
             options.dir);
  std::vector<EngineReport> reports;
  if (options.tierkv) {
    reports.push_back(RunTierkvEngineBench(options, options.dir + "/tierkv"));
    malloc_trim(0);  // give the freed heap back so RocksDB's RSS starts near the baseline
  }
  std::string rocksdb_note;
  if (options.rocksdb) {
#ifdef TIERKV_HAVE_ROCKSDB
    reports.push_back(RunRocksdbEngineBench(options, options.dir + "/rocksdb"));
#else
    rocksdb_note =
        "RocksDB was not available at build time (librocksdb-dev not found by Meson): "
        "tierkv only.";
#endif
  }
  (void)std::remove(options.dir.c_str());  // the base directory, when empty (both removed theirs)

  fmt::print("{}", Render(reports));
  fmt::print(
      "\n{} keys x {} B values (keys \"key%012d\"), cache {} MiB each, memtable {} MiB, "
      "sync {}, concurrency {} ({} writers in the writers phase), no compression.\n",
      options.keys, options.value_size, options.cache_mb, options.memtable_mb,
      SyncModeName(options.sync), options.concurrency, options.writers);
  fmt::print(
      "tierkv / RocksDB: above 1 is better for tierkv on ops/s rows, worse on bytes and "
      "seconds.\n");
  if (!rocksdb_note.empty()) fmt::print("{}\n", rocksdb_note);
  int rc = 0;
  for (const EngineReport& report : reports) {
    if (!report.error.empty()) {
      fmt::print("{} FAILED: {}\n", report.engine, report.error);
      rc = 1;
    }
  }
  return rc;
}

}  // namespace tierkv::bench
