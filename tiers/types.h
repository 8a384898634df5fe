// Redis types on the ordered engine (the scheme Kvrocks uses on RocksDB).
//
// Every Redis key has one metadata record; collections keep their elements in subkey records
// tagged with the key's version:
//   metadata  'M' | slot (u16 BE) | db (u8) | key                     -> type, expiry, version,
//                                                                        size, list head/tail,
//                                                                        and a string's value
//   subkey    'S' | slot | db | key length (u32 BE) | key | version (u64 BE) | field -> value
//   score     'Z' | slot | db | key length | key | version | score (8 bytes, order-preserving)
//             | member -> (empty)          sorted sets: the index beside member -> score subkeys
//   garbage   'G' | version (u64 BE) | slot | db | key length | key  -> (empty)
// The slot prefix keeps each Redis Cluster slot contiguous, so a slot can be scanned and moved;
// the key length keeps "a" + field from colliding with "ab". DEL of a collection deletes only
// its metadata and writes a garbage record: O(1) whatever the size. A background reclaimer walks
// garbage records and deletes the old version's subkeys in bounded batches. A new key of the same
// name gets a fresh version, so stale subkeys are never visible.
// Lists store elements at u64 indexes between head and tail (starting in the middle), so push
// and pop at both ends are O(1) and LINDEX and LSET are one point read or write. The indexes stay
// contiguous, so a change in the middle moves the elements on the shorter side by the size of the
// gap (Redis's quicklist instead splits nodes; a sparse or linked encoding would make LINDEX and
// LRANGE walk). Costs in engine records written, all in one batch under the key lock:
//   LINSERT    O(min(position, size - position)) after finding the pivot (O(position) reads);
//   LREM       reads up to the whole list; writes the removed elements plus the survivors on the
//              cheaper side of them (for one match: min(position, size - position));
//   LTRIM      O(min(removed, kept)): deletes the removed elements, or, when fewer survive, copies
//              the survivors to a fresh version and retires the old one like DEL;
//   LPOS       reads only (O(scanned)).
// A middle change of a very long list is one large batch (it must fit a WAL record and passes the
// memtable budget by its size); Redis is O(N) for the same commands.
// A list, hash, set or sorted set that becomes empty is deleted, as in Redis.
// Expiry is an absolute Unix time in milliseconds in the metadata; an expired key reads as absent
// (lazy expiry). Active expiry: an index record per key with an expiry,
//   expiry    'E' | expire_ms (u64 BE) | slot | db | key -> (empty)
// written beside the metadata by every write of a key with an expiry, and a background fiber that
// every 100 ms deletes the keys whose index records are due (at most 200 per cycle). The index is
// lenient: a record may outlive its key or its key's expiry (a list emptied by LPOP, a family
// writing metadata itself); the fiber checks the metadata's expiry and drops such records when
// their time comes, so they cost space only until then.
// Concurrency: a command is one read-modify-write; a per-key fiber lock keeps two commands on one
// key from interleaving across their suspensions, without serialising different keys (group
// commit in the WAL still batches them).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/key_locks.h"
#include "core/sync.h"
#include "tiers/engine.h"

namespace tierkv::tiers {

enum class RedisType : uint8_t { kNone = 0, kString = 1, kHash = 2, kList = 3, kSet = 4, kZSet = 5 };
std::string_view RedisTypeName(RedisType type);

// Redis Cluster's slot: CRC16 (XMODEM) of the key, or of its {hashtag}, mod 16384.
uint16_t KeySlot(std::string_view key);

struct Metadata {
  RedisType type = RedisType::kNone;
  int64_t expire_ms = 0;  // absolute Unix ms; 0: no expiry
  uint64_t version = 0;
  uint64_t size = 0;  // elements (collections) or bytes (strings)
  uint64_t head = 0;  // lists: index of the first element
  uint64_t tail = 0;  // lists: index past the last element
  std::string value;  // strings: the value
};

namespace types_internal {
struct Decoded;  // a DUMP payload's elements (types_internal.h)
}  // namespace types_internal

// WRONGTYPE as Redis words it.
Status WrongType();

class TypedStore {
 public:
  // `clock` gives Unix time for expiry. Starts the reclaimer fiber on the calling executor.
  TypedStore(Engine& engine, Executor& executor, const Clock& clock);
  ~TypedStore();
  // Stops the reclaimer. Suspends.
  void Stop();

