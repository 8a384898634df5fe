// The keyspace of the Redis types (tiers/types.h): walks for KEYS/SCAN/DBSIZE/RANDOMKEY,
// FLUSHDB, DUMP/RESTORE payloads, COPY/MOVE, and active expiry. The per-type commands are in
// types.cc and types_list.cc.
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "core/assert.h"
#include "tiers/types.h"
#include "tiers/types_internal.h"

namespace tierkv::tiers {

using types_internal::Decoded;
using types_internal::DecodeMeta;
using types_internal::GetBE;
using types_internal::IsCollection;
using types_internal::kExpiryKeyHeader;
using types_internal::kListMiddle;
using types_internal::MetaKey;
using types_internal::PutBE;
using types_internal::Retire;
using types_internal::ScoreFrom;
using types_internal::ScorePrefix;
using types_internal::SubPrefix;

namespace {

constexpr size_t kFlushBatch = 1024;  // keys deleted per FLUSHDB write batch
// Active expiry: at most this many keys per cycle, one cycle per interval (Redis's default hz 10
// runs its cycle every 100 ms too); bounds the cycle's write batch and the locks it holds.
constexpr size_t kExpirePerCycle = 200;
constexpr Duration kExpireInterval = milliseconds(100);
constexpr int64_t kExpiryRescanMs = 1000;
constexpr uint32_t kSlotCount = 16384;
// DUMP payload format version (bump on any change; RESTORE refuses other versions).
constexpr uint16_t kDumpVersion = 1;
constexpr size_t kDumpFooter = 10;  // version (u16 LE) + XXH64 (u64 LE)

}  // namespace

// --- the keyspace ---
//
// DUMP payload: type (1 byte) | count (u64 BE) | items, each length (u32 BE) + bytes | format
// version (u16 LE) | XXH64 of everything before it (u64 LE). Items per element: one for strings
// (count 1), lists and sets, two for hashes (field, value) and sorted sets (member, score in the
// 8-byte order-preserving form). Like Redis's RDB payload + version + CRC64, a payload from
// another format version or a damaged one is refused whole.

Status TypedStore::WalkKeys(
    int db, uint32_t first_slot, std::string_view from, uint32_t end_slot, bool live_only,
    const std::function<bool(uint16_t slot, int db, std::string_view key, const Metadata& meta)>&
        visit) {
  TK_ASSERT(end_slot <= kSlotCount && first_slot <= end_slot);
  TK_ASSERT(db >= 0 || from.empty());
  auto position = [db](uint32_t slot, std::string_view rest) {
    std::string out(1, 'M');
    PutBE(out, slot, 2);
    if (db >= 0) {
      out.push_back(static_cast<char>(db));
      out += rest;
    }
    return out;
  };
  const int64_t now = NowMs();
  auto it = engine_.NewIterator();
  TK_RETURN_IF_ERROR(it->Seek(position(first_slot, from)));
  while (it->Valid()) {
    const std::string& record = it->key();
    if (record.size() < 4 || record[0] != 'M') break;
    const auto slot = static_cast<uint32_t>(GetBE(record, 1, 2));
    if (slot >= end_slot) break;
    const int record_db = static_cast<uint8_t>(record[3]);
    if (db >= 0 && record_db != db) {
      // Jump over the other database's run: to (slot, db) when it is still ahead, else the next slot.
      const uint32_t next = record_db < db ? slot : slot + 1;
      if (next >= end_slot) break;
      TK_RETURN_IF_ERROR(it->Seek(position(next, "")));
      continue;
    }
    auto raw = it->value();
    if (!raw) return raw.error();
    auto meta = DecodeMeta(*raw);
    if (!meta) return meta.error();
    const bool live = meta->expire_ms == 0 || meta->expire_ms > now;
    if (live || !live_only) {
      const std::string key = record.substr(4);
      if (!visit(static_cast<uint16_t>(slot), record_db, key, *meta)) break;
    }
    TK_RETURN_IF_ERROR(it->Next());
  }
  return Status::Ok();
}

Status TypedStore::ScanKeys(int db, uint32_t first_slot, std::string_view from, uint32_t end_slot,
                            const KeyVisitor& visit) {
  TK_ASSERT(db >= 0);
  return WalkKeys(db, first_slot, from, end_slot, /*live_only=*/true,
                  [&](uint16_t slot, int, std::string_view key, const Metadata& meta) {
                    return visit(slot, key, meta);
                  });
}

Result<uint64_t> TypedStore::Flush(int db) {
  uint64_t removed = 0;
  const int64_t now = NowMs();
  // Each round deletes the first kFlushBatch keys left, so the walk restarts at the beginning.
  for (size_t round = 0;; round++) {
    WriteBatch batch;
    bool collections = false;
    size_t count = 0;
    TK_RETURN_IF_ERROR_R(WalkKeys(
        db, 0, "", kSlotCount, /*live_only=*/false,
        [&](uint16_t, int key_db, std::string_view key, const Metadata& meta) {
          batch.Delete(MetaKey(key_db, key));
          DropExpiry(batch, key_db, key, meta.expire_ms);
          if (IsCollection(meta.type)) {
            Retire(batch, key_db, key, meta.version);
            collections = true;
          }
          if (meta.expire_ms == 0 || meta.expire_ms > now) removed++;
          return ++count < kFlushBatch;
        }));
    if (batch.empty()) break;
    TK_RETURN_IF_ERROR_R(Commit(batch));
    if (collections) reclaim_wanted_.Set();
    if (count < kFlushBatch) break;
    executor_.Yield();  // a huge database: let other fibers (other shards' work) run between rounds
  }
  return removed;
}

namespace {

void PutItem(std::string& out, std::string_view item) {
  PutBE(out, item.size(), 4);
  out += item;
}

void PutLE(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; i++) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t GetLE(std::string_view in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; i--) value = (value << 8) | static_cast<uint8_t>(in[offset + i]);
  return value;
}

size_t ItemsPerElement(RedisType type) {
  return type == RedisType::kHash || type == RedisType::kZSet ? 2 : 1;
}

std::string EncodePayload(const Decoded& decoded) {
  std::string out(1, static_cast<char>(decoded.type));
  PutBE(out, decoded.items.size() / ItemsPerElement(decoded.type), 8);
  for (const std::string& item : decoded.items) PutItem(out, item);
  PutLE(out, kDumpVersion, 2);
  PutLE(out, XXH64(out.data(), out.size(), 0), 8);
  return out;
}

Status BadFormat() { return Status(StatusCode::kInvalidArgument, "ERR Bad data format"); }

Result<Decoded> DecodePayload(std::string_view payload) {
  if (payload.size() < 1 + 8 + kDumpFooter ||
      GetLE(payload, payload.size() - kDumpFooter, 2) != kDumpVersion ||
      GetLE(payload, payload.size() - 8, 8) != XXH64(payload.data(), payload.size() - 8, 0)) {
    return Err(StatusCode::kInvalidArgument, "ERR DUMP payload version or checksum are wrong");
  }
  const std::string_view body = payload.substr(0, payload.size() - kDumpFooter);
  Decoded decoded;
  if (body[0] < 1 || body[0] > 5) return Err(BadFormat());
  decoded.type = static_cast<RedisType>(body[0]);
  const uint64_t count = GetBE(body, 1, 8);
  const size_t per = ItemsPerElement(decoded.type);
  // Each item takes at least its 4-byte length: a larger count cannot be honest.
  if (count == 0 || count > body.size() / 4 || (decoded.type == RedisType::kString && count != 1)) {
    return Err(BadFormat());
  }
  size_t offset = 9;
  for (uint64_t i = 0; i < count * per; i++) {
    if (body.size() - offset < 4) return Err(BadFormat());
    const uint64_t length = GetBE(body, offset, 4);
    offset += 4;
    if (body.size() - offset < length) return Err(BadFormat());
    decoded.items.emplace_back(body.substr(offset, length));
    offset += length;
  }
  if (offset != body.size()) return Err(BadFormat());
  if (decoded.type == RedisType::kString || decoded.type == RedisType::kList) return decoded;
  // Members are unique, scores are 8 bytes and not NaN.
  std::set<std::string_view> members;
  for (size_t i = 0; i < decoded.items.size(); i += per) {
    if (!members.insert(decoded.items[i]).second) return Err(BadFormat());
    if (decoded.type == RedisType::kZSet &&
        (decoded.items[i + 1].size() != 8 || std::isnan(ScoreFrom(decoded.items[i + 1])))) {
      return Err(BadFormat());
    }
  }
  return decoded;
}

}  // namespace

