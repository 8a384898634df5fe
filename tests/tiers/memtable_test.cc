// The memtable against a model: random versions of random keys, applied a little out of sequence
// order (as WAL appends finish), point reads at random snapshots, and ordered walks taken at
// random moments, so pending keys join the ordered index both into an empty one and between
// keys already there; half of the walks first order the keys in small steps (as a checkpoint
// does), some interrupted by a walk. RC_PARAMS="seed=N" replays a failure.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tiers/memtable.h"

namespace tierkv::tiers {
namespace {

// (key, seq) -> value or tombstone.
using Model = std::map<std::pair<std::string, uint64_t>, ValueView>;

std::optional<ValueView> ModelGet(const Model& model, const std::string& key, uint64_t snapshot) {
  std::optional<ValueView> found;
  for (auto it = model.lower_bound({key, 0}); it != model.end() && it->first.first == key; ++it) {
    if (it->first.second <= snapshot) found = it->second;  // ascending seq: the last one wins
  }
  return found;
}

// The seq of the next write: one in `reuse_one_in` takes a held-back seq (applied after later
// ones, as WAL appends finish out of order); otherwise one in `hold_one_in` first holds one back.
uint64_t NextSeq(std::vector<uint64_t>& held, uint64_t& next_seq, int reuse_one_in, int hold_one_in) {
  if (!held.empty() && *rc::gen::inRange(0, reuse_one_in) == 0) {
    const uint64_t seq = held.back();
    held.pop_back();
    return seq;
  }
  if (*rc::gen::inRange(0, hold_one_in) == 0) held.push_back(next_seq++);
  return next_seq++;
}

// A random value, owned by `values` (the model's views point into it; reserved up front).
ValueView RandomValue(std::vector<std::string>& values) {
  values.push_back(*rc::gen::container<std::string>(rc::gen::inRange('a', 'z')));
  return values.back();
}

TEST_CASE("property: the memtable's reads and ordered walks match a model") {
  bool ok = rc::check("memtable vs model", [] {
    Memtable memtable;
    Model model;
    std::vector<std::string> values;  // owns the bytes the model's views point at
    values.reserve(1000);
    const int ops = *rc::gen::inRange(1, 300);
    uint64_t next_seq = 1;
    std::vector<uint64_t> held;
    bool walked_before = false;
    for (int i = 0; i < ops; i++) {
      // Keys share prefixes and heads (the first 8 bytes), so ties on the head are common.
      const std::string key = "prefix:" + std::to_string(*rc::gen::inRange(0, 40));
      const int action = *rc::gen::inRange(0, 10);
      if (action < 6) {
        const uint64_t seq = NextSeq(held, next_seq, 3, 5);
        const ValueView value = action < 5 ? RandomValue(values) : ValueView();
        memtable.Add(seq, key, value);
        model[{key, seq}] = value;
      } else if (action < 9) {
        const uint64_t snapshot = *rc::gen::inRange<uint64_t>(0, next_seq + 1);
        RC_ASSERT(memtable.Get(key, snapshot) == ModelGet(model, key, snapshot));
      } else {
        // Half of the walks sort the keys in small steps first (as the checkpoint does, into an
        // array); a walk during a pause (an iterator) orders the rest itself. The first walk
        // fills the empty index, which trusts the sort's order.
        std::vector<std::string> expected;
        for (const auto& [at, value] : model) {
          if (expected.empty() || expected.back() != at.first) expected.push_back(at.first);
        }
        if (*rc::gen::inRange(0, 2) == 0) {
          const size_t step = *rc::gen::inRange<size_t>(1, 6);
          const int interrupt_at =
              walked_before && *rc::gen::inRange(0, 3) == 0 ? *rc::gen::inRange(0, 8) : -1;
          int pauses = 0;
          std::vector<std::string> sorted;
          for (const MemKey* k : memtable.SortedInSteps([&] {
                 if (pauses++ == interrupt_at) (void)memtable.keys();
               }, step)) {
            sorted.emplace_back(k->key());
          }
          RC_ASSERT(sorted == expected);
        }
        walked_before = true;
        std::vector<std::string> walked;
        for (const MemKey& k : memtable.keys()) {
          walked.emplace_back(k.key());
          RC_ASSERT(k.newest->view() == *ModelGet(model, walked.back(), UINT64_MAX));
        }
        RC_ASSERT(walked == expected);
      }
    }
    RC_ASSERT(memtable.entries() == model.size());
  });
  CHECK(ok);
}

TEST_CASE("property: overwrites in place keep every live snapshot's reads") {
  uint64_t replaced_total = 0;
  bool ok = rc::check("memtable in-place overwrites vs model", [&] {
    Memtable memtable;
    Model model;
    std::vector<std::string> values;
    values.reserve(1000);
    std::multiset<uint64_t> live;  // snapshots readers hold
    uint64_t next_seq = 1;
    std::vector<uint64_t> held;
    const int ops = *rc::gen::inRange(1, 300);
    for (int i = 0; i < ops; i++) {
      const std::string key = "k" + std::to_string(*rc::gen::inRange(0, 12));
      const int action = *rc::gen::inRange(0, 10);
      if (action < 6) {
        // A held-back seq is applied after later ones: it never replaces. Values vary in length:
        // some fit the replaced version's bytes, some do not.
        const uint64_t seq = NextSeq(held, next_seq, 4, 8);
        const ValueView value = action < 5 ? RandomValue(values) : ValueView();
        memtable.Add(seq, key, value, live.empty() ? 0 : *live.rbegin());
        model[{key, seq}] = value;
      } else if (action < 7) {
        live.insert(next_seq - 1);  // a snapshot of what is written so far
      } else if (action < 8 && !live.empty()) {
        auto it = live.begin();
        std::advance(it, *rc::gen::inRange<size_t>(0, live.size()));
        live.erase(it);
      } else {
        // Reads at every live snapshot and at the current state.
        for (uint64_t snapshot : live) {
          RC_ASSERT(memtable.Get(key, snapshot) == ModelGet(model, key, snapshot));
        }
        RC_ASSERT(memtable.Get(key, UINT64_MAX) == ModelGet(model, key, UINT64_MAX));
      }
    }
    RC_ASSERT(memtable.entries() + memtable.replaced() == model.size());
    replaced_total += memtable.replaced();
  });
  CHECK(ok);
  CHECK(replaced_total > 0);
}

TEST_CASE("memtable: a key's versions are found at each snapshot; walks see keys in order") {
  Memtable memtable;
  memtable.Add(1, "b", "b1");
  memtable.Add(3, "b", "b3");
  memtable.Add(2, "b", std::nullopt);  // applied after seq 3: goes behind it in the chain
  memtable.Add(4, "a", "a4");
  CHECK_FALSE(memtable.Get("b", 0).has_value());
  CHECK(*memtable.Get("b", 1) == ValueView("b1"));
  CHECK(*memtable.Get("b", 2) == ValueView());  // the tombstone
  CHECK(*memtable.Get("b", 9) == ValueView("b3"));
  CHECK_FALSE(memtable.Get("c", 9).has_value());
  std::vector<std::string> keys;
  for (const MemKey& k : memtable.keys()) keys.emplace_back(k.key());
  CHECK(keys == std::vector<std::string>{"a", "b"});
  // Keys added after a walk land between the ordered ones.
  memtable.Add(5, "ab", "x");
  memtable.Add(6, "0", "y");
  memtable.Add(7, "z", "z");
  keys.clear();
  for (const MemKey& k : memtable.keys()) keys.emplace_back(k.key());
  CHECK(keys == std::vector<std::string>{"0", "a", "ab", "b", "z"});
  CHECK(memtable.entries() == 7);
  // The first bytes its keys start with (a prefix-confined iterator skips the others).
  for (int byte = 0; byte < 256; byte++) {
    CHECK(memtable.MayHoldFirstByte(static_cast<uint8_t>(byte)) ==
          (byte == '0' || byte == 'a' || byte == 'b' || byte == 'z'));
  }
}

TEST_CASE("memtable: ordering in steps gives keys()'s order, and yields to a walk in a pause") {
  for (int interrupt_at : {-1, 0, 3, 200}) {
    Memtable memtable;
    std::vector<std::string> expected;
    uint64_t seq = 1;
    uint64_t x = 12345;
    for (int i = 0; i < 1000; i++) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      // Many keys share their first 8 bytes: the merge compares key bytes too.
      std::string key = (x >> 63 ? "samehead:" : "") + std::to_string(x >> 40);
      if (std::find(expected.begin(), expected.end(), key) == expected.end()) expected.push_back(key);
      memtable.Add(seq++, key, "v");
    }
    std::sort(expected.begin(), expected.end());
    int pauses = 0;
    std::vector<std::string> sorted;
    for (const MemKey* k : memtable.SortedInSteps([&] {
           if (pauses++ == interrupt_at) (void)memtable.keys();
         }, 7)) {
      sorted.emplace_back(k->key());
    }
    CHECK(sorted == expected);
    // 143 sorted runs, then merge passes; an interrupted ordering stops at its next step.
    CHECK(pauses == (interrupt_at == 0 || interrupt_at == 3 ? interrupt_at + 1 : pauses));
    if (interrupt_at < 0 || interrupt_at >= 200) CHECK(pauses > 200);
    std::vector<std::string> walked;
    for (const MemKey& k : memtable.keys()) walked.emplace_back(k.key());
    CHECK(walked == expected);
  }
}

}  // namespace
}  // namespace tierkv::tiers