  // --- generic ---
  Result<RedisType> Type(int db, std::string_view key);
  Result<bool> Delete(int db, std::string_view key);  // O(1) for any size
  Result<bool> Expire(int db, std::string_view key, int64_t expire_ms);  // 0 clears (PERSIST)
  Result<std::optional<int64_t>> ExpireTime(int db, std::string_view key);  // nullopt: no key

  // --- strings ---
  Result<std::optional<std::string>> Get(int db, std::string_view key);
  // Starts loading what a command on `key` reads first (its metadata record's hash slots).
  void Prefetch(int db, std::string_view key, bool deep = false) const;
  Status Set(int db, std::string_view key, std::string_view value, int64_t expire_ms = 0);

  // --- hashes ---
  Result<bool> HSet(int db, std::string_view key, std::string_view field, std::string_view value);
  Result<std::optional<std::string>> HGet(int db, std::string_view key, std::string_view field);
  Result<bool> HDel(int db, std::string_view key, std::string_view field);
  Result<uint64_t> HLen(int db, std::string_view key);
  Result<std::vector<std::pair<std::string, std::string>>> HGetAll(int db, std::string_view key);

  // --- lists ---
  Result<uint64_t> Push(int db, std::string_view key, const std::vector<std::string>& values,
                        bool left);
  Result<std::optional<std::string>> Pop(int db, std::string_view key, bool left);
  Result<std::optional<std::string>> Index(int db, std::string_view key, int64_t index);
  Result<std::vector<std::string>> Range(int db, std::string_view key, int64_t start, int64_t stop);
  Result<uint64_t> LLen(int db, std::string_view key);
  // LSET. Errors: "ERR no such key", "ERR index out of range" (InvalidArgument), WRONGTYPE.
  Status LSet(int db, std::string_view key, int64_t index, std::string_view value);
  // LINSERT BEFORE|AFTER: the new length, -1 when the pivot is not in the list, 0 when the key is
  // absent.
  Result<int64_t> LInsert(int db, std::string_view key, bool before, std::string_view pivot,
                          std::string_view value);
  // LREM: removes the first `count` elements equal to `value` from the head (count > 0), from the
  // tail (count < 0) or all of them (0). Returns how many were removed.
  Result<uint64_t> LRem(int db, std::string_view key, int64_t count, std::string_view value);
  // LTRIM: keeps start..stop inclusive (Redis index rules); an empty result deletes the key.
  Status LTrim(int db, std::string_view key, int64_t start, int64_t stop);
  // LPOS: positions (from the head) of elements equal to `value`, skipping the first |rank| - 1
  // matches, searching from the tail when rank < 0, returning at most `count` of them (0: all)
  // and comparing at most `maxlen` elements (0: all). The server answers a single position or nil
  // when COUNT was not given (count 1). Errors as Redis words them for rank 0 or INT64_MIN and a
  // negative count or maxlen (InvalidArgument).
  Result<std::vector<uint64_t>> LPos(int db, std::string_view key, std::string_view value,
                                     int64_t rank = 1, int64_t count = 1, int64_t maxlen = 0);

  // --- sets ---
  Result<bool> SAdd(int db, std::string_view key, std::string_view member);
  Result<bool> SRem(int db, std::string_view key, std::string_view member);
  Result<bool> SIsMember(int db, std::string_view key, std::string_view member);
  Result<std::vector<std::string>> SMembers(int db, std::string_view key);
  Result<uint64_t> SCard(int db, std::string_view key);