Status TypedStore::CheckPayload(std::string_view payload) {
  auto decoded = DecodePayload(payload);
  return decoded ? Status::Ok() : decoded.error();
}

Result<std::optional<Decoded>> TypedStore::ReadDecoded(int db, std::string_view key,
                                                       Metadata& meta) {
  auto found = ReadMetaAny(db, key);
  if (!found) return Err(found.error());
  if (!*found) return std::nullopt;
  meta = std::move(**found);
  Decoded decoded{meta.type, {}};
  if (meta.type == RedisType::kString) {
    decoded.items.push_back(meta.value);
    return decoded;
  }
  // Every type's elements in subkey order: lists by index (head first), the others by member.
  const std::string prefix = SubPrefix(db, key, meta.version);
  auto it = engine_.NewIterator();
  TK_RETURN_IF_ERROR_R(it->Seek(prefix));
  while (it->Valid() && it->key().starts_with(prefix)) {
    auto value = it->value();
    if (!value) return Err(value.error());
    if (meta.type != RedisType::kList) decoded.items.push_back(it->key().substr(prefix.size()));
    if (meta.type != RedisType::kSet) decoded.items.push_back(std::move(*value));
    TK_RETURN_IF_ERROR_R(it->Next());
  }
  if (decoded.items.size() != meta.size * ItemsPerElement(meta.type)) {
    return Err(StatusCode::kCorruption, "collection size differs from its elements");
  }
  return std::optional<Decoded>(std::move(decoded));
}

