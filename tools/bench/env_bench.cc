// `tierkv-bench env`: the costs the whole system is built on, through the production Env, each
// beside a baseline measured in the same run:
//   fiber switch (Yield between two fibers) and a cross-executor message round trip;
//   4 KiB O_DIRECT random reads at queue depth 1 and 32 (io_uring) vs blocking pread;
//   4 KiB write + fdatasync on a preallocated file vs blocking pwrite + fdatasync.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/random.h"
#include "core/sync.h"
#include "io/prod_env.h"
#include "io/raw_baseline.h"
#include "tools/bench/bench_util.h"

namespace tierkv::bench {
namespace {

constexpr uint64_t kFileBytes = 256ULL << 20;
constexpr size_t kBlock = 4096;

struct EnvBenchOptions {
  std::string dir = "bench-tmp";
  int reads = 20000;
  int syncs = 300;
  int switches = 1000000;
};

void BenchFibers(Env& env, const EnvBenchOptions& options, Table& table) {
  Executor& ex = env.CurrentExecutor();
  const Clock& clock = env.clock();
  int count = options.switches / 2;
  auto spin = [&] {
    for (int i = 0; i < count; i++) ex.Yield();
  };
  TimePoint start = clock.Now();
  FiberHandle a = ex.Spawn("a", spin), b = ex.Spawn("b", spin);
  (void)a.Join();
  (void)b.Join();
  double ns = static_cast<double>((clock.Now() - start).count()) / (2.0 * count);
  table.Row({"fiber switch (Yield)", fmt::format("{:.0f} ns", ns), "-", "-"});

  // Cross-executor round trip: post to executor 1, which posts back.
  const int kTrips = 20000;
  LatencyRecorder trips;
  for (int i = 0; i < kTrips; i++) {
    Event back(ex);
    TimePoint t0 = clock.Now();
    env.Post(1, [&env, &back] { env.Post(0, [&back] { back.Set(); }); });
    (void)back.Wait();
    trips.Add(clock.Now() - t0);
  }
  table.Row({"cross-executor round trip", trips.Summary(), "-", "-"});
}

Status Prepare(Env& env, const std::string& path) {
  auto file = env.OpenFile(path, {.create = true, .direct = true});
  if (!file) return file.error();
  AlignedBuffer chunk(1 << 20);
  Prng prng(1);
  for (size_t i = 0; i < chunk.size(); i++) chunk.data()[i] = std::byte(prng.Next());
  for (uint64_t offset = 0; offset < kFileBytes; offset += chunk.size()) {
    TK_RETURN_IF_ERROR((*file)->Write(offset, chunk.span()));
  }
  return (*file)->Sync();
}

void BenchReads(Env& env, const EnvBenchOptions& options, const std::string& path, Table& table) {
  const Clock& clock = env.clock();
  Executor& ex = env.CurrentExecutor();
  auto file = env.OpenFile(path, {.direct = true});
  TK_ASSERT(file.has_value());
  Prng prng(7);
  uint64_t blocks = kFileBytes / kBlock;

  LatencyRecorder env_qd1;
  AlignedBuffer buf(kBlock);
  for (int i = 0; i < options.reads; i++) {
    TimePoint t0 = clock.Now();
    auto n = (*file)->Read(prng.Uniform(blocks) * kBlock, buf.span());
    TK_ASSERT(n.has_value() && *n == kBlock);
    env_qd1.Add(clock.Now() - t0);
  }
  auto raw = io::RawFile::Open(path, true);
  TK_ASSERT(raw.has_value());
  LatencyRecorder raw_qd1;
  for (int i = 0; i < options.reads; i++) {
    TimePoint t0 = clock.Now();
    TK_ASSERT(raw->Read(prng.Uniform(blocks) * kBlock, buf.span()).ok());
    raw_qd1.Add(clock.Now() - t0);
  }
  table.Row({"4 KiB O_DIRECT read, QD1", env_qd1.Summary(), raw_qd1.Summary(),
             fmt::format("{:.2f}", raw_qd1.Mean() / env_qd1.Mean())});

  // Queue depth 32: 32 fibers each reading; only io_uring can do this from one thread.
  const int kDepth = 32;
  int per_fiber = options.reads / kDepth;
  std::vector<FiberHandle> fibers;
  TimePoint start = clock.Now();
  for (int f = 0; f < kDepth; f++) {
    fibers.push_back(ex.Spawn("reader", [&, f] {
      AlignedBuffer local(kBlock);
      Prng local_prng(100 + f);
      for (int i = 0; i < per_fiber; i++) {
        auto n = (*file)->Read(local_prng.Uniform(blocks) * kBlock, local.span());
        TK_ASSERT(n.has_value());
      }
    }));
  }
  for (auto& fiber : fibers) (void)fiber.Join();
  double seconds_taken = ToSeconds(clock.Now() - start);
  table.Row({"4 KiB O_DIRECT read, QD32 (1 thread)",
             fmt::format("{:.0f} reads/s", per_fiber * kDepth / seconds_taken),
             fmt::format("{:.0f} reads/s (QD1)", 1e9 / raw_qd1.Mean()),
             fmt::format("{:.2f}", (per_fiber * kDepth / seconds_taken) / (1e9 / raw_qd1.Mean()))});
}

void BenchSyncs(Env& env, const EnvBenchOptions& options, const std::string& path, Table& table) {
  const Clock& clock = env.clock();
  auto file = env.OpenFile(path, {.direct = true});
  TK_ASSERT(file.has_value());
  AlignedBuffer buf(kBlock);
  std::memset(buf.data(), 'w', kBlock);
  Prng prng(9);
  uint64_t blocks = kFileBytes / kBlock;
  LatencyRecorder env_sync;
  for (int i = 0; i < options.syncs; i++) {
    TimePoint t0 = clock.Now();
    TK_ASSERT((*file)->Write(prng.Uniform(blocks) * kBlock, buf.span()).ok());
    TK_ASSERT((*file)->DataSync().ok());
    env_sync.Add(clock.Now() - t0);
  }
  auto raw = io::RawFile::Open(path, true);
  TK_ASSERT(raw.has_value());
  LatencyRecorder raw_sync;
  for (int i = 0; i < options.syncs; i++) {
    TimePoint t0 = clock.Now();
    TK_ASSERT(raw->Write(prng.Uniform(blocks) * kBlock, buf.span()).ok());
    TK_ASSERT(raw->DataSync().ok());
    raw_sync.Add(clock.Now() - t0);
  }
  table.Row({"4 KiB write + fdatasync", env_sync.Summary(), raw_sync.Summary(),
             fmt::format("{:.2f}", raw_sync.Mean() / env_sync.Mean())});
}

}  // namespace

int RunEnvBench(int argc, char** argv) {
  EnvBenchOptions options;
  for (int i = 0; i < argc; i++) {
    std::string arg = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (arg == "--dir") options.dir = next();
    else if (arg == "--reads") options.reads = std::stoi(next());
    else if (arg == "--syncs") options.syncs = std::stoi(next());
    else if (arg == "--switches") options.switches = std::stoi(next());
    else {
      fmt::print(stderr, "usage: tierkv-bench env [--dir D] [--reads N] [--syncs N] [--switches N]\n");
      return 2;
    }
  }
  io::ProdEnv env({.node_name = "bench", .executors = 2, .log_level = "warn"});
  int rc = 0;
  env.Run([&] {
    Table table({"operation", "tierkv Env (io_uring)", "baseline (blocking syscall)", "speed-up"});
    BenchFibers(env, options, table);
    std::string path = JoinPath(options.dir, "env-bench.dat");
    Status status = env.CreateDir(options.dir);
    if (status.ok()) status = Prepare(env, path);
    if (!status.ok()) {
      fmt::print(stderr, "tierkv-bench env: {}\n", status.ToString());
      rc = 1;
      return;
    }
    BenchReads(env, options, path, table);
    BenchSyncs(env, options, path, table);
    (void)env.RemoveFile(path);
    fmt::print("{}", table.Render());
    fmt::print("latency columns: mean / p50 / p99; file {} MiB at {}\n", kFileBytes >> 20, options.dir);
  });
  return rc;
}

}  // namespace tierkv::bench
