// Set commands (Redis 7.0's t_set.c) on TypedStore's sets.
//
// A set is one metadata record (type, size) plus one subkey record per member, in byte order
// (tiers/types.h): SISMEMBER is one point read, SADD/SREM one engine write, SCARD reads only the
// metadata, SMEMBERS one ordered scan. Replies list members in byte order (Redis: hash order).
// Multi-key commands (SINTER, SUNION, SDIFF, their STORE forms, SINTERCARD, SMOVE) may span
// shards: they run on the client's executor with every key locked and reach each key's owner
// with Ctx::On, moving as little as they can:
//   - first the size of every key (and its type: WRONGTYPE in key order, as Redis);
//   - SINTER fetches only the smallest set and sends the candidates to each other set's owner,
//     which keeps the members it holds (point reads, or one scan when it is the smaller side);
//     SDIFF likewise removes what each later set holds; SUNION fetches every set.
//   - a STORE deletes the destination (any type) and writes the result: two engine writes on the
//     destination's owner, so a crash between them loses the destination;
//   - SMOVE adds to the destination before removing from the source (two writes, maybe on two
//     shards): a failure between them duplicates the member instead of losing it.
// SINTERCARD with a LIMIT works through the smallest set in chunks and stops at the limit.
// SPOP/SRANDMEMBER draw uniform positions and read them in one ordered scan (no random access).
#include <algorithm>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/assert.h"
#include "server/collections.h"
#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {

using tiers::RedisType;

namespace {

using Members = std::vector<std::string>;
using Changes = std::vector<std::pair<std::string, std::optional<std::string>>>;

Members Names(collections::Entries entries) {
  Members out;
  out.reserve(entries.size());
  for (auto& entry : entries) out.push_back(std::move(entry.first));
  return out;
}

void ReplySet(Ctx& ctx, const Members& members) {
  ctx.reply().SetHeader(static_cast<int64_t>(members.size()));
  for (const std::string& member : members) ctx.reply().Bulk(member);
}

// Reports a removal of `removed` members from a set of `size`: the event, and "del" when it
// emptied the set (the store deleted it).
void ReportRemoved(Ctx& ctx, std::string_view key, uint64_t removed, uint64_t size,
                   std::string_view event) {
  if (removed == 0) return;
  ctx.Changed(key, kNotifySet, event);
  if (removed == size) ctx.Changed(key, kNotifyGeneric, "del");
}

void SAdd(Ctx& ctx) {
  Changes changes;
  for (size_t i = 2; i < ctx.argc(); i++) changes.emplace_back(ctx.arg(i), std::string());
  auto changed = ctx.store().ChangeMembers(ctx.db(), ctx.arg(1), RedisType::kSet, changes);
  if (!changed) return ctx.Error(changed.error());
  if (changed->added > 0) ctx.Changed(ctx.arg(1), kNotifySet, "sadd");
  ctx.reply().Integer(static_cast<int64_t>(changed->added));
}

void SRem(Ctx& ctx) {
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kSet);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().Integer(0);
  Changes changes;
  for (size_t i = 2; i < ctx.argc(); i++) changes.emplace_back(ctx.arg(i), std::nullopt);
  auto changed = ctx.store().ChangeMembers(ctx.db(), ctx.arg(1), RedisType::kSet, changes);
  if (!changed) return ctx.Error(changed.error());
  ReportRemoved(ctx, ctx.arg(1), changed->removed, (*meta)->size, "srem");
  ctx.reply().Integer(static_cast<int64_t>(changed->removed));
}

void SMembers(Ctx& ctx) {
  auto entries = collections::ReadAll(ctx.store(), ctx.db(), ctx.arg(1), RedisType::kSet);
  if (!entries) return ctx.Error(entries.error());
  ReplySet(ctx, Names(std::move(*entries)));
}

void SIsMember(Ctx& ctx) {
  auto member = ctx.store().GetMember(ctx.db(), ctx.arg(1), RedisType::kSet, ctx.arg(2));
  if (!member) return ctx.Error(member.error());
  ctx.reply().Integer(member->has_value() ? 1 : 0);
}