void TypedStore::PutDecoded(WriteBatch& batch, int db, std::string_view key, const Decoded& decoded,
                            int64_t expire_ms) {
  Metadata meta;
  meta.type = decoded.type;
  meta.expire_ms = expire_ms;
  if (decoded.type == RedisType::kString) {
    TK_ASSERT(decoded.items.size() == 1);
    meta.size = decoded.items[0].size();
    meta.value = decoded.items[0];
    PutMeta(batch, db, key, meta);
    return;
  }
  meta.version = NewVersion();
  const std::string prefix = SubPrefix(db, key, meta.version);
  const size_t per = ItemsPerElement(decoded.type);
  meta.size = decoded.items.size() / per;
  meta.head = kListMiddle;
  meta.tail = kListMiddle;
  for (size_t i = 0; i < decoded.items.size(); i += per) {
    const std::string& item = decoded.items[i];
    switch (decoded.type) {
      case RedisType::kList: {
        std::string field;
        PutBE(field, meta.tail++, 8);
        batch.Put(prefix + field, item);
        break;
      }
      case RedisType::kSet: batch.Put(prefix + item, ""); break;
      case RedisType::kHash: batch.Put(prefix + item, decoded.items[i + 1]); break;
      case RedisType::kZSet:
        batch.Put(prefix + item, decoded.items[i + 1]);
        batch.Put(ScorePrefix(db, key, meta.version) + decoded.items[i + 1] + item, "");
        break;
      default: TK_ASSERT_MSG(false, "not a collection");
    }
  }
  PutMeta(batch, db, key, meta);
}

Result<std::optional<std::string>> TypedStore::Dump(int db, std::string_view key) {
  Metadata meta;
  auto decoded = ReadDecoded(db, key, meta);
  if (!decoded) return Err(decoded.error());
  if (!*decoded) return std::nullopt;
  return std::optional<std::string>(EncodePayload(**decoded));
}

Result<bool> TypedStore::Restore(int db, std::string_view key, std::string_view payload,
                                 int64_t expire_ms, bool replace) {
  KeyLock lock(*this, db, key);
  auto decoded = DecodePayload(payload);
  if (!decoded) return Err(decoded.error());
  WriteBatch batch;
  auto old = ReadMetaAny(db, key, &batch);
  if (!old) return Err(old.error());
  const bool retire = *old && IsCollection((*old)->type);
  if (*old) {
    if (!replace) return false;
    if (retire) Retire(batch, db, key, (*old)->version);
    if ((*old)->expire_ms != expire_ms) DropExpiry(batch, db, key, (*old)->expire_ms);
  }
  PutDecoded(batch, db, key, *decoded, expire_ms);
  TK_RETURN_IF_ERROR_R(Commit(batch));
  if (retire) reclaim_wanted_.Set();
  return true;
}

Result<TypedStore::CopyOutcome> TypedStore::CopyKey(int src_db, std::string_view src, int dst_db,
                                                    std::string_view dst, bool replace,
                                                    bool remove_source) {
  TK_ASSERT(src_db != dst_db || src != dst);
  // Both keys at once: two copies in opposite directions cannot deadlock.
  KeyLock lock(*this, LockIds{KeyLock::Id(src_db, src), KeyLock::Id(dst_db, dst)});
  Metadata meta;
  auto decoded = ReadDecoded(src_db, src, meta);
  if (!decoded) return Err(decoded.error());
  if (!*decoded) return CopyOutcome::kNoSource;
  WriteBatch batch;
  auto old = ReadMetaAny(dst_db, dst, &batch);
  if (!old) return Err(old.error());
  bool retired = false;
  if (*old) {
    if (!replace) return CopyOutcome::kTargetExists;
    if ((*old)->expire_ms != meta.expire_ms) DropExpiry(batch, dst_db, dst, (*old)->expire_ms);
    if (IsCollection((*old)->type)) {
      Retire(batch, dst_db, dst, (*old)->version);
      retired = true;
    }
  }
  PutDecoded(batch, dst_db, dst, **decoded, meta.expire_ms);
  if (remove_source) {
    batch.Delete(MetaKey(src_db, src));
    DropExpiry(batch, src_db, src, meta.expire_ms);
    if (IsCollection(meta.type)) {
      Retire(batch, src_db, src, meta.version);
      retired = true;
    }
  }
  TK_RETURN_IF_ERROR_R(Commit(batch));
  if (retired) reclaim_wanted_.Set();
  return CopyOutcome::kCopied;
}

