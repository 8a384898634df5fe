// List commands (Redis 7.0's t_list.c) on TypedStore's lists, the blocking ones included.
//
// A list is one metadata record (size, head and tail indexes) plus one subkey record per element
// at contiguous u64 indexes (tiers/types.h): push and pop at either end, LINDEX and LSET are O(1)
// engine operations, LRANGE one ordered scan; the middle operations' costs are in tiers/types.h.
// A pop of `count` elements (LPOP/RPOP with a count, LMPOP, BLMPOP) reads the range and trims it
// off with LTRIM in one engine write, rather than `count` single pops (count writes).
// Moves between lists (LMOVE, RPOPLPUSH, BLMOVE, BRPOPLPUSH) may span shards: they run with both
// keys locked and reach each owner with Ctx::On. The element is read first, pushed onto the
// destination, and only then popped from the source, so an I/O error between the two writes
// leaves the element in both lists rather than in neither (a reliable queue may see it twice,
// never lose it); the events come out in Redis's order (push on the destination, pop on the
// source, "del" when the source empties).
// Blocking commands first try exactly as their non-blocking twins; when no key can serve them
// they ask the dispatcher to park the client (Ctx::Block) and write nothing; a change of one of
// the keys re-runs the whole command. Inside MULTI they answer the timeout's null at once.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/assert.h"
#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {

using tiers::RedisType;

