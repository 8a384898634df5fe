// Generic key commands: DEL UNLINK EXISTS TYPE TOUCH, the expiry commands (EXPIRE PEXPIRE
// EXPIREAT PEXPIREAT EXPIRETIME PEXPIRETIME TTL PTTL PERSIST), RENAME RENAMENX COPY MOVE,
// FLUSHDB FLUSHALL, OBJECT, DUMP RESTORE; the keyspace walks (KEYS SCAN RANDOMKEY DBSIZE) are in
// cmd_keyspace_walks.cc.
//
// RENAME, COPY and MOVE on one shard are a single engine write (TypedStore::CopyKey); across
// shards they go through the DUMP payload: restore on the target's shard, then delete the source
// (a crash between the two leaves both keys, never neither).
// Rejected: keeping a per-db key count for DBSIZE (every write path of every family would have to
// maintain it); DBSIZE walks the db's metadata records: O(keys).
#include <algorithm>
#include <climits>
#include <optional>
#include <string>
#include <vector>

#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

using tiers::Metadata;
using tiers::RedisType;
using tiers::TypedStore;

int64_t NowMs(Ctx& ctx) { return ctx.env().clock().UnixMicros() / 1000; }

// --- DEL UNLINK EXISTS TOUCH TYPE ---

// One call per key on its owner (keys may span shards). Counts repeated keys each time, as Redis.
void CountKeys(Ctx& ctx, bool remove) {
  int64_t count = 0;
  for (size_t i = 1; i < ctx.argc(); i++) {
    const std::string& key = ctx.arg(i);
    const int db = ctx.db();
    Server& server = ctx.server();
    auto found = ctx.On<bool>(ctx.OwnerOf(key), [&, db](Shard& shard) -> Result<bool> {
      if (!remove) {
        auto type = shard.store().Type(db, key);
        if (!type) return Err(type.error());
        return *type != RedisType::kNone;
      }
      auto deleted = shard.store().Delete(db, key);
      if (deleted && *deleted) server.KeyChanged(db, key, kNotifyGeneric, "del");
      return deleted;
    });
    if (!found) return ctx.Error(found.error());
    count += *found ? 1 : 0;
  }
  ctx.reply().Integer(count);
}

void Del(Ctx& ctx) { CountKeys(ctx, true); }
void Exists(Ctx& ctx) { CountKeys(ctx, false); }

void Type(Ctx& ctx) {
  auto type = ctx.store().Type(ctx.db(), ctx.arg(1));
  if (!type) return ctx.Error(type.error());
  ctx.reply().SimpleString(tiers::RedisTypeName(*type));
}

// --- expiry ---

enum ExpireFlag { kExpireNx = 1, kExpireXx = 2, kExpireGt = 4, kExpireLt = 8 };

// Redis's parseExtendedExpireArgumentsOrReply: options from argument 3 on.
std::optional<int> ParseExpireFlags(Ctx& ctx) {
  int flags = 0;
  for (size_t i = 3; i < ctx.argc(); i++) {
    if (ctx.Is(i, "nx")) {
      flags |= kExpireNx;
    } else if (ctx.Is(i, "xx")) {
      flags |= kExpireXx;
    } else if (ctx.Is(i, "gt")) {
      flags |= kExpireGt;
    } else if (ctx.Is(i, "lt")) {
      flags |= kExpireLt;
    } else {
      ctx.reply().Error("ERR Unsupported option " + ctx.arg(i));
      return std::nullopt;
    }
  }
  if ((flags & kExpireNx) && (flags & (kExpireXx | kExpireGt | kExpireLt))) {
    ctx.reply().Error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return std::nullopt;
  }
  if ((flags & kExpireGt) && (flags & kExpireLt)) {
    ctx.reply().Error("ERR GT and LT options at the same time are not compatible");
    return std::nullopt;
  }
  return flags;
}

