// RapidCheck model test of the engine under the simulator: random puts (small and overflow-sized
// values), deletes, atomic batches, gets, scans both ways, snapshots, checkpoints and crashes,
// against a std::map model. With appendfsync always every acknowledged write survives a crash;
// a batch cut by a crash is all-or-nothing; snapshots never change. Small memtable and cache
// budgets force frequent checkpoints and evictions. RC_PARAMS="seed=N" replays a failure.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <map>

#include "tests/sim/sim_helpers.h"
#include "tiers/engine.h"

namespace tierkv::tiers {
namespace {

using Model = std::map<std::string, std::string>;

struct Op {
  enum Kind { kPut, kDelete, kBatch, kGet, kScan, kSnapshot, kSnapshotCheck, kCheckpoint, kCrash };
  Kind kind = kPut;
  int key = 0;
  int size = 0;
  bool reverse = false;
};

// How RapidCheck prints a failing case.
void showValue(const Op& op, std::ostream& os) {
  static const char* kNames[] = {"put",  "delete",        "batch",      "get",  "scan",
                                 "snap", "snapshot-check", "checkpoint", "crash"};
  os << kNames[op.kind] << "(key " << op.key << ", size " << op.size << (op.reverse ? ", rev" : "")
     << ")";
}

rc::Gen<Op> GenOp() {
  auto key = rc::gen::inRange(0, 60);
  return rc::gen::weightedOneOf<Op>({
      {30, rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kPut)), rc::gen::set(&Op::key, key),
                              rc::gen::set(&Op::size, rc::gen::weightedOneOf<int>({{9, rc::gen::inRange(0, 200)},
                                                                                   {1, rc::gen::inRange(900, 20000)}})))},
      {8, rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kDelete)), rc::gen::set(&Op::key, key))},
      {6, rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kBatch)), rc::gen::set(&Op::key, key),
                             rc::gen::set(&Op::size, rc::gen::inRange(1, 8)))},
      {10, rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kGet)), rc::gen::set(&Op::key, key))},
      {4, rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kScan)), rc::gen::set(&Op::key, key),
                             rc::gen::set(&Op::reverse, rc::gen::arbitrary<bool>()),
                             rc::gen::set(&Op::size, rc::gen::inRange(0, 4)))},
      {2, rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kSnapshot)))},
      {3, rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kSnapshotCheck)), rc::gen::set(&Op::key, key))},
      {2, rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kCheckpoint)))},
      {2, rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kCrash)), rc::gen::set(&Op::size, rc::gen::inRange(0, 4000)))},
  });
}

// Some keys are longer than a page (wide tree nodes); the rest are short. Three first bytes, so
// that some memtables hold no key of a scan's prefix.
std::string KeyOf(int k) {
  std::string key = std::string(1, "akm"[k % 3]) + std::to_string(k);
  if (k % 10 == 3) key += std::string(2000 + (k * 977) % 7000, 'x');
  return key;
}
std::string ValueOf(uint64_t step, int size) {
  std::string v = std::to_string(step) + ":";
  while (static_cast<int>(v.size()) < size) v += static_cast<char>('a' + v.size() % 23);
  return v;
}

EngineOptions Options() {
  EngineOptions options;
  options.dir = "/db";
  options.memtable_bytes = 8 << 10;
  options.cache_bytes = 16 << 10;
  options.checkpoint_interval = milliseconds(50);
  return options;
}

// Everything the engine holds, by a forward scan.
Result<Model> Dump(Engine& engine) {
  Model out;
  auto it = engine.NewIterator();
  TK_RETURN_IF_ERROR_R(it->SeekToFirst());
  while (it->Valid()) {
    auto value = it->value();
    if (!value) return Err(value.error());
    out[it->key()] = *value;
    TK_RETURN_IF_ERROR_R(it->Next());
  }
  return out;
}

struct Run {
  std::vector<Op> ops;
  size_t next = 0;
  Model model;
  std::optional<Model> crash_alternative;  // the model if the batch cut by the crash landed
  std::vector<std::pair<std::shared_ptr<const Snapshot>, Model>> snapshots;
  std::vector<std::string> errors;
  bool crash_requested = false;
  int crash_delay_us = 0;
  bool finished = false;

  void Fail(std::string what) {
    if (errors.empty()) errors.push_back("op " + std::to_string(next) + ": " + std::move(what));
  }

  void Boot(sim::SimEnv& env) {
    snapshots.clear();  // snapshots do not survive a restart
    auto opened = Engine::Open(env, Options());
    if (!opened) return Fail("open: " + opened.error().ToString()), void(finished = true);
    Engine& engine = **opened;
    if (env.node().boots() > 1) {
      auto dump = Dump(engine);
      if (!dump) return Fail("dump: " + dump.error().ToString()), void(finished = true);
      if (*dump == model) {
      } else if (crash_alternative && *dump == *crash_alternative) {
        model = *crash_alternative;
      } else {
        auto describe = [](const Model& m) {
          std::string out;
          for (const auto& [k, v] : m) out += " " + k + "=" + v.substr(0, 12) + "(" + std::to_string(v.size()) + ")";
          return out;
        };
        Fail("after crash: state is neither before nor after the interrupted batch: engine" +
             describe(*dump) + "; model" + describe(model) +
             (crash_alternative ? "; or" + describe(*crash_alternative) : std::string()));
      }
      crash_alternative.reset();
      Status allocation = engine.VerifyAllocation();
      if (!allocation.ok()) return Fail(allocation.ToString()), void(finished = true);
    }
    while (next < ops.size() && errors.empty()) {
      const Op& op = ops[next++];
      if (!Step(env, engine, op)) return;  // crashing
    }
    Status allocation = engine.VerifyAllocation();  // with snapshots and checkpoints behind
    if (!allocation.ok()) Fail(allocation.ToString());
    if (!engine.Close().ok()) Fail("close");
    finished = true;
  }

