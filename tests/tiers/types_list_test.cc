// The list commands that change the middle of a list (tiers/types_list.cc): LSET, LINSERT,
// LREM, LTRIM and LPOS as Redis answers them (errors, negative indexes, ends), the records a
// middle change writes (only the shorter side), and random list commands against a std::deque
// model with one-letter values, so that pivots and matches repeat.
#include <doctest/doctest.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/random.h"
#include "tests/env_harness.h"
#include "tests/tiers/types_helpers.h"
#include "tiers/types.h"
#include "tiers/types_internal.h"

namespace tierkv::tiers {
namespace {

TEST_CASE("types: LSET and LINSERT as Redis answers them (errors, negative indexes, ends)") {
  testing::RunInBoth(1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [](Engine&, TypedStore& store) {
      CHECK(store.LSet(0, "l", 0, "x").message() == "ERR no such key");
      CHECK(store.Type(0, "l").value() == RedisType::kNone);
      REQUIRE(store.Push(0, "l", {"a", "b", "c", "d"}, false).has_value());
      CHECK(store.LSet(0, "l", 1, "B").ok());
      CHECK(store.LSet(0, "l", -1, "D").ok());
      CHECK(store.LSet(0, "l", -4, "A").ok());
      CHECK(store.LSet(0, "l", 4, "x").message() == "ERR index out of range");
      CHECK(store.LSet(0, "l", -5, "x").message() == "ERR index out of range");
      CHECK(store.LSet(0, "l", INT64_MIN, "x").message() == "ERR index out of range");
      CHECK(All(store, "l") == Strings{"A", "B", "c", "D"});

      CHECK(store.LInsert(0, "none", true, "a", "x").value() == 0);  // absent key: 0, no key
      CHECK(store.Type(0, "none").value() == RedisType::kNone);
      CHECK(store.LInsert(0, "l", true, "zz", "x").value() == -1);  // pivot not found
      CHECK(store.LLen(0, "l").value() == 4);
      CHECK(store.LInsert(0, "l", true, "A", "0").value() == 5);    // before the head
      CHECK(store.LInsert(0, "l", false, "D", "E").value() == 6);   // after the tail
      CHECK(store.LInsert(0, "l", false, "B", "b2").value() == 7);  // middle, head side
      CHECK(store.LInsert(0, "l", true, "D", "d0").value() == 8);   // middle, tail side
      CHECK(All(store, "l") == Strings{"0", "A", "B", "b2", "c", "d0", "D", "E"});
      // The first pivot from the head is the one used.
      REQUIRE(store.Push(0, "dup", {"p", "x", "p"}, false).has_value());
      CHECK(store.LInsert(0, "dup", false, "p", "after").value() == 4);
      CHECK(All(store, "dup") == Strings{"p", "after", "x", "p"});
      // Push and pop still work at both ends after middle inserts moved head and tail.
      CHECK(store.Push(0, "l", {"L"}, true).value() == 9);
      CHECK(store.Push(0, "l", {"R"}, false).value() == 10);
      CHECK(store.Pop(0, "l", true).value() == "L");
      CHECK(store.Pop(0, "l", false).value() == "R");
      CHECK(store.Index(0, "l", 3).value() == "b2");

      REQUIRE(store.Set(0, "s", "v").ok());
      CHECK(store.LSet(0, "s", 0, "x").message().starts_with("WRONGTYPE"));
      CHECK(store.LInsert(0, "s", true, "v", "x").error().message().starts_with("WRONGTYPE"));
    });
  });
}