// Whether the flags let a key whose expiry is `current` (0: none) take `when`.
bool ExpireAllowed(int flags, int64_t current, int64_t when) {
  if ((flags & kExpireNx) && current != 0) return false;
  if ((flags & kExpireXx) && current == 0) return false;
  if ((flags & kExpireGt) && (current == 0 || when <= current)) return false;  // none: infinite
  if ((flags & kExpireLt) && current != 0 && when >= current) return false;
  return true;
}

// Redis's expireGenericCommand: `base_ms` is now (EXPIRE, PEXPIRE) or 0 (the AT forms).
void ExpireGeneric(Ctx& ctx, bool relative, bool seconds) {
  auto flags = ParseExpireFlags(ctx);
  if (!flags) return;
  auto when = ctx.Int(2);
  if (!when) return;
  const std::string error = "ERR invalid expire time in '" + std::string(ctx.spec().name) +
                            "' command";
  if (seconds) {
    if (*when > LLONG_MAX / 1000 || *when < LLONG_MIN / 1000) return ctx.reply().Error(error);
    *when *= 1000;
  }
  const int64_t now = NowMs(ctx);
  const int64_t base = relative ? now : 0;
  if (*when > LLONG_MAX - base) return ctx.reply().Error(error);
  *when += base;
  const std::string& key = ctx.arg(1);
  auto current = ctx.store().ExpireTime(ctx.db(), key);
  if (!current) return ctx.Error(current.error());
  if (!*current || !ExpireAllowed(*flags, **current, *when)) return ctx.reply().Integer(0);
  if (*when <= now) {  // already past: the key goes now, as a DEL
    auto deleted = ctx.store().Delete(ctx.db(), key);
    if (!deleted) return ctx.Error(deleted.error());
    ctx.Changed(key, kNotifyGeneric, "del");
    return ctx.reply().Integer(1);
  }
  auto set = ctx.store().Expire(ctx.db(), key, *when);
  if (!set) return ctx.Error(set.error());
  ctx.Changed(key, kNotifyGeneric, "expire");
  ctx.reply().Integer(1);
}

void Expire(Ctx& ctx) { ExpireGeneric(ctx, true, true); }
void PExpire(Ctx& ctx) { ExpireGeneric(ctx, true, false); }
void ExpireAt(Ctx& ctx) { ExpireGeneric(ctx, false, true); }
void PExpireAt(Ctx& ctx) { ExpireGeneric(ctx, false, false); }

// Redis's ttlGenericCommand: -2 absent, -1 no expiry; seconds round to the nearest.
void TtlGeneric(Ctx& ctx, bool milliseconds, bool absolute) {
  auto expire = ctx.store().ExpireTime(ctx.db(), ctx.arg(1));
  if (!expire) return ctx.Error(expire.error());
  if (!*expire) return ctx.reply().Integer(-2);
  if (**expire == 0) return ctx.reply().Integer(-1);
  const int64_t ttl = std::max<int64_t>(0, absolute ? **expire : **expire - NowMs(ctx));
  ctx.reply().Integer(milliseconds ? ttl : (ttl + 500) / 1000);
}

void Ttl(Ctx& ctx) { TtlGeneric(ctx, false, false); }
void PTtl(Ctx& ctx) { TtlGeneric(ctx, true, false); }
void ExpireTime(Ctx& ctx) { TtlGeneric(ctx, false, true); }
void PExpireTime(Ctx& ctx) { TtlGeneric(ctx, true, true); }

void Persist(Ctx& ctx) {
  auto expire = ctx.store().ExpireTime(ctx.db(), ctx.arg(1));
  if (!expire) return ctx.Error(expire.error());
  if (!*expire || **expire == 0) return ctx.reply().Integer(0);
  auto cleared = ctx.store().Expire(ctx.db(), ctx.arg(1), 0);
  if (!cleared) return ctx.Error(cleared.error());
  ctx.Changed(ctx.arg(1), kNotifyGeneric, "persist");
  ctx.reply().Integer(1);
}

// --- RENAME RENAMENX COPY MOVE ---

