// Lists of TypedStore: push and pop at both ends, reads by index and range, and the middle
// operations (LSET, LINSERT, LREM, LTRIM, LPOS). The encoding and the cost of each command are
// described in tiers/types.h: elements sit at contiguous u64 indexes head..tail-1 under the
// list's subkey prefix, starting in the middle of the index space so both ends can grow.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"
#include "tiers/types.h"
#include "tiers/types_internal.h"

namespace tierkv::tiers {

using types_internal::GetBE;
using types_internal::kListMiddle;
using types_internal::MetaKey;
using types_internal::PutBE;
using types_internal::Retire;
using types_internal::SubPrefix;

namespace {

std::string ListField(uint64_t index) {
  std::string out;
  PutBE(out, index, 8);
  return out;
}

}  // namespace

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
  TK_RETURN_IF_ERROR_R(Commit(batch));
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
  TK_RETURN_IF_ERROR_R(Commit(batch));
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
  TK_RETURN_IF_ERROR(Commit(batch));
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
  WriteBatch batch;
  batch.Put(SubPrefix(db, key, m.version) + ListField(m.head + static_cast<uint64_t>(index)), value);
  return Commit(batch);
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
  TK_RETURN_IF_ERROR_R(Commit(batch));
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
  TK_RETURN_IF_ERROR_R(Commit(batch));
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
    TK_RETURN_IF_ERROR(Commit(batch));
    reclaim_wanted_.Set();
    return Status::Ok();
  }
  for (uint64_t i = 0; i < drop_head; i++) batch.Delete(prefix + ListField(m.head + i));
  for (uint64_t i = 0; i < drop_tail; i++) batch.Delete(prefix + ListField(m.tail - 1 - i));
  m.head += drop_head;
  m.tail -= drop_tail;
  m.size = keep;
  PutMeta(batch, db, key, m);
  return Commit(batch);
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

}  // namespace tierkv::tiers