  // --- sorted sets ---
  // Adds or updates; true when the member is new.
  Result<bool> ZAdd(int db, std::string_view key, std::string_view member, double score);
  Result<std::optional<double>> ZScore(int db, std::string_view key, std::string_view member);
  Result<bool> ZRem(int db, std::string_view key, std::string_view member);
  Result<uint64_t> ZCard(int db, std::string_view key);
  // Members with min <= score <= max in score order (then member order), at most `limit`.
  Result<std::vector<std::pair<std::string, double>>> ZRangeByScore(int db, std::string_view key,
                                                                    double min, double max,
                                                                    uint64_t limit = UINT64_MAX);
  // Members by rank, start..stop inclusive, Redis index rules (negative from the end).
  Result<std::vector<std::pair<std::string, double>>> ZRange(int db, std::string_view key,
                                                             int64_t start, int64_t stop);

  // --- building blocks for the command families (server/cmd_*.cc) ---
  // The server runs every command under its keys' locks (server/key_locks.h), so a family may
  // compose these into read-modify-write commands without further locking.
  Engine& engine() { return engine_; }
  // The live key's metadata: nullopt when absent or expired; WRONGTYPE when its type is not
  // `want` (kNone: any type).
  Result<std::optional<Metadata>> Lookup(int db, std::string_view key,
                                         RedisType want = RedisType::kNone);
  struct MemberChanges {
    uint64_t added = 0;    // fields or members that did not exist and were set
    uint64_t updated = 0;  // fields that existed and were set
    uint64_t removed = 0;  // fields or members that existed and were removed
  };
  // Sets (value) or removes (nullopt) fields of a hash or members of a set (value "") in one
  // engine write, in order (a later change of the same field wins). Creates the key when it is
  // absent and something is set; deletes it when it ends up empty. WRONGTYPE for another type.
  Result<MemberChanges> ChangeMembers(
      int db, std::string_view key, RedisType type,
      const std::vector<std::pair<std::string, std::optional<std::string>>>& changes);
  // Visits the fields of a hash (with values) or members of a set (value "") in byte order,
  // starting at the first >= `from`, until `visit` returns false. Absent key: no visit.
  // WRONGTYPE for another type.
  Status ScanMembers(int db, std::string_view key, RedisType type, std::string_view from,
                     const std::function<bool(std::string_view member, std::string_view value)>& visit);
  // One field of a hash / member of a set: its value, or nullopt.
  Result<std::optional<std::string>> GetMember(int db, std::string_view key, RedisType type,
                                               std::string_view member);

  // --- sorted-set building blocks (server/cmd_sorted_sets.cc) ---
  // Visits the members of a sorted set with their scores in score order (ties in member byte
  // order), or in the reverse order when `reverse`; forward from the first score >= `from`,
  // reverse from the last score <= `from` (nullopt: from the start / end), until `visit` returns
  // false. Absent key: no visit. WRONGTYPE for another type. O(log n + visited).
  Status ScanZSet(int db, std::string_view key, bool reverse, std::optional<double> from,
                  const std::function<bool(std::string_view member, double score)>& visit);
  // Visits the members in byte order (member subkeys) from the first >= `from`, with scores.
  Status ScanZSetMembers(int db, std::string_view key, std::string_view from,
                         const std::function<bool(std::string_view member, double score)>& visit);
  // Sets (score) or removes (nullopt) members in one engine write, keeping the score index in
  // step; a later change of the same member wins. `updated` counts members whose score changed
  // (an unchanged score writes nothing). Creates the key when absent and something is set;
  // deletes it when it ends up empty. WRONGTYPE for another type.
  Result<MemberChanges> ZChange(int db, std::string_view key,
                                const std::vector<std::pair<std::string, std::optional<double>>>& changes);

