// RapidCheck property: random writes, syncs and crashes on the simulated disk, checked against a
// model of what must survive. Per 512-byte sector, after a crash the file holds either the last
// synced contents or the last written contents (never anything else, never a mix inside a
// sector), its size lies between the synced size and the written size, and reads before a crash
// always see the last write. Replay a failure with RC_PARAMS="seed=N".
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstring>

#include "core/limits.h"
#include "tests/sim/sim_helpers.h"

namespace tierkv {
namespace {

constexpr size_t kSector = limits::kSimSectorBytes;

struct Op {
  enum Kind { kWrite, kSync, kCrash } kind = kWrite;
  uint32_t offset = 0;
  uint32_t length = 0;
  uint8_t fill = 0;
};

rc::Gen<Op> GenOp() {
  return rc::gen::oneOf(
      rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kWrite)),
                         rc::gen::set(&Op::offset, rc::gen::inRange<uint32_t>(0, 16384)),
                         rc::gen::set(&Op::length, rc::gen::inRange<uint32_t>(1, 3000)),
                         rc::gen::set(&Op::fill, rc::gen::inRange<uint8_t>(1, 255))),
      rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kSync))),
      rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kCrash))));
}

struct Model {
  std::vector<uint8_t> written;  // what reads must see now
  std::vector<uint8_t> synced;   // what a crash must keep at least

  // Checks a post-crash file against the model; returns an error text or "".
  std::string CheckAfterCrash(const std::vector<uint8_t>& actual) const {
    size_t lo = std::min(synced.size(), written.size());
    size_t hi = std::max(synced.size(), written.size());
    if (actual.size() < lo || actual.size() > hi) {
      return "size " + std::to_string(actual.size()) + " outside [" + std::to_string(lo) + ", " +
             std::to_string(hi) + "]";
    }
    for (size_t begin = 0; begin < actual.size(); begin += kSector) {
      size_t end = std::min(begin + kSector, actual.size());
      auto matches = [&](const std::vector<uint8_t>& image) {
        for (size_t i = begin; i < end; i++) {
          uint8_t expected = i < image.size() ? image[i] : 0;
          if (actual[i] != expected) return false;
        }
        return true;
      };
      if (!matches(synced) && !matches(written)) {
        return "sector " + std::to_string(begin / kSector) + " is neither synced nor written data";
      }
    }
    return "";
  }
};

std::vector<uint8_t> ReadFile(Env& env, File& file) {
  std::vector<uint8_t> out(file.Size().value());
  auto n = file.Read(0, std::as_writable_bytes(std::span(out)));
  (void)env;
  if (!n) return {};
  out.resize(*n);
  return out;
}

TEST_CASE("property: the simulated disk keeps exactly what a crash may keep") {
  bool ok = rc::check("random writes, syncs and crashes against the model", [] {
    const uint64_t seed = *rc::gen::arbitrary<uint64_t>();
    const std::vector<Op> ops = *rc::gen::container<std::vector<Op>>(GenOp());
    sim::World world(seed, {});
    Model model;
    size_t next = 0;
    bool crash_requested = false, finished = false;
    std::vector<std::string> errors;
    world.AddNode(sim::NodeSpec{"n1", 1, [&](sim::SimEnv& env) {
      auto file = env.OpenFile("/f", {.create = true});
      if (!file) {
        errors.push_back(file.error().ToString());
        finished = true;
        return;
      }
      if (env.node().boots() == 1) {
        if (!env.SyncDir("/").ok()) errors.push_back("syncdir failed");
      } else {
        std::vector<uint8_t> actual = ReadFile(env, **file);
        std::string error = model.CheckAfterCrash(actual);
        if (!error.empty()) errors.push_back("after crash before op " + std::to_string(next) + ": " + error);
        model.written = model.synced = actual;
      }
      while (next < ops.size()) {
        const Op& op = ops[next++];
        if (op.kind == Op::kCrash) {
          crash_requested = true;
          (void)env.CurrentExecutor().Sleep(std::chrono::hours(24));
          return;
        }
        if (op.kind == Op::kSync) {
          if (!(*file)->Sync().ok()) errors.push_back("sync failed");
          model.synced = model.written;
          continue;
        }
        std::vector<uint8_t> data(op.length, op.fill);
        if (!(*file)->Write(op.offset, std::as_bytes(std::span(data))).ok()) errors.push_back("write failed");
        if (model.written.size() < op.offset + op.length) model.written.resize(op.offset + op.length);
        std::memcpy(model.written.data() + op.offset, data.data(), data.size());
        if (ReadFile(env, **file) != model.written) {
          errors.push_back("read after write differs at op " + std::to_string(next - 1));
        }
      }
      finished = true;
    }});
    for (int guard = 0; guard < 1000 && !finished; guard++) {
      while (!crash_requested && !finished && world.Step()) {
      }
      if (crash_requested) {
        crash_requested = false;
        world.Crash("n1");
        world.Restart("n1");
      }
    }
    RC_ASSERT(finished);
    RC_ASSERT(errors.empty());
  });
  CHECK(ok);
}

}  // namespace
}  // namespace tierkv