  // Returns false when the node is about to crash.
  bool Step(sim::SimEnv& env, Engine& engine, const Op& op) {
    std::string key = KeyOf(op.key);
    switch (op.kind) {
      case Op::kPut: {
        std::string value = ValueOf(next, op.size);
        if (!engine.Put(key, value).ok()) Fail("put");
        model[key] = value;
        break;
      }
      case Op::kDelete:
        if (!engine.Delete(key).ok()) Fail("delete");
        model.erase(key);
        break;
      case Op::kBatch: {
        WriteBatch batch;
        Model after = model;
        for (int i = 0; i < op.size; i++) {
          std::string k = KeyOf((op.key + i * 7) % 61);
          if (i % 3 == 2) {
            batch.Delete(k);
            after.erase(k);
          } else {
            batch.Put(k, ValueOf(next * 100 + i, 30));
            after[k] = ValueOf(next * 100 + i, 30);
          }
        }
        if (!engine.Write(batch).ok()) Fail("batch");
        model = std::move(after);
        break;
      }
      case Op::kGet: {
        auto got = engine.Get(key);
        auto it = model.find(key);
        if (!got) Fail("get: " + got.error().ToString());
        else if (got->has_value() != (it != model.end()) || (got->has_value() && **got != it->second)) {
          Fail("get " + key + " differs from the model");
        }
        break;
      }
      case Op::kScan: {
        // Unconfined (size 0), or confined to the key's first byte or two, or to "k" (the key
        // may lie below or above it).
        const std::string prefix = op.size == 3 ? "k" : key.substr(0, op.size);
        auto it = engine.NewIterator(nullptr, prefix);
        Status status = op.reverse ? it->SeekForPrev(key) : it->Seek(key);
        auto m_forward = model.lower_bound(std::max(key, prefix));
        auto m_reverse = std::make_reverse_iterator(model.upper_bound(key));
        // Backward from above the prefix's keys, the scan starts at the last of them.
        while (m_reverse != model.rend() && m_reverse->first > prefix &&
               !m_reverse->first.starts_with(prefix)) {
          ++m_reverse;
        }
        for (int i = 0; i < 10 && status.ok(); i++) {
          bool model_valid = op.reverse ? m_reverse != model.rend() : m_forward != model.end();
          if (model_valid) {
            model_valid = (op.reverse ? m_reverse->first : m_forward->first).starts_with(prefix);
          }
          if (it->Valid() != model_valid) return Fail("scan validity differs"), true;
          if (!model_valid) break;
          const auto& expected = op.reverse ? *m_reverse : *m_forward;
          auto value = it->value();
          if (it->key() != expected.first || !value || *value != expected.second) {
            return Fail("scan entry differs at " + it->key()), true;
          }
          status = op.reverse ? it->Prev() : it->Next();
          if (op.reverse) ++m_reverse; else ++m_forward;
        }
        if (!status.ok()) Fail("scan: " + status.ToString());
        break;
      }
      case Op::kSnapshot:
        snapshots.emplace_back(engine.GetSnapshot(), model);
        if (snapshots.size() > 3) snapshots.erase(snapshots.begin());
        break;
      case Op::kSnapshotCheck: {
        if (snapshots.empty()) break;
        auto& [snapshot, expected] = snapshots[op.key % snapshots.size()];
        auto got = engine.Get(key, snapshot.get());
        auto it = expected.find(key);
        if (!got || got->has_value() != (it != expected.end()) ||
            (got->has_value() && **got != it->second)) {
          Fail("snapshot read of " + key + " differs");
        }
        break;
      }
      case Op::kCheckpoint:
        if (!engine.Checkpoint().ok()) Fail("checkpoint");
        break;
      case Op::kCrash: {
        // A batch in flight when the world crashes the node: it must land whole or not at all.
        WriteBatch batch;
        Model after = model;
        for (int i = 0; i < 5; i++) {
          std::string k = KeyOf((op.key + i) % 61);
          batch.Put(k, ValueOf(next * 1000 + i, 40));
          after[k] = ValueOf(next * 1000 + i, 40);
        }
        crash_alternative = after;
        crash_delay_us = op.size;
        crash_requested = true;
        Status status = engine.Write(batch);
        // If the crash has not hit yet, the write was acknowledged: it must survive.
        if (status.ok()) {
          model = after;
          crash_alternative.reset();
        }
        (void)env.CurrentExecutor().Sleep(std::chrono::hours(1));
        return false;
      }
    }
    return true;
  }
};

TEST_CASE("property: the engine matches a std::map model through checkpoints and crashes") {
  bool ok = rc::check("engine vs model", [] {
    Run run;
    run.ops = *rc::gen::container<std::vector<Op>>(GenOp());
    const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
    sim::World world(seed, {});
    world.AddNode(sim::NodeSpec{"n1", 1, [&](sim::SimEnv& env) { run.Boot(env); }});
    for (int guard = 0; guard < 200 && !run.finished; guard++) {
      while (!run.crash_requested && !run.finished && world.Step()) {
      }
      if (run.crash_requested) {
        run.crash_requested = false;
        world.RunFor(microseconds(run.crash_delay_us));
        world.Crash("n1");
        world.Restart("n1");
      }
    }
    RC_ASSERT(run.finished);
    if (!run.errors.empty()) RC_FAIL(run.errors.front());
  });
  CHECK(ok);
}

}  // namespace
}  // namespace tierkv::tiers
