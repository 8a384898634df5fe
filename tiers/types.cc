#include "tiers/types.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "core/assert.h"
#include "tiers/types_internal.h"

namespace tierkv::tiers {

using types_internal::DecodeMeta;
using types_internal::ExpiryKey;
using types_internal::GarbageKey;
using types_internal::kMetaHeader;
using types_internal::MetaHeader;
using types_internal::ScoreBytes;
using types_internal::WriteMetaKey;
using types_internal::IsCollection;
using types_internal::ScoreFrom;
using types_internal::ScorePrefix;
using types_internal::GetBE;
using types_internal::kListMiddle;
using types_internal::MetaKey;
using types_internal::PutBE;
using types_internal::Retire;
using types_internal::StackMetaKey;
using types_internal::SubPrefix;

namespace {

constexpr size_t kReclaimBatch = 512;          // subkeys deleted per write batch
constexpr size_t kReclaimPerPass = 64 * 1024;  // subkeys deleted per pass before yielding

}  // namespace




std::string_view RedisTypeName(RedisType type) {
  switch (type) {
    case RedisType::kNone: return "none";
    case RedisType::kString: return "string";
    case RedisType::kHash: return "hash";
    case RedisType::kList: return "list";
    case RedisType::kSet: return "set";
    case RedisType::kZSet: return "zset";
  }
  return "none";
}

Status TypedStore::Commit(const WriteBatch& batch) {
  if (!defer_durability_) return engine_.Write(batch);
  Result<uint64_t> lsn = engine_.WriteUnsynced(batch);
  return lsn ? Status::Ok() : lsn.error();
}

Status WrongType() {
  return Status(StatusCode::kInvalidArgument,
                "WRONGTYPE Operation against a key holding the wrong kind of value");
}

TypedStore::TypedStore(Engine& engine, Executor& executor, const Clock& clock)
    : engine_(engine),
      executor_(executor),
      clock_(clock),
      locks_(executor),
      reclaim_wanted_(executor),
      reclaim_mutex_(executor),
      expire_wakeup_(executor) {
  reclaimer_ = executor_.Spawn("reclaimer", [this] { ReclaimLoop(); });
  expirer_ = executor_.Spawn("expirer", [this] { ExpireLoop(); });
}

TypedStore::~TypedStore() {
  // A simulated crash unwinds the owner without a Stop: its executor is shutting down.
  TK_ASSERT_MSG((reclaimer_.done() && expirer_.done()) || executor_.shutting_down(),
                "TypedStore destroyed without Stop()");
}

void TypedStore::Stop() {
  stopping_ = true;
  reclaim_wanted_.Set();
  expire_wakeup_.Set();
  (void)reclaimer_.Join();
  (void)expirer_.Join();
}

int64_t TypedStore::NowMs() const { return clock_.UnixMicros() / 1000; }

uint64_t TypedStore::NewVersion() {
  // Time-based, so versions stay unique across restarts without being persisted (Kvrocks does
  // the same); the counter keeps them unique within a microsecond.
  uint64_t candidate = static_cast<uint64_t>(clock_.UnixMicros()) << 8;
  last_version_ = std::max(last_version_ + 1, candidate);
  return last_version_;
}

Result<std::optional<Metadata>> TypedStore::ReadMetaAny(int db, std::string_view key,
                                                        WriteBatch* retire) {
  auto raw = engine_.Get(StackMetaKey(db, key).view());
  if (!raw) return Err(raw.error());
  if (!*raw) return std::nullopt;
  auto meta = DecodeMeta(**raw);
  if (!meta) return Err(meta.error());
  if (meta->expire_ms != 0 && meta->expire_ms <= NowMs()) {
    // Lazily expired. A writer about to recreate the key hands the old subkeys to the reclaimer.
    if (retire != nullptr && IsCollection(meta->type)) {
      retire->Put(GarbageKey(meta->version, db, key), "");
    }
    return std::nullopt;
  }
  return std::optional<Metadata>(std::move(*meta));
}

Result<std::optional<Metadata>> TypedStore::ReadMeta(int db, std::string_view key, RedisType want,
                                                     WriteBatch* retire) {
  auto meta = ReadMetaAny(db, key, retire);
  if (meta && *meta && (*meta)->type != want) return Err(WrongType());
  return meta;
}

void TypedStore::PutMeta(WriteBatch& batch, int db, std::string_view key, const Metadata& meta) {
  if (IsCollection(meta.type) && meta.size == 0) {
    batch.Delete(StackMetaKey(db, key).view());  // an empty collection does not exist
    DropExpiry(batch, db, key, meta.expire_ms);
  } else {
    batch.Put(StackMetaKey(db, key).view(), MetaHeader(meta).view(), meta.value);
    // Rewritten on every write of a key with an expiry: the index stays in step whoever changed
    // the expiry (a Put of the same record is harmless).
    if (meta.expire_ms > 0) PutExpiry(batch, db, key, meta.expire_ms);
  }
}

void TypedStore::DropExpiry(WriteBatch& batch, int db, std::string_view key, int64_t expire_ms) {
  if (expire_ms > 0) batch.Delete(ExpiryKey(expire_ms, db, key));
}

void TypedStore::PutExpiry(WriteBatch& batch, int db, std::string_view key, int64_t expire_ms) {
  batch.Put(ExpiryKey(expire_ms, db, key), "");
  next_expiry_ms_ = std::min(next_expiry_ms_, expire_ms);
}

// An overwritten or expired collection leaves its subkeys to the reclaimer.
void types_internal::Retire(WriteBatch& batch, int db, std::string_view key, uint64_t version) {
  batch.Put(GarbageKey(version, db, key), "");
}

Result<RedisType> TypedStore::Type(int db, std::string_view key) {
  auto meta = ReadMetaAny(db, key);
  if (!meta) return Err(meta.error());
  return *meta ? (*meta)->type : RedisType::kNone;
}

Result<bool> TypedStore::Delete(int db, std::string_view key) {
  KeyLock lock(*this, db, key);
  const StackMetaKey meta_key(db, key);
  auto raw = engine_.Get(meta_key.view());
  if (!raw) return Err(raw.error());
  if (!*raw) return false;
  auto meta = DecodeMeta(**raw);
  if (!meta) return Err(meta.error());
  WriteBatch batch;
  batch.Delete(meta_key.view());
  DropExpiry(batch, db, key, meta->expire_ms);
  if (IsCollection(meta->type)) Retire(batch, db, key, meta->version);
  TK_RETURN_IF_ERROR_R(Commit(batch));
  if (IsCollection(meta->type)) reclaim_wanted_.Set();
  // An already-expired key counts as absent, as in Redis.
  return meta->expire_ms == 0 || meta->expire_ms > NowMs();
}

Result<bool> TypedStore::Expire(int db, std::string_view key, int64_t expire_ms) {
  KeyLock lock(*this, db, key);
  auto meta = ReadMetaAny(db, key);
  if (!meta) return Err(meta.error());
  if (!*meta) return false;
  WriteBatch batch;
  if ((*meta)->expire_ms != expire_ms) DropExpiry(batch, db, key, (*meta)->expire_ms);
  (*meta)->expire_ms = expire_ms;
  PutMeta(batch, db, key, **meta);
  TK_RETURN_IF_ERROR_R(Commit(batch));
  return true;
}

Result<std::optional<int64_t>> TypedStore::ExpireTime(int db, std::string_view key) {
  auto meta = ReadMetaAny(db, key);
  if (!meta) return Err(meta.error());
  if (!*meta) return std::nullopt;
  return std::optional<int64_t>((*meta)->expire_ms);
}

Result<std::optional<std::string>> TypedStore::Get(int db, std::string_view key) {
  auto meta = ReadMeta(db, key, RedisType::kString);
  if (!meta) return Err(meta.error());
  if (!*meta) return std::nullopt;
  return std::optional<std::string>(std::move((*meta)->value));
}

void TypedStore::Prefetch(int db, std::string_view key, bool deep) const {
  // The metadata key on the stack: no allocation for a hint.
  char meta[64];
  if (key.size() + 4 > sizeof(meta)) return;
  WriteMetaKey(meta, db, key);
  engine_.Prefetch(std::string_view(meta, key.size() + 4), deep);
}

Status TypedStore::Set(int db, std::string_view key, std::string_view value, int64_t expire_ms) {
  const StackMetaKey meta_key_buffer(db, key);
  const std::string_view meta_key = meta_key_buffer.view();
  KeyLock lock(*this, db, key);
  // The old record's header is all SET needs (type, expiry, version), not its value; read
  // onto the stack.
  std::array<char, kMetaHeader> header;
  auto read = engine_.ReadInto(meta_key, 0, header);
  if (!read) return read.error();
  WriteBatch batch;
  if (*read) {
    auto old = DecodeMeta(std::string_view(header.data(), **read), /*with_value=*/false);
    if (!old) return old.error();
    if (IsCollection(old->type)) Retire(batch, db, key, old->version);  // SET replaces any type
    if (old->expire_ms != expire_ms) DropExpiry(batch, db, key, old->expire_ms);
  }
  Metadata meta;
  meta.type = RedisType::kString;
  meta.expire_ms = expire_ms;
  meta.size = value.size();
  batch.Put(meta_key, MetaHeader(meta).view(), value);
  if (expire_ms > 0) PutExpiry(batch, db, key, expire_ms);  // as PutMeta
  return Commit(batch);
}

Result<bool> TypedStore::HSet(int db, std::string_view key, std::string_view field,
                              std::string_view value) {
  KeyLock lock(*this, db, key);
  return ChangeMember(db, key, RedisType::kHash, field, std::string(value));
}

Result<std::optional<std::string>> TypedStore::HGet(int db, std::string_view key,
                                                    std::string_view field) {
  auto meta = ReadMeta(db, key, RedisType::kHash);
  if (!meta) return Err(meta.error());
  if (!*meta) return std::nullopt;
  return engine_.Get(SubPrefix(db, key, (*meta)->version) + std::string(field));
}

Result<bool> TypedStore::HDel(int db, std::string_view key, std::string_view field) {
  KeyLock lock(*this, db, key);
  return ChangeMember(db, key, RedisType::kHash, field, std::nullopt);
}

Result<uint64_t> TypedStore::HLen(int db, std::string_view key) {
  return Size(db, key, RedisType::kHash);
}

Result<std::vector<std::pair<std::string, std::string>>> TypedStore::HGetAll(int db,
                                                                             std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  auto meta = ReadMeta(db, key, RedisType::kHash);
  if (!meta) return Err(meta.error());
  if (!*meta) return out;
  std::string prefix = SubPrefix(db, key, (*meta)->version);
  auto it = engine_.NewIterator();
  TK_RETURN_IF_ERROR_R(it->Seek(prefix));
  while (it->Valid() && it->key().starts_with(prefix)) {
    auto value = it->value();
    if (!value) return Err(value.error());
    out.emplace_back(it->key().substr(prefix.size()), std::move(*value));
    TK_RETURN_IF_ERROR_R(it->Next());
  }
  return out;
}

Result<uint64_t> TypedStore::Size(int db, std::string_view key, RedisType type) {
  auto meta = ReadMeta(db, key, type);
  if (!meta) return Err(meta.error());
  return *meta ? (*meta)->size : 0;
}

Result<bool> TypedStore::ChangeMember(int db, std::string_view key, RedisType type,
                                      std::string_view member, std::optional<std::string> value) {
  auto changed = ChangeMembers(db, key, type, {{std::string(member), std::move(value)}});
  if (!changed) return Err(changed.error());
  return changed->added + changed->removed > 0;
}

Result<std::optional<Metadata>> TypedStore::Lookup(int db, std::string_view key, RedisType want) {
  if (want == RedisType::kNone) return ReadMetaAny(db, key);
  return ReadMeta(db, key, want);
}

Result<TypedStore::MemberChanges> TypedStore::ChangeMembers(
    int db, std::string_view key, RedisType type,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
  MemberChanges result;
  WriteBatch batch;
  auto meta = ReadMeta(db, key, type, &batch);
  if (!meta) return Err(meta.error());
  Metadata m = *meta ? **meta : Metadata{type, 0, NewVersion()};
  const std::string prefix = SubPrefix(db, key, m.version);
  // Whether each touched member exists, as of the changes so far.
  std::map<std::string, bool, std::less<>> exists;
  for (const auto& [member, value] : changes) {
    auto known = exists.find(member);
    bool present = false;
    if (known != exists.end()) {
      present = known->second;
    } else if (*meta) {
      auto old = engine_.Get(prefix + member);
      if (!old) return Err(old.error());
      present = old->has_value();
    }
    if (value) {
      batch.Put(prefix + member, *value);
      if (present) {
        result.updated++;
      } else {
        result.added++;
        m.size++;
      }
    } else if (present) {
      batch.Delete(prefix + member);
      result.removed++;
      m.size--;
    }
    exists[member] = value.has_value();
  }
  if (result.added + result.updated + result.removed == 0) return result;
  PutMeta(batch, db, key, m);
  TK_RETURN_IF_ERROR_R(Commit(batch));
  return result;
}

Status TypedStore::ScanMembers(
    int db, std::string_view key, RedisType type, std::string_view from,
    const std::function<bool(std::string_view member, std::string_view value)>& visit) {
  auto meta = ReadMeta(db, key, type);
  if (!meta) return meta.error();
  if (!*meta) return Status::Ok();
  const std::string prefix = SubPrefix(db, key, (*meta)->version);
  auto it = engine_.NewIterator();
  TK_RETURN_IF_ERROR(it->Seek(prefix + std::string(from)));
  while (it->Valid() && it->key().starts_with(prefix)) {
    auto value = it->value();
    if (!value) return value.error();
    if (!visit(it->key().substr(prefix.size()), *value)) break;
    TK_RETURN_IF_ERROR(it->Next());
  }
  return Status::Ok();
}

Result<std::optional<std::string>> TypedStore::GetMember(int db, std::string_view key,
                                                         RedisType type, std::string_view member) {
  auto meta = ReadMeta(db, key, type);
  if (!meta) return Err(meta.error());
  if (!*meta) return std::optional<std::string>();
  return engine_.Get(SubPrefix(db, key, (*meta)->version) + std::string(member));
}

Result<bool> TypedStore::SAdd(int db, std::string_view key, std::string_view member) {
  KeyLock lock(*this, db, key);
  return ChangeMember(db, key, RedisType::kSet, member, std::string());
}

Result<bool> TypedStore::SRem(int db, std::string_view key, std::string_view member) {
  KeyLock lock(*this, db, key);
  return ChangeMember(db, key, RedisType::kSet, member, std::nullopt);
}

Result<bool> TypedStore::SIsMember(int db, std::string_view key, std::string_view member) {
  auto meta = ReadMeta(db, key, RedisType::kSet);
  if (!meta) return Err(meta.error());
  if (!*meta) return false;
  auto found = engine_.Get(SubPrefix(db, key, (*meta)->version) + std::string(member));
  if (!found) return Err(found.error());
  return found->has_value();
}

Result<std::vector<std::string>> TypedStore::SMembers(int db, std::string_view key) {
  std::vector<std::string> out;
  auto meta = ReadMeta(db, key, RedisType::kSet);
  if (!meta) return Err(meta.error());
  if (!*meta) return out;
  std::string prefix = SubPrefix(db, key, (*meta)->version);
  auto it = engine_.NewIterator();
  TK_RETURN_IF_ERROR_R(it->Seek(prefix));
  while (it->Valid() && it->key().starts_with(prefix)) {
    out.push_back(it->key().substr(prefix.size()));
    TK_RETURN_IF_ERROR_R(it->Next());
  }
  return out;
}

Result<uint64_t> TypedStore::SCard(int db, std::string_view key) {
  return Size(db, key, RedisType::kSet);
}

Result<bool> TypedStore::ZAdd(int db, std::string_view key, std::string_view member, double score) {
  KeyLock lock(*this, db, key);
  WriteBatch batch;
  auto meta = ReadMeta(db, key, RedisType::kZSet, &batch);
  if (!meta) return Err(meta.error());
  Metadata m = *meta ? **meta : Metadata{RedisType::kZSet, 0, NewVersion()};
  std::string sub = SubPrefix(db, key, m.version) + std::string(member);
  std::string index = ScorePrefix(db, key, m.version);
  std::optional<std::string> old;
  if (*meta) {
    auto found = engine_.Get(sub);
    if (!found) return Err(found.error());
    old = std::move(*found);
  }
  // member -> score, and the (score, member) index entry; a changed score moves the entry.
  if (old) batch.Delete(index + *old + std::string(member));
  batch.Put(sub, ScoreBytes(score));
  batch.Put(index + ScoreBytes(score) + std::string(member), "");
  if (!old) m.size++;
  PutMeta(batch, db, key, m);
  TK_RETURN_IF_ERROR_R(Commit(batch));
  return !old;
}

Result<std::optional<double>> TypedStore::ZScore(int db, std::string_view key,
                                                 std::string_view member) {
  auto meta = ReadMeta(db, key, RedisType::kZSet);
  if (!meta) return Err(meta.error());
  if (!*meta) return std::nullopt;
  auto found = engine_.Get(SubPrefix(db, key, (*meta)->version) + std::string(member));
  if (!found) return Err(found.error());
  if (!*found) return std::nullopt;
  return std::optional<double>(ScoreFrom(**found));
}

Result<bool> TypedStore::ZRem(int db, std::string_view key, std::string_view member) {
  KeyLock lock(*this, db, key);
  WriteBatch batch;
  auto meta = ReadMeta(db, key, RedisType::kZSet);
  if (!meta) return Err(meta.error());
  if (!*meta) return false;
  Metadata m = **meta;
  std::string sub = SubPrefix(db, key, m.version) + std::string(member);
  auto found = engine_.Get(sub);
  if (!found) return Err(found.error());
  if (!*found) return false;
  batch.Delete(sub);
  batch.Delete(ScorePrefix(db, key, m.version) + **found + std::string(member));
  m.size--;
  PutMeta(batch, db, key, m);
  TK_RETURN_IF_ERROR_R(Commit(batch));
  return true;
}

Result<uint64_t> TypedStore::ZCard(int db, std::string_view key) {
  return Size(db, key, RedisType::kZSet);
}

Result<std::vector<std::pair<std::string, double>>> TypedStore::ScanScores(
    int db, std::string_view key, const Metadata& meta, std::optional<double> min,
    std::optional<double> max, uint64_t skip, uint64_t limit) {
  std::vector<std::pair<std::string, double>> out;
  std::string prefix = ScorePrefix(db, key, meta.version);
  auto it = engine_.NewIterator();
  TK_RETURN_IF_ERROR_R(it->Seek(min ? prefix + ScoreBytes(*min) : prefix));
  while (it->Valid() && it->key().starts_with(prefix) && out.size() < limit) {
    std::string_view rest = std::string_view(it->key()).substr(prefix.size());
    if (rest.size() < 8) return Err(StatusCode::kCorruption, "malformed score index entry");
    double score = ScoreFrom(rest);
    if (max && score > *max) break;
    if (skip > 0) {
      skip--;
    } else {
      out.emplace_back(std::string(rest.substr(8)), score);
    }
    TK_RETURN_IF_ERROR_R(it->Next());
  }
  return out;
}

Result<std::vector<std::pair<std::string, double>>> TypedStore::ZRangeByScore(
    int db, std::string_view key, double min, double max, uint64_t limit) {
  auto meta = ReadMeta(db, key, RedisType::kZSet);
  if (!meta) return Err(meta.error());
  if (!*meta || min > max) return std::vector<std::pair<std::string, double>>{};
  return ScanScores(db, key, **meta, min, max, 0, limit);
}

Result<std::vector<std::pair<std::string, double>>> TypedStore::ZRange(int db, std::string_view key,
                                                                       int64_t start,
                                                                       int64_t stop) {
  auto meta = ReadMeta(db, key, RedisType::kZSet);
  if (!meta) return Err(meta.error());
  if (!*meta) return std::vector<std::pair<std::string, double>>{};
  int64_t size = static_cast<int64_t>((*meta)->size);
  if (start < 0) start = std::max<int64_t>(0, start + size);
  if (stop < 0) stop += size;
  stop = std::min(stop, size - 1);
  if (start > stop) return std::vector<std::pair<std::string, double>>{};
  // Rank access walks the score index from the start: O(start + count). (An order-statistics
  // index would make it O(log n); Kvrocks has the same cost.)
  return ScanScores(db, key, **meta, std::nullopt, std::nullopt, static_cast<uint64_t>(start),
                    static_cast<uint64_t>(stop - start + 1));
}

Status TypedStore::ScanZSet(
    int db, std::string_view key, bool reverse, std::optional<double> from,
    const std::function<bool(std::string_view member, double score)>& visit) {
  auto meta = ReadMeta(db, key, RedisType::kZSet);
  if (!meta) return meta.error();
  if (!*meta) return Status::Ok();
  const std::string prefix = ScorePrefix(db, key, (*meta)->version);
  auto it = engine_.NewIterator();
  if (!reverse) {
    TK_RETURN_IF_ERROR(it->Seek(from ? prefix + ScoreBytes(*from) : prefix));
  } else {
    // Past every entry of score `from`: the next 8-byte score value (scores are never NaN, so
    // the bytes of +inf are below all-ones and the increment cannot overflow).
    std::string bound = prefix;
    if (from) {
      PutBE(bound, GetBE(ScoreBytes(*from), 0, 8) + 1, 8);
    } else {
      bound.append(8, '\xff');
    }
    TK_RETURN_IF_ERROR(it->SeekForPrev(bound));
    if (it->Valid() && it->key() == bound) TK_RETURN_IF_ERROR(it->Prev());
  }
  while (it->Valid() && it->key().starts_with(prefix)) {
    std::string_view rest = std::string_view(it->key()).substr(prefix.size());
    if (rest.size() < 8) return Status(StatusCode::kCorruption, "malformed score index entry");
    if (!visit(rest.substr(8), ScoreFrom(rest))) break;
    TK_RETURN_IF_ERROR(reverse ? it->Prev() : it->Next());
  }
  return Status::Ok();
}

Status TypedStore::ScanZSetMembers(
    int db, std::string_view key, std::string_view from,
    const std::function<bool(std::string_view member, double score)>& visit) {
  Status bad = Status::Ok();
  Status status = ScanMembers(db, key, RedisType::kZSet, from,
                              [&](std::string_view member, std::string_view value) {
                                if (value.size() != 8) {
                                  bad = Status(StatusCode::kCorruption, "malformed zset member");
                                  return false;
                                }
                                return visit(member, ScoreFrom(value));
                              });
  return status.ok() ? bad : status;
}

Result<TypedStore::MemberChanges> TypedStore::ZChange(
    int db, std::string_view key,
    const std::vector<std::pair<std::string, std::optional<double>>>& changes) {
  MemberChanges result;
  WriteBatch batch;
  auto meta = ReadMeta(db, key, RedisType::kZSet, &batch);
  if (!meta) return Err(meta.error());
  Metadata m = *meta ? **meta : Metadata{RedisType::kZSet, 0, NewVersion()};
  const std::string sub = SubPrefix(db, key, m.version);
  const std::string index = ScorePrefix(db, key, m.version);
  // Each touched member's score bytes as of the changes so far (nullopt: absent).
  std::map<std::string, std::optional<std::string>, std::less<>> current;
  for (const auto& [member, score] : changes) {
    auto known = current.find(member);
    std::optional<std::string> old;
    if (known != current.end()) {
      old = known->second;
    } else if (*meta) {
      auto found = engine_.Get(sub + member);
      if (!found) return Err(found.error());
      old = std::move(*found);
    }
    if (score) {
      std::string bytes = ScoreBytes(*score);
      if (old && *old == bytes) {
        current[member] = old;
        continue;
      }
      if (old) {
        batch.Delete(index + *old + member);
        result.updated++;
      } else {
        result.added++;
        m.size++;
      }
      batch.Put(sub + member, bytes);
      batch.Put(index + bytes + member, "");
      current[member] = std::move(bytes);
    } else {
      if (old) {
        batch.Delete(sub + member);
        batch.Delete(index + *old + member);
        result.removed++;
        m.size--;
      }
      current[member] = std::nullopt;
    }
  }
  if (result.added + result.updated + result.removed == 0) return result;
  PutMeta(batch, db, key, m);
  TK_RETURN_IF_ERROR_R(Commit(batch));
  return result;
}

Status TypedStore::ReclaimOnce() {
  MutexLock lock(reclaim_mutex_);  // one pass at a time: two would delete the same subkeys
  TK_RETURN_IF_ERROR(lock.status());
  size_t budget = kReclaimPerPass;
  auto garbage = engine_.NewIterator(nullptr, "G");
  TK_RETURN_IF_ERROR(garbage->Seek("G"));
  while (garbage->Valid() && garbage->key().starts_with("G") && budget > 0 && !stopping_) {
    std::string record = garbage->key();
    if (record.size() < 16) return Status(StatusCode::kCorruption, "malformed garbage record");
    uint64_t version = GetBE(record, 1, 8);
    int db = static_cast<uint8_t>(record[11]);
    std::string key = record.substr(16);
    // Subkeys, then (sorted sets) score index entries of the retired version.
    for (std::string prefix : {SubPrefix(db, key, version), ScorePrefix(db, key, version)}) {
      bool finished = false;
      bool last_prefix = prefix[0] == 'Z';
      while (!finished && budget > 0) {
        WriteBatch batch;
        auto sub = engine_.NewIterator(nullptr, prefix);
        TK_RETURN_IF_ERROR(sub->Seek(prefix));
        while (sub->Valid() && sub->key().starts_with(prefix) && batch.count() < kReclaimBatch) {
          batch.Delete(sub->key());
          TK_RETURN_IF_ERROR(sub->Next());
        }
        finished = batch.count() < kReclaimBatch;
        bool done = finished && last_prefix;
        if (done) batch.Delete(record);  // the version is fully reclaimed
        reclaimed_ += batch.count() - (done ? 1 : 0);
        budget -= std::min(budget, batch.count());
        TK_RETURN_IF_ERROR(Commit(batch));
        executor_.Yield();  // bounded work between other fibers
      }
      if (!finished) break;
    }
    TK_RETURN_IF_ERROR(garbage->Next());
  }
  return Status::Ok();
}

void TypedStore::ReclaimLoop() {
  while (!stopping_) {
    Status waited = reclaim_wanted_.Wait(DeadlineAfter(executor_.Now(), seconds(1)));
    if (waited.code() == StatusCode::kCancelled || stopping_) return;
    reclaim_wanted_.Reset();
    Status status = ReclaimOnce();
    if (!status.ok()) executor_.log().Warn("reclaiming deleted collections: {}", status.ToString());
  }
}

}  // namespace tierkv::tiers