  // --- the keyspace (KEYS, SCAN, DBSIZE, RANDOMKEY, FLUSHDB, RENAME, COPY, MOVE, DUMP) ---
  // Visits the live keys of `db` whose slot is in [first_slot, end_slot) in (slot, key) order,
  // starting at the first key >= `from` in first_slot, until `visit` returns false. Keys of other
  // databases are skipped by seeking past them (one seek per (slot, db) run), expired keys are not
  // visited. Cost: the records visited plus one seek per slot holding other databases' keys.
  using KeyVisitor =
      std::function<bool(uint16_t slot, std::string_view key, const Metadata& meta)>;
  Status ScanKeys(int db, uint32_t first_slot, std::string_view from, uint32_t end_slot,
                  const KeyVisitor& visit);
  // Deletes every key of `db` (every database when db < 0), expired ones included, in batches of
  // bounded size; collections' elements go to the reclaimer (FLUSHDB is O(keys), not O(elements)).
  // The caller keeps other writers away (the server locks the whole shard). Returns the number of
  // live keys removed.
  Result<uint64_t> Flush(int db);
  // DUMP: the key's type and elements in tierkv's payload (see types.cc: format version and an
  // XXH64 checksum at the end, like Redis's RDB version and CRC64); nullopt when absent.
  Result<std::optional<std::string>> Dump(int db, std::string_view key);
  // RESTORE: recreates `key` from a Dump payload with expiry `expire_ms` (0: none), in one write.
  // An existing key is replaced when `replace`, else nothing is written and the answer is false.
  // InvalidArgument "ERR DUMP payload version or checksum are wrong" / "ERR Bad data format".
  Result<bool> Restore(int db, std::string_view key, std::string_view payload, int64_t expire_ms,
                       bool replace);
  // Checks a payload's version, checksum and format without writing (RESTORE of an already
  // expired TTL answers OK only for a valid payload).
  static Status CheckPayload(std::string_view payload);
  enum class CopyOutcome { kCopied, kNoSource, kTargetExists };
  // COPY, RENAME and MOVE of keys on this shard, in one engine write: `dst` in `dst_db` becomes a
  // copy of the live `src` of `src_db` (elements under a fresh version, the same expiry), replacing
  // an existing `dst` only when `replace`; `src` is deleted when `remove_source`. O(elements).
  // src and dst must differ (the server answers those cases itself).
  Result<CopyOutcome> CopyKey(int src_db, std::string_view src, int dst_db, std::string_view dst,
                              bool replace, bool remove_source);

  // --- active expiry ---
  // Called after the expiry fiber deleted keys (the server invalidates WATCHes and publishes
  // "expired"). Runs on the store's executor, outside the store's locks.
  void OnExpired(std::function<void(int db, std::string_view key)> listener) {
    on_expired_ = std::move(listener);
  }
  // Deletes up to `limit` keys whose expiry index records are due, in one write; returns how many
  // live-until-now keys it deleted (stale index records are dropped without counting). Suspends.
  Result<uint64_t> ExpireOnce(size_t limit);
  uint64_t expired_keys() const { return expired_; }

  // Off (the default): a write returns once durable per the engine's sync mode. On: once applied
  // (Engine::WriteUnsynced), and whoever answers for it or for a read first waits for
  // Engine::AwaitDurable(unsynced_lsn()) (the server, once per pipeline).
  void set_defer_durability(bool defer) { defer_durability_ = defer; }

  // Garbage records left to reclaim (for tests and INFO).
  uint64_t reclaimed_subkeys() const { return reclaimed_; }
  // Runs one reclamation pass now (tests). Suspends.
  Status ReclaimOnce();