// The database argument of COPY and MOVE: Redis's getIntFromObjectOrReply, then selectDb's range.
std::optional<int> ParseDb(Ctx& ctx, size_t i) {
  int64_t index = 0;
  if (!ParseInt64(ctx.arg(i), index) || index < INT_MIN || index > INT_MAX) {
    ctx.reply().Error("ERR value is not an integer or out of range");
    return std::nullopt;
  }
  if (index < 0 || index >= ctx.server().local().config.Int("databases")) {
    ctx.reply().Error("ERR DB index is out of range");
    return std::nullopt;
  }
  return static_cast<int>(index);
}

struct Dumped {
  std::string payload;
  int64_t expire_ms = 0;
};

// The source of a copy across shards: its payload and expiry, nullopt when absent.
Result<std::optional<Dumped>> DumpOn(Ctx& ctx, int db, const std::string& key) {
  return ctx.On<std::optional<Dumped>>(
      ctx.OwnerOf(key), [&](Shard& shard) -> Result<std::optional<Dumped>> {
        auto expire = shard.store().ExpireTime(db, key);
        if (!expire) return Err(expire.error());
        if (!*expire) return std::optional<Dumped>();
        auto payload = shard.store().Dump(db, key);
        if (!payload) return Err(payload.error());
        if (!*payload) return std::optional<Dumped>();
        return std::optional<Dumped>(Dumped{std::move(**payload), **expire});
      });
}

// Copies src (db) to dst (dst_db), deleting src when `remove`; `events` are the keyspace events
// of src and dst (src's only when removed). Keys on one shard: one write; else DUMP + RESTORE +
// DEL through the owners.
Result<TypedStore::CopyOutcome> CopyAcross(Ctx& ctx, const std::string& src, int dst_db,
                                           const std::string& dst, bool replace, bool remove,
                                           std::string_view src_event, std::string_view dst_event) {
  const int db = ctx.db();
  Server& server = ctx.server();
  const int from = ctx.OwnerOf(src);
  const int to = ctx.OwnerOf(dst);
  if (from == to) {
    return ctx.On<TypedStore::CopyOutcome>(
        from, [&](Shard& shard) -> Result<TypedStore::CopyOutcome> {
          auto outcome = shard.store().CopyKey(db, src, dst_db, dst, replace, remove);
          if (outcome && *outcome == TypedStore::CopyOutcome::kCopied) {
            if (remove) server.KeyChanged(db, src, kNotifyGeneric, src_event);
            server.KeyChanged(dst_db, dst, kNotifyGeneric, dst_event);
          }
          return outcome;
        });
  }
  auto dumped = DumpOn(ctx, db, src);
  if (!dumped) return Err(dumped.error());
  if (!*dumped) return TypedStore::CopyOutcome::kNoSource;
  auto restored = ctx.On<bool>(to, [&](Shard& shard) -> Result<bool> {
    auto done = shard.store().Restore(dst_db, dst, (*dumped)->payload, (*dumped)->expire_ms,
                                      replace);
    if (done && *done && !remove) server.KeyChanged(dst_db, dst, kNotifyGeneric, dst_event);
    return done;
  });
  if (!restored) return Err(restored.error());
  if (!*restored) return TypedStore::CopyOutcome::kTargetExists;
  if (remove) {
    auto deleted = ctx.On<bool>(from, [&](Shard& shard) -> Result<bool> {
      auto done = shard.store().Delete(db, src);
      if (done) server.KeyChanged(db, src, kNotifyGeneric, src_event);
      return done;
    });
    if (!deleted) return Err(deleted.error());
    // The destination's event after the source's, in Redis's order (one more message pair).
    auto signalled = ctx.On<bool>(to, [&](Shard&) -> Result<bool> {
      server.KeyChanged(dst_db, dst, kNotifyGeneric, dst_event);
      return true;
    });
    if (!signalled) return Err(signalled.error());
  }
  return TypedStore::CopyOutcome::kCopied;
}

