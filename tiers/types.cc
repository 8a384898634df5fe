#include "tiers/types.h"

#include <algorithm>
#include <cstring>

#include "core/assert.h"

namespace tierkv::tiers {
namespace {

constexpr uint64_t kListMiddle = uint64_t{1} << 63;
constexpr size_t kReclaimBatch = 512;          // subkeys deleted per write batch
constexpr size_t kReclaimPerPass = 64 * 1024;  // subkeys deleted per pass before yielding

void PutBE(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; i--) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
uint64_t GetBE(std::string_view in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; i++) value = (value << 8) | static_cast<uint8_t>(in[offset + i]);
  return value;
}

std::string KeyPrefix(char tag, int db, std::string_view key) {
  std::string out(1, tag);
  PutBE(out, KeySlot(key), 2);
  out.push_back(static_cast<char>(db));
  return out;
}

std::string MetaKey(int db, std::string_view key) {
  std::string out = KeyPrefix('M', db, key);
  out += key;
  return out;
}

std::string SubPrefix(int db, std::string_view key, uint64_t version) {
  std::string out = KeyPrefix('S', db, key);
  PutBE(out, key.size(), 4);
  out += key;
  PutBE(out, version, 8);
  return out;
}

std::string ScorePrefix(int db, std::string_view key, uint64_t version) {
  std::string out = SubPrefix(db, key, version);
  out[0] = 'Z';
  return out;
}

// Doubles as 8 bytes whose unsigned big-endian order is the numeric order (sign bit flipped for
// positives, all bits flipped for negatives); -0.0 is stored as 0.0.
std::string ScoreBytes(double score) {
  if (score == 0) score = 0;
  uint64_t bits;
  std::memcpy(&bits, &score, 8);
  bits = (bits & (uint64_t{1} << 63)) ? ~bits : bits | (uint64_t{1} << 63);
  std::string out;
  PutBE(out, bits, 8);
  return out;
}

double ScoreFrom(std::string_view bytes) {
  uint64_t bits = GetBE(bytes, 0, 8);
  bits = (bits & (uint64_t{1} << 63)) ? bits & ~(uint64_t{1} << 63) : ~bits;
  double score;
  std::memcpy(&score, &bits, 8);
  return score;
}

std::string ListField(uint64_t index) {
  std::string out;
  PutBE(out, index, 8);
  return out;
}

std::string GarbageKey(uint64_t version, int db, std::string_view key) {
  std::string out(1, 'G');
  PutBE(out, version, 8);
  PutBE(out, KeySlot(key), 2);
  out.push_back(static_cast<char>(db));
  PutBE(out, key.size(), 4);
  out += key;
  return out;
}

std::string EncodeMeta(const Metadata& meta) {
  std::string out(1, static_cast<char>(meta.type));
  PutBE(out, static_cast<uint64_t>(meta.expire_ms), 8);
  PutBE(out, meta.version, 8);
  PutBE(out, meta.size, 8);
  PutBE(out, meta.head, 8);
  PutBE(out, meta.tail, 8);
  out += meta.value;
  return out;
}

constexpr size_t kMetaHeader = 41;

Result<Metadata> DecodeMeta(std::string_view in) {
  if (in.size() < kMetaHeader || in[0] < 1 || in[0] > 5) {
    return Err(StatusCode::kCorruption, "malformed key metadata");
  }
  Metadata meta;
  meta.type = static_cast<RedisType>(in[0]);
  meta.expire_ms = static_cast<int64_t>(GetBE(in, 1, 8));
  meta.version = GetBE(in, 9, 8);
  meta.size = GetBE(in, 17, 8);
  meta.head = GetBE(in, 25, 8);
  meta.tail = GetBE(in, 33, 8);
  meta.value.assign(in.substr(kMetaHeader));
  return meta;
}

bool IsCollection(RedisType type) { return type != RedisType::kString && type != RedisType::kNone; }

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

uint16_t KeySlot(std::string_view key) {
  // Hash only the {hashtag} when the key has a non-empty one (Redis Cluster rule).
  size_t open = key.find('{');
  if (open != std::string_view::npos) {
    size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  uint16_t crc = 0;  // CRC16-CCITT (XMODEM), as Redis's crc16.c
  for (char c : key) {
    crc ^= static_cast<uint16_t>(static_cast<uint8_t>(c)) << 8;
    for (int bit = 0; bit < 8; bit++) crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
  }
  return crc & 16383;
}

Status WrongType() {
  return Status(StatusCode::kInvalidArgument,
                "WRONGTYPE Operation against a key holding the wrong kind of value");
}

// Serialises commands on one key across their suspensions.
class TypedStore::KeyLock {
 public:
  KeyLock(TypedStore& store, int db, std::string_view key) : store_(store), id_(MetaKey(db, key)) {
    auto& slot = store_.locks_[id_];
    if (!slot) slot = std::make_shared<Mutex>(store_.executor_);
    mutex_ = slot;
    Status locked = mutex_->Lock(kNoDeadline, /*interruptible=*/false);
    TK_ASSERT(locked.ok());
  }
  ~KeyLock() {
    mutex_->Unlock();
    if (mutex_.use_count() == 2 && !mutex_->locked()) store_.locks_.erase(id_);
  }

 private:
  TypedStore& store_;
  std::string id_;
  std::shared_ptr<Mutex> mutex_;
};

TypedStore::TypedStore(Engine& engine, Executor& executor, const Clock& clock)
    : engine_(engine),
      executor_(executor),
      clock_(clock),
      reclaim_wanted_(executor),
      reclaim_mutex_(executor) {
  reclaimer_ = executor_.Spawn("reclaimer", [this] { ReclaimLoop(); });
}

TypedStore::~TypedStore() {
  TK_ASSERT_MSG(reclaimer_.done(), "TypedStore destroyed without Stop()");
}

void TypedStore::Stop() {
  stopping_ = true;
  reclaim_wanted_.Set();
  (void)reclaimer_.Join();
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
  auto raw = engine_.Get(MetaKey(db, key));
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
    batch.Delete(MetaKey(db, key));  // an empty collection does not exist
  } else {
    batch.Put(MetaKey(db, key), EncodeMeta(meta));
  }
}

// An overwritten or expired collection leaves its subkeys to the reclaimer.
static void Retire(WriteBatch& batch, int db, std::string_view key, uint64_t version) {
  batch.Put(GarbageKey(version, db, key), "");
}

Result<RedisType> TypedStore::Type(int db, std::string_view key) {
  auto meta = ReadMetaAny(db, key);
  if (!meta) return Err(meta.error());
  return *meta ? (*meta)->type : RedisType::kNone;
}

Result<bool> TypedStore::Delete(int db, std::string_view key) {
  KeyLock lock(*this, db, key);
  auto raw = engine_.Get(MetaKey(db, key));
  if (!raw) return Err(raw.error());
  if (!*raw) return false;
  auto meta = DecodeMeta(**raw);
  if (!meta) return Err(meta.error());
  WriteBatch batch;
  batch.Delete(MetaKey(db, key));
  if (IsCollection(meta->type)) Retire(batch, db, key, meta->version);
  TK_RETURN_IF_ERROR_R(engine_.Write(batch));
  if (IsCollection(meta->type)) reclaim_wanted_.Set();
  // An already-expired key counts as absent, as in Redis.
  return meta->expire_ms == 0 || meta->expire_ms > NowMs();
}

Result<bool> TypedStore::Expire(int db, std::string_view key, int64_t expire_ms) {
  KeyLock lock(*this, db, key);
  auto meta = ReadMetaAny(db, key);
  if (!meta) return Err(meta.error());
  if (!*meta) return false;
  (*meta)->expire_ms = expire_ms;
  WriteBatch batch;
  PutMeta(batch, db, key, **meta);
  TK_RETURN_IF_ERROR_R(engine_.Write(batch));
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

Status TypedStore::Set(int db, std::string_view key, std::string_view value, int64_t expire_ms) {
  KeyLock lock(*this, db, key);
  auto raw = engine_.Get(MetaKey(db, key));
  if (!raw) return raw.error();
  WriteBatch batch;
  if (*raw) {
    auto old = DecodeMeta(**raw);
    if (!old) return old.error();
    if (IsCollection(old->type)) Retire(batch, db, key, old->version);  // SET replaces any type
  }
  Metadata meta;
  meta.type = RedisType::kString;
  meta.expire_ms = expire_ms;
  meta.size = value.size();
  meta.value.assign(value);
  PutMeta(batch, db, key, meta);
  return engine_.Write(batch);
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

Result<uint64_t> TypedStore::Push(int db, std::string_view key,
                                  const std::vector<std::string>& values, bool left) {
  KeyLock lock(*this, db, key);
  WriteBatch batch;
  auto meta = ReadMeta(db, key, RedisType::kList, &batch);
  if (!meta) return Err(meta.error());
  Metadata m =
      *meta ? **meta : Metadata{RedisType::kList, 0, NewVersion(), 0, kListMiddle, kListMiddle};
  std::string prefix = SubPrefix(db, key, m.version);
  for (const std::string& value : values) {
    uint64_t index = left ? --m.head : m.tail++;
    batch.Put(prefix + ListField(index), value);
    m.size++;
  }
  PutMeta(batch, db, key, m);
  TK_RETURN_IF_ERROR_R(engine_.Write(batch));
  return m.size;
}

Result<std::optional<std::string>> TypedStore::Pop(int db, std::string_view key, bool left) {
  KeyLock lock(*this, db, key);
  auto meta = ReadMeta(db, key, RedisType::kList);
  if (!meta) return Err(meta.error());
  if (!*meta) return std::nullopt;
  Metadata& m = **meta;
  uint64_t index = left ? m.head : m.tail - 1;
  std::string sub = SubPrefix(db, key, m.version) + ListField(index);
  auto value = engine_.Get(sub);
  if (!value) return Err(value.error());
  if (!*value) return Err(StatusCode::kCorruption, "list element missing at its index");
  WriteBatch batch;
  batch.Delete(sub);
  if (left)
    m.head++;
  else
    m.tail--;
  m.size--;
  PutMeta(batch, db, key, m);
  TK_RETURN_IF_ERROR_R(engine_.Write(batch));
  return value;
}

Result<std::optional<std::string>> TypedStore::Index(int db, std::string_view key, int64_t index) {
  auto meta = ReadMeta(db, key, RedisType::kList);
  if (!meta) return Err(meta.error());
  if (!*meta) return std::nullopt;
  int64_t size = static_cast<int64_t>((*meta)->size);
  if (index < 0) index += size;
  if (index < 0 || index >= size) return std::nullopt;
  return engine_.Get(SubPrefix(db, key, (*meta)->version) +
                     ListField((*meta)->head + static_cast<uint64_t>(index)));
}

Result<std::vector<std::string>> TypedStore::Range(int db, std::string_view key, int64_t start,
                                                   int64_t stop) {
  std::vector<std::string> out;
  auto meta = ReadMeta(db, key, RedisType::kList);
  if (!meta) return Err(meta.error());
  if (!*meta) return out;
  int64_t size = static_cast<int64_t>((*meta)->size);
  // Redis LRANGE: negative indexes from the end, clamped; an empty range is an empty reply.
  if (start < 0) start = std::max<int64_t>(0, start + size);
  if (stop < 0) stop += size;
  stop = std::min(stop, size - 1);
  if (start > stop) return out;
  std::string prefix = SubPrefix(db, key, (*meta)->version);
  auto it = engine_.NewIterator();
  TK_RETURN_IF_ERROR_R(it->Seek(prefix + ListField((*meta)->head + static_cast<uint64_t>(start))));
  for (int64_t i = start; i <= stop && it->Valid() && it->key().starts_with(prefix); i++) {
    auto value = it->value();
    if (!value) return Err(value.error());
    out.push_back(std::move(*value));
    TK_RETURN_IF_ERROR_R(it->Next());
  }
  return out;
}

Result<uint64_t> TypedStore::LLen(int db, std::string_view key) {
  return Size(db, key, RedisType::kList);
}

// --- lists: middle operations ---
//
// Elements occupy the contiguous physical indexes head..tail-1. A change in the middle keeps them
// contiguous by moving the elements on one side of the change; the side is chosen to move fewer.

Status TypedStore::ScanList(const std::string& prefix, const Metadata& meta, bool from_tail,
                            uint64_t limit,
                            const std::function<bool(uint64_t, const std::string&)>& visit) {
  limit = std::min(limit, meta.size);
  if (limit == 0) return Status::Ok();
  auto it = engine_.NewIterator();
  if (from_tail) {
    TK_RETURN_IF_ERROR(it->SeekForPrev(prefix + ListField(meta.tail - 1)));
  } else {
    TK_RETURN_IF_ERROR(it->Seek(prefix + ListField(meta.head)));
  }
  for (uint64_t i = 0; i < limit; i++) {
    uint64_t position = from_tail ? meta.size - 1 - i : i;
    if (!it->Valid() || !it->key().starts_with(prefix) || it->key().size() != prefix.size() + 8 ||
        GetBE(it->key(), prefix.size(), 8) != meta.head + position) {
      return Status(StatusCode::kCorruption, "list element missing at its index");
    }
    auto value = it->value();
    if (!value) return value.error();
    if (!visit(position, *value)) break;
    TK_RETURN_IF_ERROR(from_tail ? it->Prev() : it->Next());
  }
  return Status::Ok();
}

Status TypedStore::CopyElements(WriteBatch& batch, const std::string& from, uint64_t first,
                                uint64_t count, const std::string& to, uint64_t to_first) {
  if (count == 0) return Status::Ok();
  Metadata range;
  range.size = count;
  range.head = first;
  range.tail = first + count;
  return ScanList(from, range, /*from_tail=*/false, count,
                  [&](uint64_t position, const std::string& value) {
                    batch.Put(to + ListField(to_first + position), value);
                    return true;
                  });
}

Status TypedStore::DeleteCollection(int db, std::string_view key, uint64_t version,
                                    WriteBatch& batch) {
  batch.Delete(MetaKey(db, key));
  Retire(batch, db, key, version);
  TK_RETURN_IF_ERROR(engine_.Write(batch));
  reclaim_wanted_.Set();
  return Status::Ok();
}

Status TypedStore::LSet(int db, std::string_view key, int64_t index, std::string_view value) {
  KeyLock lock(*this, db, key);
  auto meta = ReadMeta(db, key, RedisType::kList);
  if (!meta) return meta.error();
  if (!*meta) return Status(StatusCode::kInvalidArgument, "ERR no such key");
  const Metadata& m = **meta;
  int64_t size = static_cast<int64_t>(m.size);
  if (index < 0) index += size;
  if (index < 0 || index >= size) {
    return Status(StatusCode::kInvalidArgument, "ERR index out of range");
  }
  return engine_.Put(
      SubPrefix(db, key, m.version) + ListField(m.head + static_cast<uint64_t>(index)), value);
}

Result<int64_t> TypedStore::LInsert(int db, std::string_view key, bool before,
                                    std::string_view pivot, std::string_view value) {
  KeyLock lock(*this, db, key);
  auto meta = ReadMeta(db, key, RedisType::kList);
  if (!meta) return Err(meta.error());
  if (!*meta) return 0;
  Metadata m = **meta;
  std::string prefix = SubPrefix(db, key, m.version);
  std::optional<uint64_t> found;
  TK_RETURN_IF_ERROR_R(ScanList(prefix, m, /*from_tail=*/false, m.size,
                                [&](uint64_t position, const std::string& element) {
                                  if (element == pivot) found = position;
                                  return !found;
                                }));
  if (!found) return -1;
  uint64_t at = *found + (before ? 0 : 1);  // position of the new element
  TK_ASSERT(at <= m.size && m.head > 0 && m.tail < UINT64_MAX);
  WriteBatch batch;
  if (at < m.size - at) {
    // The `at` elements before it move one slot toward the head.
    TK_RETURN_IF_ERROR_R(CopyElements(batch, prefix, m.head, at, prefix, m.head - 1));
    m.head--;
  } else {
    // The elements from `at` on move one slot toward the tail.
    TK_RETURN_IF_ERROR_R(
        CopyElements(batch, prefix, m.head + at, m.size - at, prefix, m.head + at + 1));
    m.tail++;
  }
  batch.Put(prefix + ListField(m.head + at), value);
  m.size++;
  PutMeta(batch, db, key, m);
  TK_RETURN_IF_ERROR_R(engine_.Write(batch));
  return static_cast<int64_t>(m.size);
}

namespace {

// LREM closes the gaps left by the removed elements (ascending positions `removed` in a list of
// `size`) by keeping one run of survivors in place, the run after the first `left` removed
// elements: the survivors before it move toward the tail, those after it toward the head. Returns
// the `left` that moves the fewest survivors.
uint64_t CheapestGapToKeep(const std::vector<uint64_t>& removed, uint64_t size) {
  uint64_t k = removed.size();
  TK_ASSERT(k > 0 && k < size);
  uint64_t best = 0;
  uint64_t best_moves = UINT64_MAX;
  for (uint64_t left = 0; left <= k; left++) {
    // Survivors before the left-th removed element, and after the (left+1)-th.
    uint64_t before = left == 0 ? 0 : removed[left - 1] - (left - 1);
    uint64_t after = left == k ? 0 : (size - 1 - removed[left]) - (k - left - 1);
    if (before + after < best_moves) {
      best_moves = before + after;
      best = left;
    }
  }
  return best;
}

}  // namespace

Result<uint64_t> TypedStore::LRem(int db, std::string_view key, int64_t count,
                                  std::string_view value) {
  KeyLock lock(*this, db, key);
  auto meta = ReadMeta(db, key, RedisType::kList);
  if (!meta) return Err(meta.error());
  if (!*meta) return 0;
  Metadata m = **meta;
  std::string prefix = SubPrefix(db, key, m.version);
  // |count| without overflow for INT64_MIN.
  uint64_t want = count == 0  ? UINT64_MAX
                  : count > 0 ? static_cast<uint64_t>(count)
                              : uint64_t{0} - static_cast<uint64_t>(count);
  std::vector<uint64_t> removed;
  TK_RETURN_IF_ERROR_R(ScanList(prefix, m, /*from_tail=*/count < 0, m.size,
                                [&](uint64_t position, const std::string& element) {
                                  if (element == value) removed.push_back(position);
                                  return removed.size() < want;
                                }));
  if (removed.empty()) return 0;
  uint64_t k = removed.size();
  WriteBatch batch;
  if (k == m.size) {
    TK_RETURN_IF_ERROR_R(DeleteCollection(db, key, m.version, batch));
    return k;
  }
  if (count < 0) std::reverse(removed.begin(), removed.end());
  uint64_t left = CheapestGapToKeep(removed, m.size);
  // Survivor run j lies between removed[j-1] and removed[j]; it moves by left - j slots.
  for (uint64_t j = 0; j <= k; j++) {
    if (j == left) continue;
    uint64_t begin = j == 0 ? 0 : removed[j - 1] + 1;
    uint64_t end = j == k ? m.size : removed[j];
    uint64_t from = m.head + begin;
    TK_RETURN_IF_ERROR_R(CopyElements(batch, prefix, from, end - begin, prefix, from + left - j));
  }
  // The list now spans head+left .. tail-(k-left); every slot inside was rewritten or kept.
  for (uint64_t i = 0; i < left; i++) batch.Delete(prefix + ListField(m.head + i));
  for (uint64_t i = 0; i < k - left; i++) batch.Delete(prefix + ListField(m.tail - 1 - i));
  m.head += left;
  m.tail -= k - left;
  m.size -= k;
  TK_ASSERT(m.tail - m.head == m.size);
  PutMeta(batch, db, key, m);
  TK_RETURN_IF_ERROR_R(engine_.Write(batch));
  return k;
}

Status TypedStore::LTrim(int db, std::string_view key, int64_t start, int64_t stop) {
  KeyLock lock(*this, db, key);
  auto meta = ReadMeta(db, key, RedisType::kList);
  if (!meta) return meta.error();
  if (!*meta) return Status::Ok();
  Metadata m = **meta;
  int64_t size = static_cast<int64_t>(m.size);
  // Redis LTRIM: negative indexes from the end; start past the end or after stop empties it.
  if (start < 0) start += size;
  if (stop < 0) stop += size;
  if (start < 0) start = 0;
  uint64_t drop_head = m.size;
  uint64_t drop_tail = 0;
  if (start <= stop && start < size) {
    stop = std::min(stop, size - 1);
    drop_head = static_cast<uint64_t>(start);
    drop_tail = static_cast<uint64_t>(size - 1 - stop);
  }
  uint64_t drop = drop_head + drop_tail;
  if (drop == 0) return Status::Ok();
  uint64_t keep = m.size - drop;
  std::string prefix = SubPrefix(db, key, m.version);
  WriteBatch batch;
  if (keep == 0) return DeleteCollection(db, key, m.version, batch);
  if (keep < drop) {
    // Fewer survivors than victims: copy them to a fresh version, retire the old one like DEL.
    Metadata fresh = m;
    fresh.version = NewVersion();
    fresh.head = kListMiddle;
    fresh.tail = kListMiddle + keep;
    fresh.size = keep;
    TK_RETURN_IF_ERROR(CopyElements(batch, prefix, m.head + drop_head, keep,
                                    SubPrefix(db, key, fresh.version), fresh.head));
    Retire(batch, db, key, m.version);
    PutMeta(batch, db, key, fresh);
    TK_RETURN_IF_ERROR(engine_.Write(batch));
    reclaim_wanted_.Set();
    return Status::Ok();
  }
  for (uint64_t i = 0; i < drop_head; i++) batch.Delete(prefix + ListField(m.head + i));
  for (uint64_t i = 0; i < drop_tail; i++) batch.Delete(prefix + ListField(m.tail - 1 - i));
  m.head += drop_head;
  m.tail -= drop_tail;
  m.size = keep;
  PutMeta(batch, db, key, m);
  return engine_.Write(batch);
}

Result<std::vector<uint64_t>> TypedStore::LPos(int db, std::string_view key, std::string_view value,
                                               int64_t rank, int64_t count, int64_t maxlen) {
  if (rank == 0) {
    return Err(StatusCode::kInvalidArgument,
               "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
               "or use negative to start from the end of the list");
  }
  if (rank == INT64_MIN) {  // |rank| would overflow; Redis's range check words it so
    return Err(StatusCode::kInvalidArgument,
               "ERR value is out of range, value must between -9223372036854775807 and "
               "9223372036854775807");
  }
  if (count < 0) return Err(StatusCode::kInvalidArgument, "ERR COUNT can't be negative");
  if (maxlen < 0) return Err(StatusCode::kInvalidArgument, "ERR MAXLEN can't be negative");
  std::vector<uint64_t> out;
  auto meta = ReadMeta(db, key, RedisType::kList);
  if (!meta) return Err(meta.error());
  if (!*meta) return out;
  uint64_t skip = static_cast<uint64_t>(rank > 0 ? rank : -rank) - 1;
  uint64_t want = count == 0 ? UINT64_MAX : static_cast<uint64_t>(count);
  uint64_t limit = maxlen == 0 ? UINT64_MAX : static_cast<uint64_t>(maxlen);
  TK_RETURN_IF_ERROR_R(ScanList(SubPrefix(db, key, (*meta)->version), **meta,
                                /*from_tail=*/rank < 0, limit,
                                [&](uint64_t position, const std::string& element) {
                                  if (element != value) return true;
                                  if (skip > 0) {
                                    skip--;
                                  } else {
                                    out.push_back(position);
                                  }
                                  return out.size() < want;
                                }));
  return out;
}

Result<uint64_t> TypedStore::Size(int db, std::string_view key, RedisType type) {
  auto meta = ReadMeta(db, key, type);
  if (!meta) return Err(meta.error());
  return *meta ? (*meta)->size : 0;
}

Result<bool> TypedStore::ChangeMember(int db, std::string_view key, RedisType type,
                                      std::string_view member, std::optional<std::string> value) {
  WriteBatch batch;
  auto meta = ReadMeta(db, key, type, &batch);
  if (!meta) return Err(meta.error());
  if (!*meta && !value) return false;
  Metadata m = *meta ? **meta : Metadata{type, 0, NewVersion()};
  std::string sub = SubPrefix(db, key, m.version) + std::string(member);
  bool exists = false;
  if (*meta) {
    auto old = engine_.Get(sub);
    if (!old) return Err(old.error());
    exists = old->has_value();
  }
  if (!value && !exists) return false;
  if (value) {
    batch.Put(sub, *value);
    if (!exists) m.size++;
  } else {
    batch.Delete(sub);
    m.size--;
  }
  PutMeta(batch, db, key, m);
  TK_RETURN_IF_ERROR_R(engine_.Write(batch));
  return value ? !exists : true;
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
  TK_RETURN_IF_ERROR_R(engine_.Write(batch));
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
  TK_RETURN_IF_ERROR_R(engine_.Write(batch));
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

Status TypedStore::ReclaimOnce() {
  MutexLock lock(reclaim_mutex_);  // one pass at a time: two would delete the same subkeys
  TK_RETURN_IF_ERROR(lock.status());
  size_t budget = kReclaimPerPass;
  auto garbage = engine_.NewIterator();
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
        auto sub = engine_.NewIterator();
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
        TK_RETURN_IF_ERROR(engine_.Write(batch));
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
