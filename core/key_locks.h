// Exclusive locks on names (keys), granted first come, first served, to requests that take a
// whole set of names at once: the server's per-shard key locks (server/key_locks.h tells the
// scheme) and the typed store's per-key write locks (tiers/types.h).
//
// A name is locked by its 64-bit hash (LockIdOf): two names with the same hash share a lock,
// which costs a needless wait and never a wrong answer, because a request takes all its ids at
// once (no request holds one id while waiting for another of its own). Taking ids by hash keeps
// the common case free of allocations: the held ids live in an open-addressing table of
// integers, and a request's ids in a small inline vector (LockIds); a lock or an unlock was a
// dozen allocations per command with strings in node-based sets and maps.
#pragma once

#include "core/small_vector.h"

#include <cstdint>
#include <deque>
#include <span>
#include <string_view>
#include <vector>

#include "core/executor.h"

namespace tierkv {

// The ids of one request: distinct (DedupLockIds), any order.
using LockIds = boost::container::small_vector<uint64_t, 4>;

// The lock id of `name`: its 64-bit hash (seeded: names in separate spaces), never 0.
uint64_t LockIdOf(std::string_view name, uint64_t seed = 0);
// Sorts `ids` and removes repeats.
void DedupLockIds(LockIds& ids);

class KeyLockTable {
 public:
  explicit KeyLockTable(Executor& executor) : executor_(executor) {}
  ~KeyLockTable();
  KeyLockTable(const KeyLockTable&) = delete;
  KeyLockTable& operator=(const KeyLockTable&) = delete;

  // Locks every id in `ids` (distinct), or the whole table when `whole`, after every earlier
  // request. Suspends uninterruptibly: a request, once made, is always granted, so that the
  // caller's unlock always matches it. `ids` must stay valid until it returns. Must run on the
  // table's executor.
  void Lock(std::span<const uint64_t> ids, bool whole = false);
  // Releases what the matching Lock took and grants waiting requests in order. Never suspends.
  void Unlock(std::span<const uint64_t> ids, bool whole = false);
  void Lock(const LockIds& ids, bool whole = false) { Lock(Span(ids), whole); }
  void Unlock(const LockIds& ids, bool whole = false) { Unlock(Span(ids), whole); }

  bool IsLocked(uint64_t id) const { return whole_ || Find(id) != kNotFound; }
  size_t held() const { return held_count_; }
  size_t waiting() const { return queue_.size(); }

 private:
  struct Request {
    std::span<const uint64_t> ids;
    bool whole;
    Completion granted;
  };
  static constexpr size_t kNotFound = SIZE_MAX;
  static std::span<const uint64_t> Span(const LockIds& ids) { return {ids.data(), ids.size()}; }
  bool CanGrant(std::span<const uint64_t> ids, bool whole) const;
  void Grant(std::span<const uint64_t> ids, bool whole);
  size_t Find(uint64_t id) const;
  void Insert(uint64_t id);
  void Erase(uint64_t id);

  Executor& executor_;
  // Held ids, linear probing, 0 = empty; a power of two in size, at most half full.
  std::vector<uint64_t> held_ = std::vector<uint64_t>(16, 0);
  size_t held_count_ = 0;
  bool whole_ = false;
  std::deque<Request*> queue_;  // FIFO; each request lives on its waiting fiber's stack
};

}  // namespace tierkv
