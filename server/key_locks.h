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
// The table itself is core/key_locks.h (ids are 64-bit hashes of the keys).
// Rejected: shared (read) locks. Reads of one key are served in order anyway (the key's
// commands run one at a time); readers of different keys never contend; a read/write split
// would cost a second table lookup on every command for a gain only on hot-key reads inside
// multi-key commands.
#pragma once

#include <string>
#include <string_view>

#include "core/key_locks.h"

namespace tierkv::server {

// The name of `key` in database `db` in the per-executor tables of watched and blocked keys.
std::string LockId(int db, std::string_view key);

}  // namespace tierkv::server