// --- active expiry ---

Result<uint64_t> TypedStore::ExpireOnce(size_t limit) {
  struct Due {
    std::string record;  // the index record
    int64_t expire_ms;
    int db;
    std::string key;
  };
  std::vector<Due> due;
  const int64_t now = NowMs();
  last_expiry_scan_ms_ = now;
  // Records written while the scan suspends lower next_expiry_ms_ from "none" (PutExpiry); the
  // scan's own finding joins them at the end. Unless it reaches a record not yet due (or the
  // index's end), the next one is due now.
  next_expiry_ms_ = std::numeric_limits<int64_t>::max();
  int64_t found_next = 0;
  auto it = engine_.NewIterator(nullptr, "E");
  Status scanned = it->Seek("E");
  while (scanned.ok()) {
    if (!it->Valid() || !it->key().starts_with("E")) {
      found_next = std::numeric_limits<int64_t>::max();
      break;
    }
    if (due.size() >= limit) break;
    const std::string& record = it->key();
    if (record.size() < kExpiryKeyHeader) {
      scanned = Status(StatusCode::kCorruption, "malformed expiry record");
      break;
    }
    const auto expire_ms = static_cast<int64_t>(GetBE(record, 1, 8));
    if (expire_ms > now) {  // in time order: nothing later is due
      found_next = expire_ms;
      break;
    }
    due.push_back({record, expire_ms, static_cast<uint8_t>(record[11]), record.substr(12)});
    scanned = it->Next();
  }
  it.reset();
  next_expiry_ms_ = std::min(next_expiry_ms_, scanned.ok() ? found_next : 0);
  if (!scanned.ok()) return Err(scanned);
  if (due.empty()) return 0;
  // Check and delete under the keys' locks, taken in CopyKey's order (metadata key order), so no
  // command writes a key between the check and the write.
  std::sort(due.begin(), due.end(), [](const Due& a, const Due& b) {
    return MetaKey(a.db, a.key) < MetaKey(b.db, b.key);
  });
  std::vector<std::unique_ptr<KeyLock>> locks;
  for (size_t i = 0; i < due.size(); i++) {
    if (i > 0 && due[i].db == due[i - 1].db && due[i].key == due[i - 1].key) continue;
    locks.push_back(std::make_unique<KeyLock>(*this, due[i].db, due[i].key));
  }
  WriteBatch batch;
  bool collections = false;
  std::vector<const Due*> gone;
  for (const Due& entry : due) {
    batch.Delete(entry.record);
    auto raw = engine_.Get(MetaKey(entry.db, entry.key));
    if (!raw) return Err(raw.error());
    if (!*raw) continue;
    auto meta = DecodeMeta(**raw);
    if (!meta) return Err(meta.error());
    if (meta->expire_ms != entry.expire_ms) continue;  // a stale record: the expiry changed
    batch.Delete(MetaKey(entry.db, entry.key));
    if (IsCollection(meta->type)) {
      Retire(batch, entry.db, entry.key, meta->version);
      collections = true;
    }
    gone.push_back(&entry);
  }
  TK_RETURN_IF_ERROR_R(Commit(batch));
  locks.clear();
  if (collections) reclaim_wanted_.Set();
  expired_ += gone.size();
  if (on_expired_) {
    for (const Due* entry : gone) on_expired_(entry->db, entry->key);
  }
  return gone.size();
}

void TypedStore::ExpireLoop() {
  while (!stopping_) {
    Status waited = expire_wakeup_.Wait(DeadlineAfter(executor_.Now(), kExpireInterval));
    if (waited.code() == StatusCode::kCancelled || stopping_) return;
    // Nothing due yet: no seek. A seek orders the new keys of a memtable that holds expiry
    // records (tiers/memtable.h), which at 10 per second was 6% of a pipelined SET's time.
    // Expiry records this store writes lower next_expiry_ms_; others (none today) are found by
    // the scan at least every second.
    const int64_t now = NowMs();
    if (now < next_expiry_ms_ && now < last_expiry_scan_ms_ + kExpiryRescanMs) continue;
    auto expired = ExpireOnce(kExpirePerCycle);
    if (!expired) executor_.log().Warn("expiring keys: {}", expired.error().ToString());
  }
}

}  // namespace tierkv::tiers
