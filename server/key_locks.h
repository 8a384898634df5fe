// Per-shard key locks that make a command, a multi-shard command and a MULTI/EXEC atomic and
// isolated (the VLL scheme Dragonfly uses, simplified to exclusive locks).
//
// Every command locks the keys it names on their owner shards before it touches them and
// unlocks them when its reply is complete. A command whose keys live on several shards takes
// its locks shard by shard in ascending shard order, and within one shard all at once; requests
// are granted strictly first come, first served. Together that rules out deadlock: a request
// waits only for requests granted or queued before it on the same shard, and a holder waits
// only on shards above the one it holds. A request may also lock a whole shard (FLUSHDB,
// FLUSHALL, SWAPDB): it waits for every key lock before it and holds off every one after it.
// Locks belong to requests, not fibers: the coordinator on one executor may lock keys on another
// shard and release them later with a message.
// Rejected: shared (read) locks. Reads of one key are served in order anyway (the key's
// commands run one at a time); readers of different keys never contend; a read/write split
// would cost a second table lookup on every command for a gain only on hot-key reads inside
// multi-key commands.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/executor.h"

namespace tierkv::server {

// The lock table's name of `key` in database `db`.
std::string LockId(int db, std::string_view key);

class KeyLockTable {
 public:
  explicit KeyLockTable(Executor& executor) : executor_(executor) {}
  ~KeyLockTable();
  KeyLockTable(const KeyLockTable&) = delete;
  KeyLockTable& operator=(const KeyLockTable&) = delete;

  // Locks every id in `ids` (no duplicates), or the whole shard when `whole_shard`, after every
  // earlier request. Suspends uninterruptibly: a request, once made, is always granted, so that
  // the caller's unlock always matches it. Must run on the table's executor.
  void Lock(const std::vector<std::string>& ids, bool whole_shard = false);
  // Releases what the matching Lock took and grants waiting requests in order. Never suspends.
  void Unlock(const std::vector<std::string>& ids, bool whole_shard = false);

  bool IsLocked(std::string_view id) const { return whole_shard_ || held_.contains(std::string(id)); }
  size_t waiting() const { return queue_.size(); }

 private:
  struct Request {
    const std::vector<std::string>* ids;
    bool whole_shard;
    Completion granted;
  };
  bool CanGrant(const std::vector<std::string>& ids, bool whole_shard) const;
  void Grant(const std::vector<std::string>& ids, bool whole_shard);

  Executor& executor_;
  std::unordered_set<std::string> held_;
  bool whole_shard_ = false;
  std::deque<Request*> queue_;  // FIFO; each request lives on its waiting fiber's stack
};

}  // namespace tierkv::server