void SMIsMember(Ctx& ctx) {
  std::vector<bool> found;
  for (size_t i = 2; i < ctx.argc(); i++) {
    auto member = ctx.store().GetMember(ctx.db(), ctx.arg(1), RedisType::kSet, ctx.arg(i));
    if (!member) return ctx.Error(member.error());
    found.push_back(member->has_value());
  }
  ctx.reply().ArrayHeader(static_cast<int64_t>(found.size()));
  for (bool is_member : found) ctx.reply().Integer(is_member ? 1 : 0);
}

void SCard(Ctx& ctx) {
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kSet);
  if (!meta) return ctx.Error(meta.error());
  ctx.reply().Integer(*meta ? static_cast<int64_t>((*meta)->size) : 0);
}

// Removes `members` (all present) from the set of `size` and reports SPOP's events.
Status PopMembers(Ctx& ctx, const Members& members, uint64_t size) {
  Changes changes;
  for (const std::string& member : members) changes.emplace_back(member, std::nullopt);
  auto changed = ctx.store().ChangeMembers(ctx.db(), ctx.arg(1), RedisType::kSet, changes);
  if (!changed) return changed.error();
  TK_ASSERT(changed->removed == members.size());
  ReportRemoved(ctx, ctx.arg(1), changed->removed, size, "spop");
  return Status::Ok();
}

// SPOP key count: a set reply (RESP3), the whole set (and the key deleted) when count >= size.
void SPopCount(Ctx& ctx) {
  std::optional<int64_t> count = ctx.IntInRange(2, 0, INT64_MAX);
  if (!count) return;
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kSet);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta || *count == 0) return ctx.reply().SetHeader(0);
  const uint64_t size = (*meta)->size;
  if (static_cast<uint64_t>(*count) >= size) {
    auto all = collections::ReadAll(ctx.store(), ctx.db(), ctx.arg(1), RedisType::kSet);
    if (!all) return ctx.Error(all.error());
    auto deleted = ctx.store().Delete(ctx.db(), ctx.arg(1));  // O(1), unlike removing each
    if (!deleted) return ctx.Error(deleted.error());
    ctx.Changed(ctx.arg(1), kNotifySet, "spop");
    ctx.Changed(ctx.arg(1), kNotifyGeneric, "del");
    return ReplySet(ctx, Names(std::move(*all)));
  }
  std::vector<uint64_t> positions =
      collections::SampleDistinct(ctx.env(), size, static_cast<uint64_t>(*count));
  auto entries =
      collections::ReadPositions(ctx.store(), ctx.db(), ctx.arg(1), RedisType::kSet, positions);
  if (!entries) return ctx.Error(entries.error());
  Members popped = Names(std::move(*entries));
  if (!ctx.Check(PopMembers(ctx, popped, size))) return;
  ReplySet(ctx, popped);
}

void SPop(Ctx& ctx) {
  if (ctx.argc() == 3) return SPopCount(ctx);
  if (ctx.argc() > 3) return ctx.SyntaxError();
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kSet);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().NullBulk();
  const uint64_t position = collections::RandomBelow(ctx.env(), (*meta)->size);
  auto entries =
      collections::ReadPositions(ctx.store(), ctx.db(), ctx.arg(1), RedisType::kSet, {position});
  if (!entries) return ctx.Error(entries.error());
  Members popped = Names(std::move(*entries));
  if (!ctx.Check(PopMembers(ctx, popped, (*meta)->size))) return;
  ctx.reply().Bulk(popped.front());
}

void SRandMember(Ctx& ctx) {
  if (ctx.argc() > 3) return ctx.SyntaxError();
  std::optional<int64_t> count;
  if (ctx.argc() == 3) {
    count = collections::RandomCount(ctx, 2);
    if (!count) return;
  }
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kSet);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return count ? ctx.reply().ArrayHeader(0) : ctx.reply().NullBulk();
  if (count) {
    if (*count == 0) return ctx.reply().ArrayHeader(0);
    return collections::RandomSample(ctx, RedisType::kSet, (*meta)->size, *count, false);
  }
  const uint64_t position = collections::RandomBelow(ctx.env(), (*meta)->size);
  auto entries =
      collections::ReadPositions(ctx.store(), ctx.db(), ctx.arg(1), RedisType::kSet, {position});
  if (!entries) return ctx.Error(entries.error());
  ctx.reply().Bulk(entries->front().first);
}