TEST_CASE("types: LREM from the head, the tail, all; an emptied list is deleted") {
  testing::RunInBoth(1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [](Engine&, TypedStore& store) {
      CHECK(store.LRem(0, "none", 0, "x").value() == 0);
      REQUIRE(store.Push(0, "r", {"a", "x", "b", "x", "c", "x", "d", "x"}, false).has_value());
      CHECK(store.LRem(0, "r", 0, "nope").value() == 0);
      CHECK(store.LRem(0, "r", 1, "x").value() == 1);
      CHECK(All(store, "r") == Strings{"a", "b", "x", "c", "x", "d", "x"});
      CHECK(store.LRem(0, "r", -2, "x").value() == 2);
      CHECK(All(store, "r") == Strings{"a", "b", "x", "c", "d"});
      CHECK(store.LRem(0, "r", 0, "x").value() == 1);
      CHECK(All(store, "r") == Strings{"a", "b", "c", "d"});
      CHECK(store.LRem(0, "r", 5, "a").value() == 1);  // count above the matches
      CHECK(store.LRem(0, "r", INT64_MIN, "d").value() == 1);
      CHECK(All(store, "r") == Strings{"b", "c"});
      // Removing the ends and the middle in one command keeps the rest in order.
      REQUIRE(store.Push(0, "m", {"y", "1", "y", "y", "2", "3", "y", "4", "y"}, false).has_value());
      CHECK(store.LRem(0, "m", 0, "y").value() == 5);
      CHECK(All(store, "m") == Strings{"1", "2", "3", "4"});
      CHECK(store.Push(0, "m", {"0"}, true).value() == 5);
      CHECK(store.Push(0, "m", {"5"}, false).value() == 6);
      CHECK(All(store, "m") == Strings{"0", "1", "2", "3", "4", "5"});
      // Every element removed: the key is gone.
      REQUIRE(store.Push(0, "e", {"z", "z", "z"}, false).has_value());
      CHECK(store.LRem(0, "e", 0, "z").value() == 3);
      CHECK(store.Type(0, "e").value() == RedisType::kNone);
      CHECK(store.Push(0, "e", {"new"}, false).value() == 1);
      CHECK(All(store, "e") == Strings{"new"});
      REQUIRE(store.Set(0, "s", "v").ok());
      CHECK(store.LRem(0, "s", 0, "v").error().message().starts_with("WRONGTYPE"));
    });
  });
}

TEST_CASE("types: LTRIM follows Redis's index rules; trimming to empty deletes the key") {
  testing::RunInBoth(1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [](Engine&, TypedStore& store) {
      const Strings ten = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
      CHECK(store.LTrim(0, "none", 0, 1).ok());
      CHECK(store.Type(0, "none").value() == RedisType::kNone);
      REQUIRE(store.Push(0, "t", ten, false).has_value());
      CHECK(store.LTrim(0, "t", -100, 100).ok());  // clamped: nothing removed
      CHECK(All(store, "t") == ten);
      CHECK(store.LTrim(0, "t", 1, -2).ok());
      CHECK(All(store, "t") == Strings{"1", "2", "3", "4", "5", "6", "7", "8"});
      CHECK(store.LTrim(0, "t", 5, 100).ok());  // fewer kept than removed: a fresh version
      CHECK(All(store, "t") == Strings{"6", "7", "8"});
      CHECK(store.Push(0, "t", {"L"}, true).value() == 4);
      CHECK(store.Index(0, "t", -1).value() == "8");
      CHECK(store.LTrim(0, "t", 2, 1).ok());  // start > stop: empty
      CHECK(store.Type(0, "t").value() == RedisType::kNone);
      REQUIRE(store.Push(0, "t", ten, false).has_value());
      CHECK(store.LTrim(0, "t", 10, 20).ok());  // start past the end: empty
      CHECK(store.LLen(0, "t").value() == 0);
      REQUIRE(store.Push(0, "t", ten, false).has_value());
      CHECK(store.LTrim(0, "t", -3, -1).ok());
      CHECK(All(store, "t") == Strings{"7", "8", "9"});
      CHECK(store.LTrim(0, "t", 0, -4).ok());  // stop before start after adjusting: empty
      CHECK(store.Type(0, "t").value() == RedisType::kNone);
      REQUIRE(store.ReclaimOnce().ok());
      REQUIRE(store.Set(0, "s", "v").ok());
      CHECK(store.LTrim(0, "s", 0, 1).message().starts_with("WRONGTYPE"));
    });
  });
}