void RenameGeneric(Ctx& ctx, bool nx) {
  const std::string& src = ctx.arg(1);
  const std::string& dst = ctx.arg(2);
  const int db = ctx.db();
  if (src == dst) {  // nothing to do, but the key must exist
    auto type = ctx.On<RedisType>(ctx.OwnerOf(src), [&](Shard& shard) -> Result<RedisType> {
      return shard.store().Type(db, src);
    });
    if (!type) return ctx.Error(type.error());
    if (*type == RedisType::kNone) return ctx.reply().Error("ERR no such key");
    return nx ? ctx.reply().Integer(0) : ctx.Ok();
  }
  auto outcome = CopyAcross(ctx, src, db, dst, /*replace=*/!nx, /*remove=*/true, "rename_from",
                            "rename_to");
  if (!outcome) return ctx.Error(outcome.error());
  switch (*outcome) {
    case TypedStore::CopyOutcome::kNoSource: return ctx.reply().Error("ERR no such key");
    case TypedStore::CopyOutcome::kTargetExists: return ctx.reply().Integer(0);
    case TypedStore::CopyOutcome::kCopied: return nx ? ctx.reply().Integer(1) : ctx.Ok();
  }
}

void Rename(Ctx& ctx) { RenameGeneric(ctx, false); }
void RenameNx(Ctx& ctx) { RenameGeneric(ctx, true); }

// COPY source destination [DB destination-db] [REPLACE]
void Copy(Ctx& ctx) {
  int dst_db = ctx.db();
  bool replace = false;
  for (size_t i = 3; i < ctx.argc(); i++) {
    if (ctx.Is(i, "replace")) {
      replace = true;
    } else if (ctx.Is(i, "db") && i + 1 < ctx.argc()) {
      auto db = ParseDb(ctx, ++i);
      if (!db) return;
      dst_db = *db;
    } else {
      return ctx.SyntaxError();
    }
  }
  if (dst_db == ctx.db() && ctx.arg(1) == ctx.arg(2)) {
    return ctx.reply().Error("ERR source and destination objects are the same");
  }
  auto outcome = CopyAcross(ctx, ctx.arg(1), dst_db, ctx.arg(2), replace, /*remove=*/false, "",
                            "copy_to");
  if (!outcome) return ctx.Error(outcome.error());
  ctx.reply().Integer(*outcome == TypedStore::CopyOutcome::kCopied ? 1 : 0);
}

// MOVE key db: the same key name, so the same slot and shard.
void Move(Ctx& ctx) {
  auto dst_db = ParseDb(ctx, 2);
  if (!dst_db) return;
  if (*dst_db == ctx.db()) {
    return ctx.reply().Error("ERR source and destination objects are the same");
  }
  const std::string& key = ctx.arg(1);
  auto outcome = ctx.store().CopyKey(ctx.db(), key, *dst_db, key, /*replace=*/false,
                                     /*remove_source=*/true);
  if (!outcome) return ctx.Error(outcome.error());
  if (*outcome != TypedStore::CopyOutcome::kCopied) return ctx.reply().Integer(0);
  ctx.Changed(key, kNotifyGeneric, "move_from");
  ctx.server().KeyChanged(*dst_db, key, kNotifyGeneric, "move_to");
  ctx.reply().Integer(1);
}

// --- FLUSHDB FLUSHALL ---

// [ASYNC|SYNC]: both delete the key records now; collections' elements always go to the
// background reclaimer, so the two behave the same.
void FlushGeneric(Ctx& ctx, int db) {
  if (ctx.argc() > 2 || (ctx.argc() == 2 && !ctx.Is(1, "async") && !ctx.Is(1, "sync"))) {
    return ctx.SyntaxError();
  }
  Server& server = ctx.server();
  for (int i = 0; i < ctx.shard_count(); i++) {
    auto flushed = ctx.On<uint64_t>(i, [&](Shard& shard) -> Result<uint64_t> {
      auto removed = shard.store().Flush(db);
      server.DbChanged(db);  // also after a failure: some keys may be gone
      return removed;
    });
    if (!flushed) return ctx.Error(flushed.error());
  }
  ctx.Ok();
}

