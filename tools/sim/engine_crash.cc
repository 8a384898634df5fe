// Workload "engine-crash": one node runs the storage engine (appendfsync always, small memtable
// and cache so checkpoints and evictions are constant) with several writer fibers, each owning
// the keys k with k % writers == its index, so a key has at most one write in flight. The checker
// records every acknowledged put/delete. The scenario crashes the node at random moments (and
// may inject disk errors and slow I/O); after every restart the node compares a full scan with
// the checker: each key must hold its last acknowledged value or the value of its one write in
// flight at the crash — nothing older, nothing invented. A write error makes the node exit (the
// engine refuses writes once durability is unknown) and the world restarts it.
// Half of the seeds keep the WAL in simulated PMem (a 64 KiB ring) with a PMem cache tier.
// A cold tier is configured (cold-after 300 ms): one write in 50 goes to a rarely written key
// range whose leaves move to the cold file and back, so crashes hit relocations too.
// At the end the checker flips one byte in a used page of the data file and restarts: the engine
// must report Corruption (naming the file) or, if the page held nothing live, still return exactly
// the right data. Never a wrong answer.
#include <map>
#include <optional>
#include <set>

#include "core/sync.h"
#include "sim/sim_env.h"
#include "tiers/engine.h"
#include "tools/sim/workload.h"

namespace tierkv::simtool {
namespace {

constexpr int kWriters = 4;
constexpr int kKeys = 400;
constexpr int kColdRange = 4;  // keys [kKeys, kColdRange * kKeys) are written rarely

struct KeyState {
  std::optional<std::string> acked;                   // last acknowledged value (nullopt: absent)
  std::optional<std::optional<std::string>> inflight;  // a write started but not acknowledged
};

struct Shared {
  std::map<std::string, KeyState> keys;
  std::string failure;
  bool traffic = true;
  bool corrupt_next_boot = false;
  bool corruption_checked = false;
  bool pmem_wal = false;    // the WAL is a ring in simulated PMem (half of the seeds)
  uint64_t cold_moves = 0;  // the most leaves one boot moved to the cold tier
  uint64_t acked = 0, recoveries = 0, write_errors = 0, detected = 0, io_errors_at_recovery = 0;
};

// The rarely written keys sort after the hot ones, so they fill leaves of their own.
std::string KeyName(int k) { return (k < kKeys ? "key:" : "old:") + std::to_string(k); }

class EngineNode {
 public:
  EngineNode(Env& env, Shared& shared) : env_(env), shared_(shared) {}

  void Run() {
    tiers::EngineOptions options;
    options.dir = "/db";
    options.memtable_bytes = 16 << 10;
    options.cache_bytes = 32 << 10;
    options.checkpoint_interval = milliseconds(100);
    options.cold_dir = "/db/cold";
    options.cold_after = milliseconds(300);
    if (shared_.pmem_wal) {
      options.pmem_path = "/pmem/db";
      options.pmem_bytes = 64 << 10;      // the PMem page-cache tier
      options.pmem_wal_bytes = 64 << 10;  // small: the ring's back-pressure forces checkpoints
    }
    auto engine = tiers::Engine::Open(env_, options);
    if (!engine) return Recovered(engine.error());
    engine_ = std::move(*engine);
    if (!Verify()) {
      (void)engine_->Close();
      return;
    }
    Executor& ex = env_.CurrentExecutor();
    std::vector<FiberHandle> writers;
    for (int w = 0; w < kWriters; w++) writers.push_back(ex.Spawn("writer", [this, w] { Write(w); }));
    for (auto& writer : writers) (void)writer.Join();
    (void)engine_->Close();
  }

 private:
  void Recovered(const Status& status) {
    shared_.recoveries++;
    if (status.code() == StatusCode::kIoError) {
      shared_.io_errors_at_recovery++;  // a transient device error: exit, and be restarted
      return;
    }
    if (shared_.corruption_checked) {
      if (status.code() == StatusCode::kCorruption && status.message().find("/db/") != std::string::npos) {
        shared_.detected++;
      } else if (shared_.failure.empty()) {
        shared_.failure = "after injected corruption: unexpected error " + status.ToString();
      }
      return;
    }
    if (shared_.failure.empty()) shared_.failure = "recovery failed: " + status.ToString();
  }