void SScan(Ctx& ctx) { collections::ScanCommand(ctx, RedisType::kSet); }

// --- commands over several keys, each reached on its owner ---

// The size of set `key` (nullopt: absent), from its owner. WRONGTYPE for another type.
Result<std::optional<uint64_t>> RemoteSize(Ctx& ctx, const std::string& key) {
  const int db = ctx.db();
  return ctx.On<std::optional<uint64_t>>(
      ctx.OwnerOf(key), [&, db](Shard& shard) -> Result<std::optional<uint64_t>> {
        auto meta = shard.store().Lookup(db, key, RedisType::kSet);
        if (!meta) return Err(meta.error());
        return *meta ? std::optional<uint64_t>((*meta)->size) : std::nullopt;
      });
}

// The sizes of `keys`, in order; the first error (in key order) fails, as Redis's lookups do.
Result<std::vector<std::optional<uint64_t>>> RemoteSizes(Ctx& ctx, const Members& keys) {
  std::vector<std::optional<uint64_t>> sizes;
  for (const std::string& key : keys) {
    auto size = RemoteSize(ctx, key);
    if (!size) return Err(size.error());
    sizes.push_back(*size);
  }
  return sizes;
}

Result<Members> RemoteMembers(Ctx& ctx, const std::string& key) {
  const int db = ctx.db();
  return ctx.On<Members>(ctx.OwnerOf(key), [&, db](Shard& shard) -> Result<Members> {
    auto entries = collections::ReadAll(shard.store(), db, key, RedisType::kSet);
    if (!entries) return Err(entries.error());
    return Names(std::move(*entries));
  });
}

// Up to `max` members of set `key` from `from` on (byte order), from its owner.
Result<Members> RemoteMembersFrom(Ctx& ctx, const std::string& key, const std::string& from,
                                  size_t max) {
  TK_ASSERT(max > 0);
  const int db = ctx.db();
  return ctx.On<Members>(ctx.OwnerOf(key), [&, db](Shard& shard) -> Result<Members> {
    Members out;
    Status status = shard.store().ScanMembers(
        db, key, RedisType::kSet, from, [&](std::string_view member, std::string_view) {
          out.emplace_back(member);
          return out.size() < max;
        });
    if (!status.ok()) return Err(status);
    return out;
  });
}

// The candidates that set `key` holds (`keep_held`) or does not hold, in their order, decided on
// the key's owner: one point read per candidate, or one scan of the set when it is smaller.
Result<Members> RemoteFilter(Ctx& ctx, const std::string& key, const Members& candidates,
                             bool keep_held) {
  const int db = ctx.db();
  return ctx.On<Members>(ctx.OwnerOf(key), [&, db](Shard& shard) -> Result<Members> {
    tiers::TypedStore& store = shard.store();
    auto meta = store.Lookup(db, key, RedisType::kSet);
    if (!meta) return Err(meta.error());
    const uint64_t size = *meta ? (*meta)->size : 0;
    std::unordered_set<std::string> held;
    const bool scan = size < candidates.size();
    if (scan) {
      auto entries = collections::ReadAll(store, db, key, RedisType::kSet);
      if (!entries) return Err(entries.error());
      for (auto& entry : *entries) held.insert(std::move(entry.first));
    }
    Members out;
    for (const std::string& candidate : candidates) {
      bool is_held = false;
      if (scan) {
        is_held = held.contains(candidate);
      } else {
        auto member = store.GetMember(db, key, RedisType::kSet, candidate);
        if (!member) return Err(member.error());
        is_held = member->has_value();
      }
      if (is_held == keep_held) out.push_back(candidate);
    }
    return out;
  });
}

// Replaces `destination` (any type) by the set `members` on its owner, with Redis's events
// (`event` when stored, "del" when an empty result deleted it). Returns the stored size.
Result<int64_t> StoreSet(Ctx& ctx, const std::string& destination, const Members& members,
                         std::string_view event) {
  return collections::ReplaceKey(
      ctx, destination, members.empty(), kNotifySet, event,
      [&](tiers::TypedStore& store, int db) -> Result<uint64_t> {
        Changes changes;
        for (const std::string& member : members) changes.emplace_back(member, std::string());
        auto changed = store.ChangeMembers(db, destination, RedisType::kSet, changes);
        if (!changed) return Err(changed.error());
        return changed->added;
      });
}

