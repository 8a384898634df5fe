// Internals of the Redis types shared by types_format.cc (the key and metadata encodings),
// types.cc (the generic, string, hash, set and sorted-set commands, the reclaimer),
// types_list.cc (the list commands) and
// types_keyspace.cc (walks, FLUSHDB, DUMP/RESTORE, COPY, active expiry). Not
// part of the interface: include tiers/types.h. The key layout is described there.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"
#include "core/sync.h"
#include "tiers/engine.h"
#include "tiers/types.h"

namespace tierkv::tiers {
namespace types_internal {

// Appends the low `bytes` bytes of `value` to `out`, big-endian.
void PutBE(std::string& out, uint64_t value, int bytes);
// Reads `bytes` big-endian bytes of `in` at `offset`.
uint64_t GetBE(std::string_view in, size_t offset, int bytes);

// The key's metadata record: 'M' | slot | db | key.
std::string MetaKey(int db, std::string_view key);
// Writes MetaKey(db, key) to `out` (key.size() + 4 bytes).
void WriteMetaKey(char* out, int db, std::string_view key);
// MetaKey(db, key) in a buffer on the stack when the key is short (the hot path of every
// command builds one; a heap string for it showed in profiles), on the heap otherwise.
// Not copyable: view() points into it.
class StackMetaKey {
 public:
  StackMetaKey(int db, std::string_view key);
  StackMetaKey(const StackMetaKey&) = delete;
  StackMetaKey& operator=(const StackMetaKey&) = delete;
  std::string_view view() const { return view_; }

 private:
  char inline_[64];
  std::string heap_;
  std::string_view view_;
};
// The prefix of the subkeys of one version of a collection: 'S' | slot | db | key length | key |
// version.
std::string SubPrefix(int db, std::string_view key, uint64_t version);

// The prefix of a sorted set version's score index: as SubPrefix with tag 'Z'.
std::string ScorePrefix(int db, std::string_view key, uint64_t version);
// Doubles as 8 bytes whose unsigned big-endian order is the numeric order (sign bit flipped for
// positives, all bits flipped for negatives); -0.0 is stored as 0.0.
std::string ScoreBytes(double score);
// The garbage record of a collection version ('G' | version | slot | db | key length | key) and
// the expiry index entry of a key ('E' | expire ms | slot | db | key).
std::string GarbageKey(uint64_t version, int db, std::string_view key);
std::string ExpiryKey(int64_t expire_ms, int db, std::string_view key);
// The metadata record's header, then a string's value. Collections (and strings written before
// the compact forms) take the full header: u8 type (1-5), i64 expire, u64 version, u64 size,
// u64 list head, u64 list tail (41 bytes). A string needs none of version, size (its value's
// length), head or tail: it takes u8 6 (no expiry) or u8 7 and i64 expire, 1 or 9 bytes. A
// SET's WAL record shrank from 109 to 69 bytes with it (a 16-byte key, a 3-byte value), and every
// string in the tree by 32-40 bytes.
constexpr size_t kMetaHeader = 41;  // the longest header
constexpr char kCompactString = 6;
constexpr char kCompactStringExpiring = 7;
constexpr size_t kCompactExpiringHeader = 9;

// The header of `meta`'s record; its string value (meta.value, or the value given) follows.
struct EncodedHeader {
  std::array<char, kMetaHeader> bytes;
  size_t size = 0;
  std::string_view view() const { return {bytes.data(), size}; }
};

EncodedHeader MetaHeader(const Metadata& meta);
// A score from its 8 order-preserving bytes.
double ScoreFrom(std::string_view bytes);
// A metadata record (Corruption when malformed).
// `with_value` false: type, expiry and version only (a read of the record's first kMetaHeader
// bytes is enough; a string's value and size are then not set right).
Result<Metadata> DecodeMeta(std::string_view in, bool with_value = true);
// Hashes, lists, sets and sorted sets (their elements are subkeys).
bool IsCollection(RedisType type);

// An expiry index record: 'E' | expiry (ms, u64 BE) | slot | db | key; the bytes before the key.
inline constexpr size_t kExpiryKeyHeader = 12;

// A new list's first index: the middle of the index space, so both ends can grow.
inline constexpr uint64_t kListMiddle = uint64_t{1} << 63;

// A DUMP payload decoded: the type and its elements in order. Strings: the value; lists and
// sets: the elements; hashes: field, value, field, value...; sorted sets: member, score (8
// order-preserving bytes), member, score...
struct Decoded {
  RedisType type = RedisType::kNone;
  std::vector<std::string> items;
};

// Adds to `batch` the garbage record that hands `version`'s subkeys to the reclaimer.
void Retire(WriteBatch& batch, int db, std::string_view key, uint64_t version);

}  // namespace types_internal

// Serialises commands on one key (or two: COPY, RENAME) across their suspensions.
class TypedStore::KeyLock {
 public:
  KeyLock(TypedStore& store, int db, std::string_view key) : KeyLock(store, LockIds{Id(db, key)}) {}
  KeyLock(TypedStore& store, LockIds ids) : store_(store), ids_(std::move(ids)) {
    DedupLockIds(ids_);
    store_.locks_.Lock(ids_);
  }
  ~KeyLock() { store_.locks_.Unlock(ids_); }
  KeyLock(const KeyLock&) = delete;
  KeyLock& operator=(const KeyLock&) = delete;
  static uint64_t Id(int db, std::string_view key) { return LockIdOf(key, static_cast<uint64_t>(db)); }

 private:
  TypedStore& store_;
  LockIds ids_;
};

}  // namespace tierkv::tiers