  bool Verify() {
    std::map<std::string, std::string> found;
    auto it = engine_->NewIterator();
    Status status = it->SeekToFirst();
    while (status.ok() && it->Valid()) {
      auto value = it->value();
      if (!value) {
        status = value.error();
        break;
      }
      found[it->key()] = *value;
      status = it->Next();
    }
    // The allocation map (saved by the checkpoint, or rebuilt) must match the tree exactly.
    if (status.ok()) status = engine_->VerifyAllocation();
    if (!status.ok()) {
      Recovered(status);
      return false;
    }
    shared_.recoveries++;
    for (auto& [key, state] : shared_.keys) {
      auto f = found.find(key);
      std::optional<std::string> actual;
      if (f != found.end()) actual = f->second;
      bool ok = actual == state.acked || (state.inflight && actual == *state.inflight);
      if (!ok && shared_.failure.empty()) {
        shared_.failure = "key " + key + " holds " + (actual ? "'" + actual->substr(0, 40) + "'" : "nothing") +
                          ", expected " + (state.acked ? "'" + state.acked->substr(0, 40) + "'" : "nothing") +
                          (state.inflight ? " or its in-flight write" : "") +
                          (shared_.corruption_checked ? " (after injected corruption: a wrong answer)" : "");
      }
      state.acked = actual;  // what survived is the new baseline
      state.inflight.reset();
      found.erase(key);
    }
    if (!found.empty() && shared_.failure.empty()) {
      shared_.failure = "key " + found.begin()->first + " appeared without being written";
    }
    return shared_.failure.empty();
  }

  void Write(int writer) {
    Executor& ex = env_.CurrentExecutor();
    for (uint64_t n = 0; shared_.traffic; n++) {
      if (!ex.Sleep(microseconds(200 + env_.RandomU64() % 3000)).ok()) return;
      // Mostly the hot keys; now and then one of the rarely written ones, whose leaves go cold.
      int range = env_.RandomU64() % 50 == 0 ? kKeys * kColdRange : kKeys;
      int k = static_cast<int>(env_.RandomU64() % (range / kWriters)) * kWriters + writer;
      std::string key = KeyName(k);
      KeyState& state = shared_.keys[key];
      std::optional<std::string> value;
      if (env_.RandomU64() % 5 != 0) {
        size_t size = env_.RandomU64() % 10 == 0 ? 2000 + env_.RandomU64() % 20000 : 10 + env_.RandomU64() % 100;
        value = std::to_string(writer) + "/" + std::to_string(n) + ":" + std::string(size, 'v');
      }
      state.inflight = value;
      Status status = value ? engine_->Put(key, *value) : engine_->Delete(key);
      if (!status.ok()) {
        shared_.write_errors++;
        return;  // durability unknown: stop; the node exits and is restarted
      }
      state.acked = value;
      state.inflight.reset();
      shared_.acked++;
      shared_.cold_moves = std::max(shared_.cold_moves, engine_->stats().cold.moved_out);
    }
  }

  Env& env_;
  Shared& shared_;
  std::unique_ptr<tiers::Engine> engine_;
};

class EngineCrash final : public Workload {
 public:
  explicit EngineCrash(const ScenarioSpec& spec) : spec_(spec) {}

  void Setup(sim::World& world) override {
    world_ = &world;
    shared_.pmem_wal = world.prng().Uniform(2) == 0;  // fixed for the world: a WAL kind must not change
    world.AddNode(sim::NodeSpec{"db", 1, [this](sim::SimEnv& env) {
                                  EngineNode node(env, shared_);
                                  node.Run();
                                  if (!shared_.traffic) return;
                                  sim::World& w = env.world();
                                  w.ScheduleAfter(milliseconds(100), 0, [&w] { w.Restart("db"); });
                                }});
  }

  void StopTraffic() override { shared_.traffic = false; }

  std::string Check() override {
    if (!shared_.failure.empty()) return shared_.failure;
    if (shared_.acked == 0) return "no write was acknowledged";
    // Inject corruption into one used page of the data file, then restart and read everything.
    sim::SimNode& node = world_->node("db");
    world_->Crash("db");
    auto inode = node.disk().Open("/db/data", false, false, false);
    if (!inode) return "no data file: " + inode.error().ToString();
    uint64_t pages = (*inode)->data.size() / tiers::kPageSize;
    if (pages <= tiers::kSuperblockPages) return "";
    uint64_t page = tiers::kSuperblockPages + world_->prng().Uniform(pages - tiers::kSuperblockPages);
    uint64_t offset = page * tiers::kPageSize + tiers::kPageHeaderSize +
                      world_->prng().Uniform(tiers::kPagePayload);
    (*inode)->data[offset] ^= std::byte{0x40};
    (*inode)->durable[offset] = (*inode)->data[offset];
    shared_.corruption_checked = true;
    world_->Restart("db");
    world_->RunFor(seconds(2));
    return shared_.failure;
  }

  std::string EarlyFailure() const override { return shared_.failure; }
  std::string Stats() const override {
    return "acked=" + std::to_string(shared_.acked) + " recoveries=" + std::to_string(shared_.recoveries) +
           " write_errors=" + std::to_string(shared_.write_errors) +
           " corruption_detected=" + std::to_string(shared_.detected) +
           " cold_moves=" + std::to_string(shared_.cold_moves) +
           (shared_.pmem_wal ? " wal=pmem" : " wal=ssd");
  }

 private:
  ScenarioSpec spec_;
  Shared shared_;
  sim::World* world_ = nullptr;
};

}  // namespace

std::unique_ptr<Workload> MakeEngineCrash(const ScenarioSpec& spec) {
  return std::make_unique<EngineCrash>(spec);
}

}  // namespace tierkv::simtool
