#include "server/key_locks.h"

#include "core/assert.h"

namespace tierkv::server {

std::string LockId(int db, std::string_view key) {
  std::string id;
  id.reserve(key.size() + 2);
  id.push_back(static_cast<char>(db >> 8));
  id.push_back(static_cast<char>(db & 0xff));
  id.append(key);
  return id;
}

KeyLockTable::~KeyLockTable() {
  TK_ASSERT_MSG(queue_.empty() || executor_.shutting_down(), "key lock table destroyed with waiters");
}

bool KeyLockTable::CanGrant(const std::vector<std::string>& ids, bool whole_shard) const {
  if (whole_shard_) return false;
  if (whole_shard) return held_.empty();
  for (const std::string& id : ids) {
    if (held_.contains(id)) return false;
  }
  return true;
}

void KeyLockTable::Grant(const std::vector<std::string>& ids, bool whole_shard) {
  if (whole_shard) {
    whole_shard_ = true;
    return;
  }
  for (const std::string& id : ids) held_.insert(id);
}

void KeyLockTable::Lock(const std::vector<std::string>& ids, bool whole_shard) {
  if (queue_.empty() && CanGrant(ids, whole_shard)) {
    Grant(ids, whole_shard);
    return;
  }
  Request request{&ids, whole_shard, Completion(executor_)};
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

void KeyLockTable::Unlock(const std::vector<std::string>& ids, bool whole_shard) {
  if (whole_shard) {
    TK_ASSERT(whole_shard_);
    whole_shard_ = false;
  } else {
    for (const std::string& id : ids) {
      size_t erased = held_.erase(id);
      TK_ASSERT_MSG(erased == 1, "unlock of a key that is not locked");
    }
  }
  while (!queue_.empty() && CanGrant(*queue_.front()->ids, queue_.front()->whole_shard)) {
    Request* next = queue_.front();
    queue_.pop_front();
    Grant(*next->ids, next->whole_shard);
    next->granted.Complete(0);
  }
}

}  // namespace tierkv::server