void FlushDb(Ctx& ctx) { FlushGeneric(ctx, ctx.db()); }
void FlushAll(Ctx& ctx) { FlushGeneric(ctx, -1); }

// --- OBJECT ---

// Redis 7.0's defaults for the small encodings (hash-max-listpack-entries/value,
// set-max-intset-entries, zset-max-listpack-entries/value).
constexpr uint64_t kListpackEntries = 128;
constexpr size_t kListpackValue = 64;
constexpr uint64_t kIntsetEntries = 512;

// The encoding Redis would use for the value: tierkv stores every type its own way (tiers/types.h)
// and answers with Redis's name for the same size and contents, so clients that look keep working.
Result<std::string> EncodingOf(Ctx& ctx, const std::string& key, const Metadata& meta) {
  int64_t number = 0;
  switch (meta.type) {
    case RedisType::kString:
      if (meta.value.size() <= 20 && ParseInt64(meta.value, number)) return std::string("int");
      return std::string(meta.value.size() <= 44 ? "embstr" : "raw");
    case RedisType::kList: return std::string("quicklist");
    default: break;
  }
  const bool small = meta.size <= (meta.type == RedisType::kSet ? kIntsetEntries : kListpackEntries);
  bool compact = small;
  if (small) {  // reads at most 512 elements
    Status scanned = ctx.store().ScanMembers(
        ctx.db(), key, meta.type, "", [&](std::string_view member, std::string_view value) {
          if (meta.type == RedisType::kSet) {
            compact = ParseInt64(member, number);
          } else {
            compact = member.size() <= kListpackValue &&
                      (meta.type != RedisType::kHash || value.size() <= kListpackValue);
          }
          return compact;
        });
    if (!scanned.ok()) return Err(scanned);
  }
  switch (meta.type) {
    case RedisType::kHash: return std::string(compact ? "listpack" : "hashtable");
    case RedisType::kSet: return std::string(compact ? "intset" : "hashtable");
    default: return std::string(compact ? "listpack" : "skiplist");
  }
}

// OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key: a null bulk when the key is absent.
void ObjectOf(Ctx& ctx) {
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(2));
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().NullBulk();
  if (ctx.Is(1, "encoding")) {
    auto encoding = EncodingOf(ctx, ctx.arg(2), **meta);
    if (!encoding) return ctx.Error(encoding.error());
    return ctx.reply().Bulk(*encoding);
  }
  if (ctx.Is(1, "freq")) {  // tierkv has no LFU policy: Redis's answer outside LFU
    return ctx.reply().Error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
        "that when switching between policies at runtime LRU and LFU data will take some time to "
        "adjust.");
  }
  // REFCOUNT: values are never shared; IDLETIME: no access time is kept, so always 0.
  ctx.reply().Integer(ctx.Is(1, "refcount") ? 1 : 0);
}

void ObjectHelp(Ctx& ctx) {
  static constexpr std::string_view kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Print this help.",
  };
  ctx.reply().ArrayHeader(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply().SimpleString(line);
}

// --- DUMP RESTORE ---

void Dump(Ctx& ctx) {
  auto payload = ctx.store().Dump(ctx.db(), ctx.arg(1));
  if (!payload) return ctx.Error(payload.error());
  if (!*payload) return ctx.reply().NullBulk();
  ctx.reply().Bulk(**payload);
}

struct RestoreOptions {
  bool replace = false;
  bool absolute = false;
};