// What a set operation ends with: a set reply, a STORE, or a cardinality.
struct Output {
  std::optional<std::string> destination;
  std::string_view event;  // the STORE's keyspace event
  bool cardinality_only = false;
  uint64_t limit = 0;  // SINTERCARD: 0 is none
};

void Finish(Ctx& ctx, const Output& output, const Members& result) {
  if (output.cardinality_only) {
    uint64_t count = result.size();
    if (output.limit > 0) count = std::min(count, output.limit);
    return ctx.reply().Integer(static_cast<int64_t>(count));
  }
  if (!output.destination) return ReplySet(ctx, result);
  auto stored = StoreSet(ctx, *output.destination, result, output.event);
  if (!stored) return ctx.Error(stored.error());
  ctx.reply().Integer(*stored);
}

// SINTERCARD LIMIT's smallest chunk of candidates: small enough to stop soon after the limit,
// large enough that a low limit does not cost a message pair per few members.
constexpr size_t kLimitChunk = 1024;

// SINTER/SINTERSTORE/SINTERCARD: the smallest set's members, filtered by each other set.
void Intersect(Ctx& ctx, const Members& keys, const Output& output) {
  auto sizes = RemoteSizes(ctx, keys);
  if (!sizes) return ctx.Error(sizes.error());
  std::vector<size_t> order;
  for (size_t i = 0; i < keys.size(); i++) {
    if (!(*sizes)[i]) return Finish(ctx, output, {});  // an absent key is an empty set
    order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return *(*sizes)[a] < *(*sizes)[b]; });
  // SINTERCARD with a LIMIT takes the smallest set a chunk at a time and stops at the limit;
  // otherwise one chunk is the whole set.
  const std::string& smallest = keys[order[0]];
  const size_t chunk = output.limit > 0 ? std::max<size_t>(output.limit, kLimitChunk) : SIZE_MAX;
  Members result;
  std::string from;
  for (bool more = true; more;) {  // bounded: each round consumes members of the smallest set
    auto candidates = RemoteMembersFrom(ctx, smallest, from, chunk);
    if (!candidates) return ctx.Error(candidates.error());
    more = candidates->size() == chunk;
    if (more) from = candidates->back() + '\0';  // the first byte string after it
    for (size_t i = 1; i < order.size() && !candidates->empty(); i++) {
      if (keys[order[i]] == smallest) continue;
      candidates = RemoteFilter(ctx, keys[order[i]], *candidates, true);
      if (!candidates) return ctx.Error(candidates.error());
    }
    result.insert(result.end(), std::make_move_iterator(candidates->begin()),
                  std::make_move_iterator(candidates->end()));
    if (output.limit > 0 && result.size() >= output.limit) break;
  }
  Finish(ctx, output, result);
}

// SUNION/SUNIONSTORE: every set's members.
void Union(Ctx& ctx, const Members& keys, const Output& output) {
  auto sizes = RemoteSizes(ctx, keys);
  if (!sizes) return ctx.Error(sizes.error());
  std::set<std::string> all;
  for (size_t i = 0; i < keys.size(); i++) {
    if (!(*sizes)[i]) continue;
    auto members = RemoteMembers(ctx, keys[i]);
    if (!members) return ctx.Error(members.error());
    all.insert(std::make_move_iterator(members->begin()), std::make_move_iterator(members->end()));
  }
  Finish(ctx, output, Members(all.begin(), all.end()));
}

// SDIFF/SDIFFSTORE: the first set's members, less those each later set holds.
void Difference(Ctx& ctx, const Members& keys, const Output& output) {
  auto sizes = RemoteSizes(ctx, keys);
  if (!sizes) return ctx.Error(sizes.error());
  if (!(*sizes)[0]) return Finish(ctx, output, {});
  auto result = RemoteMembers(ctx, keys[0]);
  if (!result) return ctx.Error(result.error());
  for (size_t i = 1; i < keys.size() && !result->empty(); i++) {
    if (!(*sizes)[i]) continue;
    if (keys[i] == keys[0]) return Finish(ctx, output, {});
    result = RemoteFilter(ctx, keys[i], *result, false);
    if (!result) return ctx.Error(result.error());
  }
  Finish(ctx, output, *result);
}