 private:
  class KeyLock;
  // Metadata of a live key (expired keys read as absent). When `retire` is given and the key is an
  // expired collection, a garbage record for its subkeys is added to it.
  Result<std::optional<Metadata>> ReadMeta(int db, std::string_view key, RedisType want,
                                           WriteBatch* retire = nullptr);
  Result<std::optional<Metadata>> ReadMetaAny(int db, std::string_view key,
                                              WriteBatch* retire = nullptr);
  // Elements of a collection of `type` (0 when absent). WRONGTYPE for another type.
  Result<uint64_t> Size(int db, std::string_view key, RedisType type);
  // Sets (value) or removes (nullopt) one field of a hash or member of a set; true when the
  // field was added (set) or existed (remove). The caller holds the key lock.
  Result<bool> ChangeMember(int db, std::string_view key, RedisType type, std::string_view member,
                            std::optional<std::string> value);
  Result<std::vector<std::pair<std::string, double>>> ScanScores(
      int db, std::string_view key, const Metadata& meta, std::optional<double> min,
      std::optional<double> max, uint64_t skip, uint64_t limit);
  void PutMeta(WriteBatch& batch, int db, std::string_view key, const Metadata& meta);
  // Visits up to `limit` elements of the list under `prefix` from the head (or the tail), each
  // with its position from the head, until `visit` returns false.
  Status ScanList(const std::string& prefix, const Metadata& meta, bool from_tail, uint64_t limit,
                  const std::function<bool(uint64_t position, const std::string& value)>& visit);
  // Adds to `batch` a copy of `count` list elements from physical index `first` under `from` to
  // the indexes from `to_first` under `to` (the same or another version). Reads them first.
  Status CopyElements(WriteBatch& batch, const std::string& from, uint64_t first, uint64_t count,
                      const std::string& to, uint64_t to_first);
  // Deletes the key and hands its subkeys to the reclaimer: O(1) whatever the size.
  Status DeleteCollection(int db, std::string_view key, uint64_t version, WriteBatch& batch);
  // The payload's elements decoded (types.cc), and their records added to a batch.
  // The live key's elements (nullopt when absent) and, in `meta`, its metadata.
  Result<std::optional<types_internal::Decoded>> ReadDecoded(int db, std::string_view key,
                                                             Metadata& meta);
  void PutDecoded(WriteBatch& batch, int db, std::string_view key,
                  const types_internal::Decoded& decoded, int64_t expire_ms);
  // Walks metadata records of `db` (all when < 0) like ScanKeys, expired keys included.
  Status WalkKeys(int db, uint32_t first_slot, std::string_view from, uint32_t end_slot,
                  bool live_only, const std::function<bool(uint16_t slot, int db, std::string_view key,
                                                           const Metadata& meta)>& visit);
  // Every write of the store goes through here (set_defer_durability).
  Status Commit(const WriteBatch& batch);
  uint64_t NewVersion();
  int64_t NowMs() const;
  void ReclaimLoop();
  void ExpireLoop();
  // Removes the expiry index record of (db, key) at `expire_ms` (nothing when 0).
  void DropExpiry(WriteBatch& batch, int db, std::string_view key, int64_t expire_ms);
  // Adds the expiry index record of (db, key) at `expire_ms` (> 0) and tells the expire loop.
  void PutExpiry(WriteBatch& batch, int db, std::string_view key, int64_t expire_ms);

  Engine& engine_;
  Executor& executor_;
  const Clock& clock_;
  uint64_t last_version_ = 0;
  KeyLockTable locks_;
  FiberHandle reclaimer_;
  Event reclaim_wanted_;
  Mutex reclaim_mutex_;
  bool stopping_ = false;
  bool defer_durability_ = false;
  uint64_t reclaimed_ = 0;
  FiberHandle expirer_;
  Event expire_wakeup_;  // set by Stop
  std::function<void(int db, std::string_view key)> on_expired_;
  uint64_t expired_ = 0;
  // The expire loop's schedule: when the earliest expiry record falls due (0: unknown, scan
  // now), lowered by every write of a record; and when the index was last scanned.
  int64_t next_expiry_ms_ = 0;
  int64_t last_expiry_scan_ms_ = 0;
};

}  // namespace tierkv::tiers