// Redis's option loop: IDLETIME and FREQ exclude each other (the second is a syntax error) and
// are checked, then ignored (no LRU/LFU data is kept).
std::optional<RestoreOptions> ParseRestoreOptions(Ctx& ctx) {
  RestoreOptions options;
  bool idletime = false;
  bool freq = false;
  for (size_t i = 4; i < ctx.argc(); i++) {
    const bool more = i + 1 < ctx.argc();
    if (ctx.Is(i, "replace")) {
      options.replace = true;
    } else if (ctx.Is(i, "absttl")) {
      options.absolute = true;
    } else if (ctx.Is(i, "idletime") && more && !freq) {
      auto idle = ctx.Int(++i);
      if (!idle) return std::nullopt;
      if (*idle < 0) {
        ctx.reply().Error("ERR Invalid IDLETIME value, must be >= 0");
        return std::nullopt;
      }
      idletime = true;
    } else if (ctx.Is(i, "freq") && more && !idletime) {
      auto value = ctx.Int(++i);
      if (!value) return std::nullopt;
      if (*value < 0 || *value > 255) {
        ctx.reply().Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
        return std::nullopt;
      }
      freq = true;
    } else {
      ctx.SyntaxError();
      return std::nullopt;
    }
  }
  return options;
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], checks in Redis's order.
void Restore(Ctx& ctx) {
  auto options = ParseRestoreOptions(ctx);
  if (!options) return;
  const std::string& key = ctx.arg(1);
  if (!options->replace) {
    auto existing = ctx.store().Lookup(ctx.db(), key);
    if (!existing) return ctx.Error(existing.error());
    if (*existing) return ctx.reply().Error("BUSYKEY Target key name already exists.");
  }
  auto ttl = ctx.Int(2);
  if (!ttl) return;
  if (*ttl < 0) return ctx.reply().Error("ERR Invalid TTL value, must be >= 0");
  if (!ctx.Check(TypedStore::CheckPayload(ctx.arg(3)))) return;
  const int64_t now = NowMs(ctx);
  int64_t expire_ms = *ttl;
  if (expire_ms != 0 && !options->absolute) {
    if (expire_ms > LLONG_MAX - now) return ctx.reply().Error("ERR Invalid TTL value, must be >= 0");
    expire_ms += now;
  }
  if (expire_ms != 0 && expire_ms <= now) {  // already expired: only the replaced key goes
    if (options->replace) {
      auto deleted = ctx.store().Delete(ctx.db(), key);
      if (!deleted) return ctx.Error(deleted.error());
      if (*deleted) ctx.Changed(key, kNotifyGeneric, "del");
    }
    return ctx.Ok();
  }
  auto restored = ctx.store().Restore(ctx.db(), key, ctx.arg(3), expire_ms, options->replace);
  if (!restored) return ctx.Error(restored.error());
  if (!*restored) return ctx.reply().Error("BUSYKEY Target key name already exists.");
  ctx.Changed(key, kNotifyGeneric, "restore");
  ctx.Ok();
}

}  // namespace