Members KeysFrom(Ctx& ctx, size_t first, size_t end) {
  return Members(ctx.args().begin() + static_cast<std::ptrdiff_t>(first),
                 ctx.args().begin() + static_cast<std::ptrdiff_t>(end));
}

void SInter(Ctx& ctx) { Intersect(ctx, KeysFrom(ctx, 1, ctx.argc()), {}); }
void SUnion(Ctx& ctx) { Union(ctx, KeysFrom(ctx, 1, ctx.argc()), {}); }
void SDiff(Ctx& ctx) { Difference(ctx, KeysFrom(ctx, 1, ctx.argc()), {}); }
void SInterStore(Ctx& ctx) {
  Intersect(ctx, KeysFrom(ctx, 2, ctx.argc()), {.destination = ctx.arg(1), .event = "sinterstore"});
}
void SUnionStore(Ctx& ctx) {
  Union(ctx, KeysFrom(ctx, 2, ctx.argc()), {.destination = ctx.arg(1), .event = "sunionstore"});
}
void SDiffStore(Ctx& ctx) {
  Difference(ctx, KeysFrom(ctx, 2, ctx.argc()), {.destination = ctx.arg(1), .event = "sdiffstore"});
}


void SInterCard(Ctx& ctx) {
  KeyPositionList positions;
  std::optional<std::string> error = InterCardKeyPositions(ctx.args(), positions);
  TK_ASSERT_MSG(!error, "the dispatcher checked numkeys");
  const size_t end = 2 + positions.size();
  Output output{.cardinality_only = true};
  for (size_t i = end; i < ctx.argc(); i++) {
    if (!ctx.Is(i, "limit") || i + 1 >= ctx.argc()) return ctx.SyntaxError();
    int64_t limit = 0;
    if (!ParseInt64(ctx.arg(i + 1), limit) || limit < 0) {
      return ctx.reply().Error("ERR LIMIT can't be negative");
    }
    output.limit = static_cast<uint64_t>(limit);
    i++;
  }
  Intersect(ctx, KeysFrom(ctx, 2, end), output);
}

// Whether set `key` holds `member` (false when absent), from its owner.
Result<bool> RemoteHolds(Ctx& ctx, const std::string& key, const std::string& member) {
  const int db = ctx.db();
  return ctx.On<bool>(ctx.OwnerOf(key), [&, db](Shard& shard) -> Result<bool> {
    auto held = shard.store().GetMember(db, key, RedisType::kSet, member);
    if (!held) return Err(held.error());
    return held->has_value();
  });
}

// Adds (or removes) one member of set `key` on its owner; true when that changed the set.
Result<bool> RemoteChange(Ctx& ctx, const std::string& key, const std::string& member, bool add) {
  const int db = ctx.db();
  return ctx.On<bool>(ctx.OwnerOf(key), [&, db](Shard& shard) -> Result<bool> {
    std::optional<std::string> value;
    if (add) value.emplace();
    auto changed = shard.store().ChangeMembers(db, key, RedisType::kSet, {{member, value}});
    if (!changed) return Err(changed.error());
    return changed->added + changed->removed > 0;
  });
}

// Runs Server::KeyChanged on the key's owner.
Status RemoteChanged(Ctx& ctx, const std::string& key, int notify, std::string_view event) {
  const int db = ctx.db();
  Server& server = ctx.server();
  auto done = ctx.On<bool>(ctx.OwnerOf(key), [&, db](Shard&) -> Result<bool> {
    server.KeyChanged(db, key, notify, event);
    return true;
  });
  return done ? Status::Ok() : done.error();
}

