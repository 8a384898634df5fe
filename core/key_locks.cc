#include "core/key_locks.h"

#include <algorithm>

#include "core/assert.h"
#include "core/hash.h"
#include "core/linear_probing.h"

namespace tierkv {

uint64_t LockIdOf(std::string_view name, uint64_t seed) {
  const uint64_t hash = Xxh3(name, seed);
  return hash == 0 ? 1 : hash;
}

void DedupLockIds(LockIds& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

KeyLockTable::~KeyLockTable() {
  TK_ASSERT_MSG(queue_.empty() || executor_.shutting_down(), "key lock table destroyed with waiters");
}

size_t KeyLockTable::Find(uint64_t id) const {
  const size_t mask = held_.size() - 1;
  for (size_t index = id & mask;; index = (index + 1) & mask) {
    if (held_[index] == id) return index;
    if (held_[index] == 0) return kNotFound;
  }
}

namespace {

// Puts `id` in the first empty slot of its probe run.
void Place(std::vector<uint64_t>& table, uint64_t id) {
  const size_t mask = table.size() - 1;
  size_t index = id & mask;
  while (table[index] != 0) {
    TK_ASSERT_MSG(table[index] != id, "lock id granted twice");
    index = (index + 1) & mask;
  }
  table[index] = id;
}

}  // namespace

void KeyLockTable::Insert(uint64_t id) {
  if ((held_count_ + 1) * 2 > held_.size()) {
    std::vector<uint64_t> old(held_.size() * 2, 0);
    old.swap(held_);
    for (uint64_t kept : old) {
      if (kept != 0) Place(held_, kept);
    }
  }
  Place(held_, id);
  held_count_++;
}

void KeyLockTable::Erase(uint64_t id) {
  const size_t index = Find(id);
  TK_ASSERT_MSG(index != kNotFound, "unlock of a key that is not locked");
  const size_t mask = held_.size() - 1;
  BackwardShiftErase(
      held_, index, [](uint64_t slot) { return slot == 0; },
      [mask](uint64_t slot) { return slot & mask; });
  held_count_--;
}

bool KeyLockTable::CanGrant(std::span<const uint64_t> ids, bool whole) const {
  if (whole_) return false;
  if (whole) return held_count_ == 0;
  for (uint64_t id : ids) {
    if (Find(id) != kNotFound) return false;
  }
  return true;
}

void KeyLockTable::Grant(std::span<const uint64_t> ids, bool whole) {
  if (whole) {
    whole_ = true;
    return;
  }
  for (uint64_t id : ids) Insert(id);
}

void KeyLockTable::Lock(std::span<const uint64_t> ids, bool whole) {
  if (queue_.empty() && CanGrant(ids, whole)) {
    Grant(ids, whole);
    return;
  }
  Request request{ids, whole, Completion(executor_)};
  queue_.push_back(&request);
  // Leaves the queue however the wait ends, including a stack unwound at teardown.
  struct Dequeue {
    std::deque<Request*>& queue;
    Request* request;
    ~Dequeue() { std::erase(queue, request); }
  } dequeue{queue_, &request};
  WakeReason reason = request.granted.Wait(kNoDeadline, /*interruptible=*/false);
  TK_ASSERT(reason == WakeReason::kWoken);
}

void KeyLockTable::Unlock(std::span<const uint64_t> ids, bool whole) {
  if (whole) {
    TK_ASSERT(whole_);
    whole_ = false;
  } else {
    for (uint64_t id : ids) Erase(id);
  }
  while (!queue_.empty() && CanGrant(queue_.front()->ids, queue_.front()->whole)) {
    Request* next = queue_.front();
    queue_.pop_front();
    Grant(next->ids, next->whole);
    next->granted.Complete(0);
  }
}

}  // namespace tierkv