TEST_CASE("types: LPOS with RANK, COUNT and MAXLEN") {
  testing::RunInBoth(1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [](Engine&, TypedStore& store) {
      // The example on the Redis LPOS page.
      REQUIRE(store.Push(0, "p", {"a", "b", "c", "d", "1", "2", "3", "4", "3", "3", "3"}, false)
                  .has_value());
      CHECK(store.LPos(0, "p", "3").value() == Positions{6});
      CHECK(store.LPos(0, "p", "3", 2, 0).value() == Positions{8, 9, 10});
      CHECK(store.LPos(0, "p", "3", -1).value() == Positions{10});
      CHECK(store.LPos(0, "p", "3", -2, 2).value() == Positions{9, 8});
      CHECK(store.LPos(0, "p", "3", 1, 0).value() == Positions{6, 8, 9, 10});
      CHECK(store.LPos(0, "p", "3", 1, 0, 7).value() == Positions{6});  // compares 7 elements
      CHECK(store.LPos(0, "p", "3", -1, 0, 2).value() == Positions{10, 9});
      CHECK(store.LPos(0, "p", "3", 5).value().empty());
      CHECK(store.LPos(0, "p", "zz", 1, 0).value().empty());
      CHECK(store.LPos(0, "none", "3").value().empty());
      CHECK(store.LPos(0, "p", "3", 0).error().message() ==
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
      Status overflow = store.LPos(0, "p", "3", INT64_MIN).error();
      CHECK(overflow.message().starts_with("ERR value is out of range"));
      CHECK(store.LPos(0, "p", "3", 1, -1).error().message() == "ERR COUNT can't be negative");
      CHECK(store.LPos(0, "p", "3", 1, 1, -1).error().message() == "ERR MAXLEN can't be negative");
      REQUIRE(store.Set(0, "s", "v").ok());
      CHECK(store.LPos(0, "s", "v").error().message().starts_with("WRONGTYPE"));
    });
  });
}

TEST_CASE("types: a middle change of a list writes only the shorter side") {
  testing::RunInEnv(testing::EnvKind::kSimulation, 1, [](Env& env, const std::string& dir) {
    WithStore(env, dir, [](Engine& engine, TypedStore& store) {
      Strings model;
      for (int i = 0; i < 1000; i++) model.push_back("e" + std::to_string(i));
      REQUIRE(store.Push(0, "l", model, false).has_value());
      auto writes = [&](const std::function<void()>& command) {
        uint64_t before = engine.stats().visible_seq;
        command();
        return engine.stats().visible_seq - before;
      };
      // Insert at position 10 of 1000: 10 elements move toward the head, + new + metadata.
      CHECK(writes([&] { CHECK(store.LInsert(0, "l", true, "e10", "X").value() == 1001); }) == 12);
      model.insert(model.begin() + 10, "X");
      // After e990 (position 991 of 1001): the 9 elements after it move toward the tail.
      CHECK(writes([&] { CHECK(store.LInsert(0, "l", false, "e990", "Y").value() == 1002); }) ==
            11);
      model.insert(model.begin() + 992, "Y");
      // Removing position 3: 3 elements move, 1 slot deleted, + metadata.
      CHECK(writes([&] { CHECK(store.LRem(0, "l", 1, "e3").value() == 1); }) == 5);
      model.erase(model.begin() + 3);
      // Removing positions 1 and 998 of 1001: the run between them stays; 1 + 2 moves, 2 deletes
      // and the metadata.
      REQUIRE(store.LSet(0, "l", 1, "dup").ok());
      REQUIRE(store.LSet(0, "l", 998, "dup").ok());
      CHECK(writes([&] { CHECK(store.LRem(0, "l", 0, "dup").value() == 2); }) == 6);
      model.erase(model.begin() + 998);
      model.erase(model.begin() + 1);
      CHECK(writes([&] { CHECK(store.LSet(0, "l", 500, "S").ok()); }) == 1);
      model[500] = "S";
      CHECK(writes([&] { CHECK(store.LTrim(0, "l", 1, -1).ok()); }) == 2);
      model.erase(model.begin());
      CHECK(All(store, "l") == model);
      // Keeping 2 of ~1000: copy both to a fresh version + garbage record + metadata.
      CHECK(writes([&] { CHECK(store.LTrim(0, "l", 600, 601).ok()); }) == 4);
      CHECK(All(store, "l") == Strings(model.begin() + 600, model.begin() + 602));
    });
  });
}

// Random list commands on the store and on a std::deque model; one-letter values so pivots and
// matches repeat.
class ListModel {
 public:
  ListModel(TypedStore& store, uint64_t seed) : store_(store), random_(seed) {}

  void Step() {
    size_ = static_cast<int64_t>(model_.size());
    peak_ = std::max(peak_, model_.size());
    switch (random_.Uniform(10)) {
      case 0: Pop(); break;
      case 1: Insert(); break;
      case 2: Remove(); break;
      case 3:
        if (random_.Chance(0.1)) Trim();
        break;  // rare, so the list grows long
      case 4: SetIndex(); break;
      case 5: Position(); break;
      default: Push(); break;
    }
    REQUIRE(store_.LLen(0, "l").value() == model_.size());
  }
  void CheckAll() { REQUIRE(All(store_, "l") == Strings(model_.begin(), model_.end())); }
  size_t size() const { return model_.size(); }
  size_t peak() const { return peak_; }