// SMOVE source destination member (the two keys may be on different shards). The member is added
// to the destination before it leaves the source: an I/O error between the two writes leaves it
// in both sets rather than in neither. The events keep Redis's order (srem, del, sadd).
void SMove(Ctx& ctx) {
  const std::string& source = ctx.arg(1);
  const std::string& destination = ctx.arg(2);
  const std::string& member = ctx.arg(3);
  auto source_size = RemoteSize(ctx, source);
  if (!source_size) return ctx.Error(source_size.error());
  if (!*source_size) return ctx.reply().Integer(0);
  auto destination_size = RemoteSize(ctx, destination);
  if (!destination_size) return ctx.Error(destination_size.error());
  auto held = RemoteHolds(ctx, source, member);
  if (!held) return ctx.Error(held.error());
  if (!*held || source == destination) return ctx.reply().Integer(*held ? 1 : 0);
  auto added = RemoteChange(ctx, destination, member, true);
  if (!added) return ctx.Error(added.error());
  auto removed = RemoteChange(ctx, source, member, false);
  if (!removed) return ctx.Error(removed.error());
  TK_ASSERT(*removed);
  if (!ctx.Check(RemoteChanged(ctx, source, kNotifySet, "srem"))) return;
  if (**source_size == 1 && !ctx.Check(RemoteChanged(ctx, source, kNotifyGeneric, "del"))) return;
  if (*added && !ctx.Check(RemoteChanged(ctx, destination, kNotifySet, "sadd"))) return;
  ctx.reply().Integer(1);
}

}  // namespace

void RegisterSetCommands(CommandTable& table) {
  constexpr uint64_t kSet = kAclSet;
  auto add = [&](std::string_view name, int arity, uint32_t flags, KeySpec keys, Handler handler,
                 std::string_view since, std::string_view summary) {
    table.Add(MakeCommand(name, arity, flags, kSet, keys, handler, "set", since, summary));
  };
  const KeySpec one{1, 1, 1};
  const KeySpec all{1, -1, 1};
  constexpr uint32_t kReadFast = kCmdReadonly | kCmdFast;
  add("sadd", -3, kCmdWrite | kCmdDenyOom | kCmdFast, one, SAdd, "1.0.0",
      "Add one or more members to a set");
  add("srem", -3, kCmdWrite | kCmdFast, one, SRem, "1.0.0", "Remove one or more members from a set");
  add("smembers", 2, kCmdReadonly, one, SMembers, "1.0.0", "Get all the members in a set");
  add("sismember", 3, kReadFast, one, SIsMember, "1.0.0",
      "Determine if a given value is a member of a set");
  add("smismember", -3, kReadFast, one, SMIsMember, "6.2.0",
      "Returns the membership associated with the given elements for a set");
  add("scard", 2, kReadFast, one, SCard, "1.0.0", "Get the number of members in a set");
  add("spop", -2, kCmdWrite | kCmdFast, one, SPop, "1.0.0",
      "Remove and return one or multiple random members from a set");
  add("srandmember", -2, kCmdReadonly, one, SRandMember, "1.0.0",
      "Get one or multiple random members from a set");
  add("smove", 4, kCmdWrite | kCmdFast, {1, 2, 1}, SMove, "1.0.0",
      "Move a member from one set to another");
  add("sinter", -2, kCmdReadonly, all, SInter, "1.0.0", "Intersect multiple sets");
  add("sinterstore", -3, kCmdWrite | kCmdDenyOom, all, SInterStore, "1.0.0",
      "Intersect multiple sets and store the resulting set in a key");
  CommandSpec sintercard =
      MakeCommand("sintercard", -3, kCmdReadonly, kSet, {}, SInterCard, "set", "7.0.0",
                  "Intersect multiple sets and return the cardinality of the result");
  sintercard.keys_fn = InterCardKeyPositions;
  table.Add(std::move(sintercard));
  add("sunion", -2, kCmdReadonly, all, SUnion, "1.0.0", "Add multiple sets");
  add("sunionstore", -3, kCmdWrite | kCmdDenyOom, all, SUnionStore, "1.0.0",
      "Add multiple sets and store the resulting set in a key");
  add("sdiff", -2, kCmdReadonly, all, SDiff, "1.0.0", "Subtract multiple sets");
  add("sdiffstore", -3, kCmdWrite | kCmdDenyOom, all, SDiffStore, "1.0.0",
      "Subtract multiple sets and store the resulting set in a key");
  add("sscan", -3, kCmdReadonly, one, SScan, "2.8.0", "Incrementally iterate Set elements");
}

}  // namespace tierkv::server