void RegisterKeyCommands(CommandTable& table) {
  constexpr uint64_t kKeyspace = kAclKeyspace;
  constexpr uint64_t kDangerous = kAclKeyspace | kAclDangerous;
  auto add = [&table](std::string_view name, int arity, uint32_t flags, uint64_t categories,
                      KeySpec keys, Handler handler, std::string_view since,
                      std::string_view summary) {
    table.Add(MakeCommand(name, arity, flags, categories, keys, handler, "generic", since,
                          summary));
  };
  const uint32_t kReadFast = kCmdReadonly | kCmdFast;
  const uint32_t kWriteFast = kCmdWrite | kCmdFast;
  add("del", -2, kCmdWrite, kKeyspace, {1, -1, 1}, Del, "1.0.0", "Delete a key");
  add("unlink", -2, kWriteFast, kKeyspace, {1, -1, 1}, Del, "4.0.0",
      "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non "
      "blocking.");
  add("exists", -2, kReadFast, kKeyspace, {1, -1, 1}, Exists, "1.0.0",
      "Determine if a key exists");
  add("touch", -2, kReadFast, kKeyspace, {1, -1, 1}, Exists, "3.2.1",
      "Alters the last access time of a key(s). Returns the number of existing keys specified.");
  add("type", 2, kReadFast, kKeyspace, {1, 1, 1}, Type, "1.0.0",
      "Determine the type stored at key");
  add("expire", -3, kWriteFast, kKeyspace, {1, 1, 1}, Expire, "1.0.0",
      "Set a key's time to live in seconds");
  add("pexpire", -3, kWriteFast, kKeyspace, {1, 1, 1}, PExpire, "2.6.0",
      "Set a key's time to live in milliseconds");
  add("expireat", -3, kWriteFast, kKeyspace, {1, 1, 1}, ExpireAt, "1.2.0",
      "Set the expiration for a key as a UNIX timestamp");
  add("pexpireat", -3, kWriteFast, kKeyspace, {1, 1, 1}, PExpireAt, "2.6.0",
      "Set the expiration for a key as a UNIX timestamp specified in milliseconds");
  add("expiretime", 2, kReadFast, kKeyspace, {1, 1, 1}, ExpireTime, "7.0.0",
      "Get the expiration Unix timestamp for a key");
  add("pexpiretime", 2, kReadFast, kKeyspace, {1, 1, 1}, PExpireTime, "7.0.0",
      "Get the expiration Unix timestamp for a key in milliseconds");
  add("ttl", 2, kReadFast, kKeyspace, {1, 1, 1}, Ttl, "1.0.0", "Get the time to live for a key");
  add("pttl", 2, kReadFast, kKeyspace, {1, 1, 1}, PTtl, "2.6.0",
      "Get the time to live for a key in milliseconds");
  add("persist", 2, kWriteFast, kKeyspace, {1, 1, 1}, Persist, "2.2.0",
      "Remove the expiration from a key");
  add("rename", 3, kCmdWrite, kKeyspace, {1, 2, 1}, Rename, "1.0.0", "Rename a key");
  add("renamenx", 3, kWriteFast, kKeyspace, {1, 2, 1}, RenameNx, "1.0.0",
      "Rename a key, only if the new key does not exist");
  add("copy", -3, kCmdWrite | kCmdDenyOom, kKeyspace, {1, 2, 1}, Copy, "6.2.0", "Copy a key");
  add("move", 3, kWriteFast, kKeyspace, {1, 1, 1}, Move, "1.0.0",
      "Move a key to another database");
  RegisterKeyspaceWalkCommands(table);
  add("flushdb", -1, kCmdWrite | kCmdWholeShards, kDangerous, {}, FlushDb, "1.0.0",
      "Remove all keys from the current database");
  add("flushall", -1, kCmdWrite | kCmdWholeShards, kDangerous, {}, FlushAll, "1.0.0",
      "Remove all keys from all databases");
  add("dump", 2, kCmdReadonly, kKeyspace, {1, 1, 1}, Dump, "2.6.0",
      "Return a serialized version of the value stored at the specified key.");
  add("restore", -4, kCmdWrite | kCmdDenyOom, kDangerous, {1, 1, 1}, Restore, "2.6.0",
      "Create a key using the provided serialized value, previously obtained using DUMP.");

  CommandSpec object = MakeCommand("object", -2, 0, kKeyspace, {}, nullptr, "generic", "2.2.3",
                                   "A container for object introspection commands");
  auto sub = [&object](std::string_view name, std::string_view summary) {
    object.subcommands.push_back(MakeCommand(name, 3, kCmdReadonly, kKeyspace, {2, 2, 1}, ObjectOf,
                                             "generic", "2.2.3", summary));
  };
  sub("encoding", "Inspect the internal encoding of a Redis object");
  sub("freq", "Get the logarithmic access frequency counter of a Redis object");
  sub("idletime", "Get the time since a Redis object was last accessed");
  sub("refcount", "Get the number of references to the value of the key");
  object.subcommands.push_back(MakeCommand("help", 2, kCmdLoading | kCmdStale, kKeyspace, {},
                                           ObjectHelp, "generic", "6.2.0",
                                           "Show helpful text about the different subcommands"));
  table.Add(std::move(object));
}

}  // namespace tierkv::server