 private:
  std::string Value() { return std::string(1, static_cast<char>('a' + random_.Uniform(10))); }

  void Push() {
    std::string v = Value();
    bool left = random_.Chance(0.5);
    REQUIRE(store_.Push(0, "l", {v}, left).value() == model_.size() + 1);
    left ? model_.push_front(v) : model_.push_back(v);
  }
  void Pop() {
    bool left = random_.Chance(0.5);
    auto popped = store_.Pop(0, "l", left).value();
    REQUIRE(popped.has_value() == !model_.empty());
    if (!popped) return;
    REQUIRE(*popped == (left ? model_.front() : model_.back()));
    left ? model_.pop_front() : model_.pop_back();
  }
  void Insert() {
    std::string pivot = Value(), v = Value();
    bool before = random_.Chance(0.5);
    auto it = std::find(model_.begin(), model_.end(), pivot);
    int64_t expect = model_.empty() ? 0 : it == model_.end() ? -1 : size_ + 1;
    REQUIRE(store_.LInsert(0, "l", before, pivot, v).value() == expect);
    if (expect > 0) model_.insert(before ? it : it + 1, v);
  }
  void Remove() {
    std::string v = Value();
    int64_t count = random_.Range(-3, 3);
    uint64_t want = count == 0 ? UINT64_MAX : static_cast<uint64_t>(std::abs(count));
    uint64_t removed = 0;
    for (int64_t step = 0; step < size_ && removed < want; step++) {
      int64_t i = count >= 0 ? step - static_cast<int64_t>(removed) : size_ - 1 - step;
      if (model_[i] != v) continue;
      model_.erase(model_.begin() + i);
      removed++;
    }
    REQUIRE(store_.LRem(0, "l", count, v).value() == removed);
  }
  void Trim() {
    int64_t start = random_.Range(-size_ - 2, size_ + 2);
    int64_t stop = random_.Chance(0.8) ? random_.Range(-3, -1) : random_.Range(-size_ - 2, size_);
    REQUIRE(store_.LTrim(0, "l", start, stop).ok());
    int64_t first = start < 0 ? std::max<int64_t>(0, start + size_) : start;
    int64_t last = std::min(stop < 0 ? stop + size_ : stop, size_ - 1);
    if (first > last) {
      model_.clear();
      return;
    }
    model_.erase(model_.begin() + last + 1, model_.end());
    model_.erase(model_.begin(), model_.begin() + first);
  }
  void SetIndex() {
    int64_t index = random_.Range(-size_ - 1, size_);
    std::string v = Value();
    Status set = store_.LSet(0, "l", index, v);
    if (size_ == 0) {
      REQUIRE(set.message() == "ERR no such key");
    } else if (index < -size_ || index >= size_) {
      REQUIRE(set.message() == "ERR index out of range");
    } else {
      REQUIRE(set.ok());
      model_[index < 0 ? index + size_ : index] = v;
    }
  }
  void Position() {  // LPOS RANK -2 COUNT 0: every match from the tail but the first
    std::string v = Value();
    Positions expect;
    for (int64_t i = size_ - 1; i >= 0; i--) {
      if (model_[i] == v) expect.push_back(static_cast<uint64_t>(i));
    }
    if (!expect.empty()) expect.erase(expect.begin());
    REQUIRE(store_.LPos(0, "l", v, -2, 0).value() == expect);
  }

  TypedStore& store_;
  Prng random_;
  std::deque<std::string> model_;
  int64_t size_ = 0;
  size_t peak_ = 0;
};

TEST_CASE("types: random list commands match a model") {
  for (uint64_t seed : {1, 2, 3, 20240601}) {
    INFO("seed ", seed);
    testing::RunInEnv(testing::EnvKind::kSimulation, 1, [&](Env& env, const std::string& dir) {
      WithStore(env, dir, [&](Engine&, TypedStore& store) {
        ListModel model(store, seed);
        for (int step = 0; step < 3000; step++) {
          CAPTURE(step);
          model.Step();
          if (step % 50 == 0 || model.size() < 4) model.CheckAll();
        }
        model.CheckAll();
        CHECK(model.peak() > 50);  // long enough that both sides of a middle change are exercised
      });
    });
  }
}

}  // namespace
}  // namespace tierkv::tiers