namespace {

using Elements = std::vector<std::string>;

void ReplyElements(Ctx& ctx, const Elements& elements) {
  ctx.reply().ArrayHeader(static_cast<int64_t>(elements.size()));
  for (const std::string& element : elements) ctx.reply().Bulk(element);
}

std::string_view PushEvent(bool left) { return left ? "lpush" : "rpush"; }
std::string_view PopEvent(bool left) { return left ? "lpop" : "rpop"; }

// LEFT or RIGHT (LMOVE, LMPOP...): true for LEFT; else "ERR syntax error".
std::optional<bool> ParseEnd(Ctx& ctx, size_t i) {
  if (ctx.Is(i, "left")) return true;
  if (ctx.Is(i, "right")) return false;
  ctx.SyntaxError();
  return std::nullopt;
}

// Redis's getRangeLongFromObjectOrReply with a message: a non-integer and a value outside
// [min, max] both get `error`.
std::optional<int64_t> LongInRange(Ctx& ctx, size_t i, int64_t min, int64_t max,
                                   std::string_view error) {
  int64_t value = 0;
  if (!ParseInt64(ctx.arg(i), value) || value < min || value > max) {
    ctx.reply().Error(error);
    return std::nullopt;
  }
  return value;
}

// The size of the list at `key`: nullopt when absent, WRONGTYPE for another type.
Result<std::optional<uint64_t>> ListSize(tiers::TypedStore& store, int db, std::string_view key) {
  auto meta = store.Lookup(db, key, RedisType::kList);
  if (!meta) return Err(meta.error());
  if (!*meta) return std::optional<uint64_t>();
  return std::optional<uint64_t>((*meta)->size);
}

// Reports the removal of elements from an end of a list, as Redis's listElementsRemoved: the pop
// event, and "del" when the list became empty (the store deleted it). On the key's owner.
void ReportPopped(Server& server, int db, std::string_view key, bool left, bool emptied) {
  server.KeyChanged(db, key, kNotifyList, PopEvent(left));
  if (emptied) server.KeyChanged(db, key, kNotifyGeneric, "del");
}

// Pops min(count, size) elements from an end of the list of `size` at `key` (count >= 1), in the
// order single pops would return them, in one engine write, and reports the events.
Result<Elements> PopRange(Server& server, tiers::TypedStore& store, int db, const std::string& key,
                          bool left, uint64_t count, uint64_t size) {
  TK_ASSERT(count >= 1 && size >= 1);
  const int64_t n = static_cast<int64_t>(std::min(count, size));
  const int64_t length = static_cast<int64_t>(size);
  if (n == 1) {  // the common case: one point read and one write
    auto element = store.Pop(db, key, left);
    if (!element) return Err(element.error());
    if (!*element) return Err(StatusCode::kCorruption, "list shorter than its size");
    ReportPopped(server, db, key, left, size == 1);
    return Elements{std::move(**element)};
  }
  auto elements = left ? store.Range(db, key, 0, n - 1) : store.Range(db, key, length - n, -1);
  if (!elements) return Err(elements.error());
  if (static_cast<int64_t>(elements->size()) != n) {
    return Err(StatusCode::kCorruption, "list shorter than its size");
  }
  if (!left) std::reverse(elements->begin(), elements->end());
  const bool emptied = n == length;
  if (emptied) {
    auto deleted = store.Delete(db, key);
    if (!deleted) return Err(deleted.error());
  } else {
    Status trimmed = left ? store.LTrim(db, key, n, -1) : store.LTrim(db, key, 0, length - n - 1);
    if (!trimmed.ok()) return Err(trimmed);
  }
  ReportPopped(server, db, key, left, emptied);
  return elements;
}

// --- pushes and pops ---

void Push(Ctx& ctx, bool left, bool only_existing) {
  const std::string& key = ctx.arg(1);
  if (only_existing) {
    auto size = ListSize(ctx.store(), ctx.db(), key);
    if (!size) return ctx.Error(size.error());
    if (!*size) return ctx.reply().Integer(0);
  }
  Elements values(ctx.args().begin() + 2, ctx.args().end());
  auto length = ctx.store().Push(ctx.db(), key, values, left);
  if (!length) return ctx.Error(length.error());
  ctx.Changed(key, kNotifyList, PushEvent(left));
  ctx.reply().Integer(static_cast<int64_t>(*length));
}

void LPush(Ctx& ctx) { Push(ctx, /*left=*/true, /*only_existing=*/false); }
void RPush(Ctx& ctx) { Push(ctx, /*left=*/false, /*only_existing=*/false); }
void LPushX(Ctx& ctx) { Push(ctx, /*left=*/true, /*only_existing=*/true); }
void RPushX(Ctx& ctx) { Push(ctx, /*left=*/false, /*only_existing=*/true); }

// LPOP/RPOP key [count]: a bulk (nil when absent) without a count; an array (null when absent,
// empty for a count of 0) with one.
void Pop(Ctx& ctx, bool left) {
  if (ctx.argc() > 3) return ctx.WrongArity();
  const bool has_count = ctx.argc() == 3;
  int64_t count = 1;
  if (has_count) {
    auto parsed = LongInRange(ctx, 2, 0, INT64_MAX, "ERR value is out of range, must be positive");
    if (!parsed) return;
    count = *parsed;
  }
  const std::string& key = ctx.arg(1);
  auto size = ListSize(ctx.store(), ctx.db(), key);
  if (!size) return ctx.Error(size.error());
  if (!*size) return has_count ? ctx.reply().NullArray() : ctx.reply().NullBulk();
  if (count == 0) return ctx.reply().ArrayHeader(0);
  auto popped = PopRange(ctx.server(), ctx.store(), ctx.db(), key, left,
                         static_cast<uint64_t>(count), **size);
  if (!popped) return ctx.Error(popped.error());
  if (has_count) return ReplyElements(ctx, *popped);
  TK_ASSERT(popped->size() == 1);
  ctx.reply().Bulk(popped->front());
}

void LPop(Ctx& ctx) { Pop(ctx, /*left=*/true); }
void RPop(Ctx& ctx) { Pop(ctx, /*left=*/false); }

// --- reads ---

void LLen(Ctx& ctx) {
  auto size = ListSize(ctx.store(), ctx.db(), ctx.arg(1));
  if (!size) return ctx.Error(size.error());
  ctx.reply().Integer(static_cast<int64_t>(size->value_or(0)));
}

void LRange(Ctx& ctx) {
  auto start = ctx.Int(2);
  if (!start) return;
  auto stop = ctx.Int(3);
  if (!stop) return;
  auto elements = ctx.store().Range(ctx.db(), ctx.arg(1), *start, *stop);
  if (!elements) return ctx.Error(elements.error());
  ReplyElements(ctx, *elements);
}

// LINDEX: Redis looks the key up (nil, WRONGTYPE) before it parses the index.
void LIndex(Ctx& ctx) {
  auto size = ListSize(ctx.store(), ctx.db(), ctx.arg(1));
  if (!size) return ctx.Error(size.error());
  if (!*size) return ctx.reply().NullBulk();
  auto index = ctx.Int(2);
  if (!index) return;
  auto element = ctx.store().Index(ctx.db(), ctx.arg(1), *index);
  if (!element) return ctx.Error(element.error());
  if (!*element) return ctx.reply().NullBulk();
  ctx.reply().Bulk(**element);
}

// --- changes in the middle ---

// LSET: "ERR no such key" and WRONGTYPE come before the index is parsed, as in Redis.
void LSet(Ctx& ctx) {
  auto size = ListSize(ctx.store(), ctx.db(), ctx.arg(1));
  if (!size) return ctx.Error(size.error());
  if (!*size) return ctx.reply().Error("ERR no such key");
  auto index = ctx.Int(2);
  if (!index) return;
  if (!ctx.Check(ctx.store().LSet(ctx.db(), ctx.arg(1), *index, ctx.arg(3)))) return;
  ctx.Changed(ctx.arg(1), kNotifyList, "lset");
  ctx.Ok();
}

void LInsert(Ctx& ctx) {
  bool before = false;
  if (ctx.Is(2, "before")) {
    before = true;
  } else if (!ctx.Is(2, "after")) {
    return ctx.SyntaxError();
  }
  auto length = ctx.store().LInsert(ctx.db(), ctx.arg(1), before, ctx.arg(3), ctx.arg(4));
  if (!length) return ctx.Error(length.error());
  if (*length > 0) ctx.Changed(ctx.arg(1), kNotifyList, "linsert");
  ctx.reply().Integer(*length);
}

void LRem(Ctx& ctx) {
  auto count = ctx.Int(2);
  if (!count) return;
  const std::string& key = ctx.arg(1);
  auto size = ListSize(ctx.store(), ctx.db(), key);
  if (!size) return ctx.Error(size.error());
  if (!*size) return ctx.reply().Integer(0);
  auto removed = ctx.store().LRem(ctx.db(), key, *count, ctx.arg(3));
  if (!removed) return ctx.Error(removed.error());
  if (*removed > 0) ctx.Changed(key, kNotifyList, "lrem");
  if (*removed == **size) ctx.Changed(key, kNotifyGeneric, "del");
  ctx.reply().Integer(static_cast<int64_t>(*removed));
}

// How many elements LTRIM start stop keeps of a list of `size` (Redis's index rules).
uint64_t TrimKeeps(uint64_t size, int64_t start, int64_t stop) {
  const int64_t length = static_cast<int64_t>(size);
  if (start < 0) start += length;
  if (stop < 0) stop += length;
  if (start < 0) start = 0;
  if (start > stop || start >= length) return 0;
  stop = std::min(stop, length - 1);
  return static_cast<uint64_t>(stop - start + 1);
}

// LTRIM: Redis sends "ltrim" whenever the key exists, even when nothing was cut.
void LTrim(Ctx& ctx) {
  auto start = ctx.Int(2);
  if (!start) return;
  auto stop = ctx.Int(3);
  if (!stop) return;
  const std::string& key = ctx.arg(1);
  auto size = ListSize(ctx.store(), ctx.db(), key);
  if (!size) return ctx.Error(size.error());
  if (!*size) return ctx.Ok();
  if (!ctx.Check(ctx.store().LTrim(ctx.db(), key, *start, *stop))) return;
  ctx.Changed(key, kNotifyList, "ltrim");
  if (TrimKeeps(**size, *start, *stop) == 0) ctx.Changed(key, kNotifyGeneric, "del");
  ctx.Ok();
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len], options checked in order as
// Redis parses them.
void LPos(Ctx& ctx) {
  int64_t rank = 1;
  std::optional<int64_t> count;  // nullopt: no COUNT, a single position or nil
  int64_t maxlen = 0;
  for (size_t i = 3; i < ctx.argc(); i++) {
    const bool more = i + 1 < ctx.argc();
    if (more && ctx.Is(i, "rank")) {
      auto parsed = ctx.Int(++i);
      if (!parsed) return;
      if (*parsed == INT64_MIN) {
        return ctx.reply().Error(
            "ERR value is out of range, value must between -9223372036854775807 and "
            "9223372036854775807");
      }
      if (*parsed == 0) {
        return ctx.reply().Error(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
      }
      rank = *parsed;
    } else if (more && ctx.Is(i, "count")) {
      count = LongInRange(ctx, ++i, 0, INT64_MAX, "ERR COUNT can't be negative");
      if (!count) return;
    } else if (more && ctx.Is(i, "maxlen")) {
      auto parsed = LongInRange(ctx, ++i, 0, INT64_MAX, "ERR MAXLEN can't be negative");
      if (!parsed) return;
      maxlen = *parsed;
    } else {
      return ctx.SyntaxError();
    }
  }
  auto positions =
      ctx.store().LPos(ctx.db(), ctx.arg(1), ctx.arg(2), rank, count.value_or(1), maxlen);
  if (!positions) return ctx.Error(positions.error());
  if (!count) {
    if (positions->empty()) return ctx.reply().NullBulk();
    return ctx.reply().Integer(static_cast<int64_t>(positions->front()));
  }
  ctx.reply().ArrayHeader(static_cast<int64_t>(positions->size()));
  for (uint64_t position : *positions) ctx.reply().Integer(static_cast<int64_t>(position));
}

// --- moves between lists (the keys may be on different shards) ---

struct SourceEnd {
  std::string element;  // the element at the end being popped
  uint64_t size = 0;
};

// The element at one end of the source list, read on its owner; nullopt when the list is absent.
Result<std::optional<SourceEnd>> ReadSourceEnd(Ctx& ctx, const std::string& source, bool left) {
  const int db = ctx.db();
  return ctx.On<std::optional<SourceEnd>>(
      ctx.OwnerOf(source), [&, db](Shard& shard) -> Result<std::optional<SourceEnd>> {
        auto size = ListSize(shard.store(), db, source);
        if (!size) return Err(size.error());
        if (!*size) return std::optional<SourceEnd>();
        auto element = shard.store().Index(db, source, left ? 0 : -1);
        if (!element) return Err(element.error());
        if (!*element) return Err(StatusCode::kCorruption, "list element missing at its end");
        return std::optional<SourceEnd>(SourceEnd{std::move(**element), **size});
      });
}

// Moves `end` (read from the source's end `from_left`) onto the destination's end `to_left`:
// push first, then pop (see the top of the file). Replies with the element.
void FinishMove(Ctx& ctx, const std::string& source, const std::string& destination,
                bool from_left, bool to_left, const SourceEnd& end) {
  const int db = ctx.db();
  Server& server = ctx.server();
  auto pushed = ctx.On<bool>(ctx.OwnerOf(destination), [&, db](Shard& shard) -> Result<bool> {
    auto length = shard.store().Push(db, destination, {end.element}, to_left);
    if (!length) return Err(length.error());  // WRONGTYPE: nothing written anywhere
    server.KeyChanged(db, destination, kNotifyList, PushEvent(to_left));
    return true;
  });
  if (!pushed) return ctx.Error(pushed.error());
  auto popped = ctx.On<bool>(ctx.OwnerOf(source), [&, db](Shard& shard) -> Result<bool> {
    auto element = shard.store().Pop(db, source, from_left);
    if (!element) return Err(element.error());
    // The keys stay locked: the end is still the element read (a rotation of one list pushed it
    // onto the other end, or onto this end where it pops again).
    TK_ASSERT(element->has_value() && **element == end.element);
    ReportPopped(server, db, source, from_left, end.size == 1 && source != destination);
    return true;
  });
  if (!popped) return ctx.Error(popped.error());
  ctx.reply().Bulk(end.element);
}

// LMOVE/RPOPLPUSH and, with `deadline`, BLMOVE/BRPOPLPUSH (which block while the source is
// absent; Redis checks the destination's type only once there is something to move).
void Move(Ctx& ctx, bool from_left, bool to_left, std::optional<Deadline> deadline) {
  const std::string& source = ctx.arg(1);
  const std::string& destination = ctx.arg(2);
  auto end = ReadSourceEnd(ctx, source, from_left);
  if (!end) return ctx.Error(end.error());
  if (!*end) {
    if (deadline && ctx.may_block()) {
      return ctx.Block({source}, *deadline, Ctx::TimeoutReply::kNullBulk);
    }
    return ctx.reply().NullBulk();
  }
  FinishMove(ctx, source, destination, from_left, to_left, **end);
}

void LMove(Ctx& ctx) {
  auto from_left = ParseEnd(ctx, 3);
  if (!from_left) return;
  auto to_left = ParseEnd(ctx, 4);
  if (!to_left) return;
  Move(ctx, *from_left, *to_left, std::nullopt);
}

void RPopLPush(Ctx& ctx) { Move(ctx, /*from_left=*/false, /*to_left=*/true, std::nullopt); }

void BLMove(Ctx& ctx) {
  auto from_left = ParseEnd(ctx, 3);
  if (!from_left) return;
  auto to_left = ParseEnd(ctx, 4);
  if (!to_left) return;
  auto deadline = ctx.BlockingDeadline(5);
  if (!deadline) return;
  Move(ctx, *from_left, *to_left, deadline);
}

void BRPopLPush(Ctx& ctx) {
  auto deadline = ctx.BlockingDeadline(3);
  if (!deadline) return;
  Move(ctx, /*from_left=*/false, /*to_left=*/true, deadline);
}

// --- pops from the first non-empty of several lists ---

struct Popped {
  std::string key;
  Elements elements;
};

// Pops up to `count` elements from the first of `keys` holding a list, on each key's owner in
// turn; nullopt when none does. WRONGTYPE for the first key (in order) of another type.
Result<std::optional<Popped>> PopFirst(Ctx& ctx, const std::vector<std::string>& keys, bool left,
                                       uint64_t count) {
  const int db = ctx.db();
  Server& server = ctx.server();
  for (const std::string& key : keys) {
    auto popped = ctx.On<std::optional<Elements>>(
        ctx.OwnerOf(key), [&, db](Shard& shard) -> Result<std::optional<Elements>> {
          auto size = ListSize(shard.store(), db, key);
          if (!size) return Err(size.error());
          if (!*size) return std::optional<Elements>();
          auto elements = PopRange(server, shard.store(), db, key, left, count, **size);
          if (!elements) return Err(elements.error());
          return std::optional<Elements>(std::move(*elements));
        });
    if (!popped) return Err(popped.error());
    if (*popped) return std::optional<Popped>(Popped{key, std::move(**popped)});
  }
  return std::optional<Popped>();
}

// BLPOP/BRPOP key [key ...] timeout: [key, element] from the first non-empty list.
void BlockingPop(Ctx& ctx, bool left) {
  auto deadline = ctx.BlockingDeadline(ctx.argc() - 1);
  if (!deadline) return;
  std::vector<std::string> keys(ctx.args().begin() + 1, ctx.args().end() - 1);
  auto popped = PopFirst(ctx, keys, left, 1);
  if (!popped) return ctx.Error(popped.error());
  if (!*popped) {
    if (!ctx.may_block()) return ctx.reply().NullArray();
    return ctx.Block(std::move(keys), *deadline, Ctx::TimeoutReply::kNullArray);
  }
  TK_ASSERT((*popped)->elements.size() == 1);
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk((*popped)->key);
  ctx.reply().Bulk((*popped)->elements.front());
}

void BLPop(Ctx& ctx) { BlockingPop(ctx, /*left=*/true); }
void BRPop(Ctx& ctx) { BlockingPop(ctx, /*left=*/false); }

std::optional<std::string> LMPopKeys(const std::vector<std::string>& args,
                                     KeyPositionList& positions) {
  return MPopKeyPositions(args, 1, positions);
}

std::optional<std::string> BLMPopKeys(const std::vector<std::string>& args,
                                      KeyPositionList& positions) {
  return MPopKeyPositions(args, 2, positions);
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]; BLMPOP timeout numkeys ... (`blocking`).
void MPop(Ctx& ctx, size_t numkeys_at, bool blocking) {
  KeyPositionList positions;
  if (auto error = MPopKeyPositions(ctx.args(), numkeys_at, positions)) return ctx.reply().Error(*error);
  const size_t where_at = numkeys_at + positions.size() + 1;
  auto left = ParseEnd(ctx, where_at);
  if (!left) return;
  std::optional<int64_t> count;
  for (size_t i = where_at + 1; i < ctx.argc(); i++) {
    if (!count && i + 1 < ctx.argc() && ctx.Is(i, "count")) {
      count = LongInRange(ctx, ++i, 1, INT64_MAX, "ERR count should be greater than 0");
      if (!count) return;
    } else {
      return ctx.SyntaxError();
    }
  }
  std::optional<Deadline> deadline;
  if (blocking) {
    deadline = ctx.BlockingDeadline(1);
    if (!deadline) return;
  }
  std::vector<std::string> keys;
  for (int position : positions) keys.push_back(ctx.arg(static_cast<size_t>(position)));
  auto popped = PopFirst(ctx, keys, *left, static_cast<uint64_t>(count.value_or(1)));
  if (!popped) return ctx.Error(popped.error());
  if (!*popped) {
    if (blocking && ctx.may_block()) {
      return ctx.Block(std::move(keys), *deadline, Ctx::TimeoutReply::kNullArray);
    }
    return ctx.reply().NullArray();
  }
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk((*popped)->key);
  ReplyElements(ctx, (*popped)->elements);
}

void LMPop(Ctx& ctx) { MPop(ctx, 1, /*blocking=*/false); }
void BLMPop(Ctx& ctx) { MPop(ctx, 2, /*blocking=*/true); }

}  // namespace

void RegisterListCommands(CommandTable& table) {
  constexpr uint32_t kWrite = kCmdWrite | kCmdDenyOom;
  constexpr uint32_t kBlocking = kCmdNoScript | kCmdBlocking;
  constexpr KeySpec kKey{1, 1, 1};
  constexpr KeySpec kTwoKeys{1, 2, 1};
  auto add = [&](std::string_view name, int arity, uint32_t flags, KeySpec keys, Handler handler,
                 std::string_view since, std::string_view summary) {
    table.Add(MakeCommand(name, arity, flags, kAclList, keys, handler, "list", since, summary));
  };
  add("lpush", -3, kWrite | kCmdFast, kKey, LPush, "1.0.0", "Prepend one or multiple elements to a list");
  add("rpush", -3, kWrite | kCmdFast, kKey, RPush, "1.0.0", "Append one or multiple elements to a list");
  add("lpushx", -3, kWrite | kCmdFast, kKey, LPushX, "2.2.0",
      "Prepend an element to a list, only if the list exists");
  add("rpushx", -3, kWrite | kCmdFast, kKey, RPushX, "2.2.0",
      "Append an element to a list, only if the list exists");
  add("lpop", -2, kCmdWrite | kCmdFast, kKey, LPop, "1.0.0",
      "Remove and get the first elements in a list");
  add("rpop", -2, kCmdWrite | kCmdFast, kKey, RPop, "1.0.0",
      "Remove and get the last elements in a list");
  add("llen", 2, kCmdReadonly | kCmdFast, kKey, LLen, "1.0.0", "Get the length of a list");
  add("lrange", 4, kCmdReadonly, kKey, LRange, "1.0.0", "Get a range of elements from a list");
  add("lindex", 3, kCmdReadonly, kKey, LIndex, "1.0.0", "Get an element from a list by its index");
  add("lset", 4, kWrite, kKey, LSet, "1.0.0", "Set the value of an element in a list by its index");
  add("linsert", 5, kWrite, kKey, LInsert, "2.2.0",
      "Insert an element before or after another element in a list");
  add("lrem", 4, kCmdWrite, kKey, LRem, "1.0.0", "Remove elements from a list");
  add("ltrim", 4, kCmdWrite, kKey, LTrim, "1.0.0", "Trim a list to the specified range");
  add("lpos", -3, kCmdReadonly, kKey, LPos, "6.0.6", "Return the index of matching elements on a list");
  add("lmove", 5, kWrite, kTwoKeys, LMove, "6.2.0",
      "Pop an element from a list, push it to another list and return it");
  add("rpoplpush", 3, kWrite, kTwoKeys, RPopLPush, "1.2.0",
      "Remove the last element in a list, prepend it to another list and return it");
  add("blpop", -3, kCmdWrite | kBlocking, {1, -2, 1}, BLPop, "2.0.0",
      "Remove and get the first element in a list, or block until one is available");
  add("brpop", -3, kCmdWrite | kBlocking, {1, -2, 1}, BRPop, "2.0.0",
      "Remove and get the last element in a list, or block until one is available");
  add("blmove", 6, kWrite | kBlocking, kTwoKeys, BLMove, "6.2.0",
      "Pop an element from a list, push it to another list and return it; or block until one is "
      "available");
  add("brpoplpush", 4, kWrite | kBlocking, kTwoKeys, BRPopLPush, "2.2.0",
      "Pop an element from a list, push it to another list and return it; or block until one is "
      "available");
  CommandSpec lmpop = MakeCommand("lmpop", -4, kCmdWrite, kAclList, {}, LMPop, "list", "7.0.0",
                                  "Pop elements from a list");
  lmpop.keys_fn = LMPopKeys;
  table.Add(std::move(lmpop));
  CommandSpec blmpop =
      MakeCommand("blmpop", -5, kCmdWrite | kCmdBlocking, kAclList, {}, BLMPop, "list", "7.0.0",
                  "Pop elements from a list, or block until one is available");
  blmpop.keys_fn = BLMPopKeys;
  table.Add(std::move(blmpop));
}

}  // namespace tierkv::server
