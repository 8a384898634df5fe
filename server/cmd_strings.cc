// String commands (Redis 7.0's t_string.c); the bitmap commands are in cmd_bits.cc.
//
// A string is one metadata record in the typed store (tiers/types.h): its value travels with its
// type and expiry, so every command here is one engine read and at most one write. There is no
// in-place edit: APPEND, SETRANGE, INCR, SETBIT and BITFIELD read the value, change it in memory
// and write it back whole (keeping the key's expiry), all under the key's lock, so they are
// O(size of the value) per call where Redis is O(change). The alternative, a chunked encoding
// (value split over subkeys), would make SETRANGE/SETBIT O(chunk) but every GET a range scan; the
// common case (small values, whole reads) wins.
// Multi-key commands (MGET, MSET, MSETNX, BITOP, LCS) reach each key's owner with Ctx::On; MGET,
// MSET and MSETNX batch the keys of one shard into one message. MSETNX checks every key before
// setting any, which is all-or-nothing because the dispatcher holds every key's lock meanwhile.
// One deviation Redis cannot have: when a shard's write fails (I/O) in the middle of MSET, the
// shards written before keep their keys and the client gets the error.
// Replies and error texts are Redis's, byte for byte, including its argument-check order (which
// decides which error a command with several bad arguments answers).
#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/cmd_strings.h"
#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {

namespace strings {
// Redis's MAX_LONG_DOUBLE_CHARS: the longest text INCRBYFLOAT parses or writes.
constexpr size_t kMaxLongDoubleChars = 5 * 1024;

// The status of a store call whose value the caller does not need.
template <typename T>
Status StatusOf(const Result<T>& result) {
  return result ? Status::Ok() : result.error();
}

int64_t NowMs(Ctx& ctx) { return ctx.env().clock().UnixMicros() / 1000; }

// Redis's checkStringLength: `size` + `append` bytes must fit proto-max-bulk-len.
bool CheckLength(Ctx& ctx, int64_t size, int64_t append) {
  TK_ASSERT(size >= 0 && append >= 0);
  if (size > kMaxStringBytes - append) {
    ctx.reply().Error(kTooLongError);
    return false;
  }
  return true;
}

// The key's metadata on the executor running the command (single-key commands), any type.
Result<MaybeMeta> LookupAny(Ctx& ctx, size_t arg) {
  return ctx.store().Lookup(ctx.db(), ctx.arg(arg));
}
// The same for a string key: WRONGTYPE (as a failed Result) for another type.
Result<MaybeMeta> LookupString(Ctx& ctx, size_t arg) {
  return ctx.store().Lookup(ctx.db(), ctx.arg(arg), tiers::RedisType::kString);
}
// Any key's metadata, read on its owner (commands whose keys may span shards).
Result<MaybeMeta> LookupOn(Ctx& ctx, const std::string& key) {
  const int db = ctx.db();
  return ctx.On<MaybeMeta>(ctx.OwnerOf(key), [&key, db](Shard& shard) -> Result<MaybeMeta> {
    return shard.store().Lookup(db, key);
  });
}

// Writes a new value for a string command's key (argument 1), keeping `expire_ms`, and reports
// the change. False (error written) when the write failed.
bool WriteValue(Ctx& ctx, const std::string& value, int64_t expire_ms, std::string_view event) {
  if (!ctx.Check(ctx.store().Set(ctx.db(), ctx.arg(1), value, expire_ms))) return false;
  ctx.Changed(ctx.arg(1), kNotifyString, event);
  return true;
}

// Redis's index rules for GETRANGE, BITCOUNT and BITPOS: negative indexes count from the end,
// then both are clamped to [0, length - 1]. False when the range is empty.
bool ClampRange(int64_t length, int64_t& start, int64_t& end) {
  if (start < 0) start = length + start;
  if (end < 0) end = length + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= length) end = length - 1;
  return start <= end && length > 0;
}

}  // namespace strings

namespace {

using namespace strings;  // NOLINT: this file's own helpers, shared with cmd_bits.cc
using tiers::Metadata;
using tiers::RedisType;

// The positions of the arguments from `first` every `step` (the keys), grouped by owning shard,
// each group in argument order.
std::map<int, std::vector<size_t>> ByOwner(Ctx& ctx, size_t first, size_t step) {
  std::map<int, std::vector<size_t>> groups;
  for (size_t i = first; i < ctx.argc(); i += step) groups[ctx.OwnerOf(ctx.arg(i))].push_back(i);
  return groups;
}

// ---------------------------------------------------------------------------------------------
// SET and its relatives
// ---------------------------------------------------------------------------------------------

enum SetFlag : uint32_t {
  kSetNx = 1 << 0,
  kSetXx = 1 << 1,
  kEx = 1 << 2,
  kPx = 1 << 3,
  kKeepTtl = 1 << 4,
  kSetGet = 1 << 5,
  kExAt = 1 << 6,
  kPxAt = 1 << 7,
  kPersist = 1 << 8,
};
constexpr uint32_t kAnyExpire = kEx | kPx | kExAt | kPxAt;

struct StringOptions {
  uint32_t flags = 0;
  size_t expire_arg = 0;  // 0: none
};

// Redis's parseExtendedStringArgumentsOrReply: SET's options (from argument 3) or GETEX's (from
// 2). A repeated option is accepted (the last value wins); conflicting ones are a syntax error.
std::optional<StringOptions> ParseStringOptions(Ctx& ctx, bool for_set) {
  StringOptions options;
  uint32_t& flags = options.flags;
  for (size_t j = for_set ? 3 : 2; j < ctx.argc(); j++) {
    const bool has_next = j + 1 < ctx.argc();
    auto expire_option = [&](uint32_t flag) {
      // Each expiry option excludes KEEPTTL, PERSIST and the other three (not itself).
      if (!has_next || (flags & (kKeepTtl | kPersist | (kAnyExpire & ~flag)))) return false;
      flags |= flag;
      options.expire_arg = ++j;
      return true;
    };
    bool ok = false;
    if (ctx.Is(j, "nx") && for_set && !(flags & kSetXx)) {
      flags |= kSetNx, ok = true;
    } else if (ctx.Is(j, "xx") && for_set && !(flags & kSetNx)) {
      flags |= kSetXx, ok = true;
    } else if (ctx.Is(j, "get") && for_set) {
      flags |= kSetGet, ok = true;
    } else if (ctx.Is(j, "keepttl") && for_set && !(flags & (kPersist | kAnyExpire))) {
      flags |= kKeepTtl, ok = true;
    } else if (ctx.Is(j, "persist") && !for_set && !(flags & (kKeepTtl | kAnyExpire))) {
      flags |= kPersist, ok = true;
    } else if (ctx.Is(j, "ex")) {
      ok = expire_option(kEx);
    } else if (ctx.Is(j, "px")) {
      ok = expire_option(kPx);
    } else if (ctx.Is(j, "exat")) {
      ok = expire_option(kExAt);
    } else if (ctx.Is(j, "pxat")) {
      ok = expire_option(kPxAt);
    }
    if (!ok) {
      ctx.SyntaxError();
      return std::nullopt;
    }
  }
  return options;
}

// Redis's getExpireMillisecondsOrReply: the absolute expiry in Unix ms of the expiry argument
// (seconds for EX/EXAT, relative for EX/PX), or nullopt with the error written.
std::optional<int64_t> ExpireAt(Ctx& ctx, size_t arg, uint32_t flags) {
  std::optional<int64_t> value = ctx.Int(arg);
  if (!value) return std::nullopt;
  const bool seconds = (flags & (kEx | kExAt)) != 0;
  const std::string error =
      "ERR invalid expire time in '" + std::string(ctx.spec().name) + "' command";
  if (*value <= 0 || (seconds && *value > INT64_MAX / 1000)) {
    ctx.reply().Error(error);
    return std::nullopt;
  }
  int64_t ms = seconds ? *value * 1000 : *value;
  if (flags & (kEx | kPx)) {
    // Redis adds the current time and calls a wrap to a non-positive value an overflow.
    ms = static_cast<int64_t>(static_cast<uint64_t>(ms) + static_cast<uint64_t>(NowMs(ctx)));
    if (ms <= 0) {
      ctx.reply().Error(error);
      return std::nullopt;
    }
  }
  return ms;
}

// Redis's setGenericCommand for SET, SETNX, SETEX and PSETEX: `value_arg` holds the value,
// `options` the flags and expiry argument; `ok_reply`/`abort_reply` are SETNX's :1 and :0
// (nullopt: OK and nil).
void SetGeneric(Ctx& ctx, size_t value_arg, const StringOptions& options,
                std::optional<int64_t> ok_reply, std::optional<int64_t> abort_reply) {
  const uint32_t flags = options.flags;
  std::optional<int64_t> expire_ms;
  if (options.expire_arg != 0) {
    expire_ms = ExpireAt(ctx, options.expire_arg, flags);
    if (!expire_ms) return;
  }
  // Only NX, XX, GET and KEEPTTL need the old key: a plain SET skips that engine read.
  MaybeMeta old;
  if (flags & (kSetNx | kSetXx | kSetGet | kKeepTtl)) {
    auto meta = LookupAny(ctx, 1);
    if (!meta) return ctx.Error(meta.error());
    old = std::move(*meta);
  }
  const bool found = old.has_value();
  if ((flags & kSetGet) && found && old->type != RedisType::kString) {
    return ctx.Error(tiers::WrongType());
  }
  auto reply_old = [&] {
    if (found) return ctx.reply().Bulk(old->value);
    ctx.reply().NullBulk();
  };
  if (((flags & kSetNx) && found) || ((flags & kSetXx) && !found)) {
    if (flags & kSetGet) return reply_old();
    if (abort_reply) return ctx.reply().Integer(*abort_reply);
    return ctx.reply().NullBulk();
  }
  int64_t new_expire_ms = 0;
  if ((flags & kKeepTtl) && found) new_expire_ms = old->expire_ms;
  if (expire_ms) new_expire_ms = *expire_ms;
  if (expire_ms && *expire_ms <= NowMs(ctx)) {
    // Already expired (EXAT/PXAT in the past): Redis keeps an expired key that no read sees;
    // removing it at once is the same to every client and leaves nothing for expiry to reclaim.
    if (!ctx.Check(StatusOf(ctx.store().Delete(ctx.db(), ctx.arg(1))))) return;
  } else if (!ctx.Check(ctx.store().Set(ctx.db(), ctx.arg(1), ctx.arg(value_arg), new_expire_ms))) {
    return;
  }
  ctx.Changed(ctx.arg(1), kNotifyString, "set");
  if (expire_ms) ctx.Changed(ctx.arg(1), kNotifyGeneric, "expire");
  if (flags & kSetGet) return reply_old();
  if (ok_reply) return ctx.reply().Integer(*ok_reply);
  ctx.Ok();
}

void Set(Ctx& ctx) {
  auto options = ParseStringOptions(ctx, /*for_set=*/true);
  if (!options) return;
  SetGeneric(ctx, 2, *options, std::nullopt, std::nullopt);
}

void SetNx(Ctx& ctx) { SetGeneric(ctx, 2, {.flags = kSetNx}, 1, 0); }
void SetEx(Ctx& ctx) {
  SetGeneric(ctx, 3, {.flags = kEx, .expire_arg = 2}, std::nullopt, std::nullopt);
}
void PSetEx(Ctx& ctx) {
  SetGeneric(ctx, 3, {.flags = kPx, .expire_arg = 2}, std::nullopt, std::nullopt);
}

void Get(Ctx& ctx) {
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().NullBulk();
  ctx.reply().Bulk((*meta)->value);
}

// GETEX: Redis answers nil for a missing key before it validates the expiry argument.
void GetEx(Ctx& ctx) {
  auto options = ParseStringOptions(ctx, /*for_set=*/false);
  if (!options) return;
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().NullBulk();
  const uint32_t flags = options->flags;
  std::optional<int64_t> expire_ms;
  if (options->expire_arg != 0) {
    expire_ms = ExpireAt(ctx, options->expire_arg, flags);
    if (!expire_ms) return;
  }
  const std::string& key = ctx.arg(1);
  TK_ASSERT(expire_ms.has_value() == ((flags & kAnyExpire) != 0));
  if ((flags & (kExAt | kPxAt)) && *expire_ms <= NowMs(ctx)) {
    if (!ctx.Check(StatusOf(ctx.store().Delete(ctx.db(), key)))) return;
    ctx.Changed(key, kNotifyGeneric, "del");
  } else if (expire_ms) {
    if (!ctx.Check(StatusOf(ctx.store().Expire(ctx.db(), key, *expire_ms)))) return;
    ctx.Changed(key, kNotifyGeneric, "expire");
  } else if ((flags & kPersist) && (*meta)->expire_ms != 0) {
    if (!ctx.Check(StatusOf(ctx.store().Expire(ctx.db(), key, 0)))) return;
    ctx.Changed(key, kNotifyGeneric, "persist");
  }
  ctx.reply().Bulk((*meta)->value);
}

void GetDel(Ctx& ctx) {
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().NullBulk();
  if (!ctx.Check(StatusOf(ctx.store().Delete(ctx.db(), ctx.arg(1))))) return;
  ctx.Changed(ctx.arg(1), kNotifyGeneric, "del");
  ctx.reply().Bulk((*meta)->value);
}

// GETSET: like SET (the expiry is cleared) but answers the old value.
void GetSet(Ctx& ctx) {
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  if (!WriteValue(ctx, ctx.arg(2), 0, "set")) return;
  if (!*meta) return ctx.reply().NullBulk();
  ctx.reply().Bulk((*meta)->value);
}

// ---------------------------------------------------------------------------------------------
// MGET, MSET, MSETNX: one message per shard
// ---------------------------------------------------------------------------------------------

void MGet(Ctx& ctx) {
  std::vector<std::optional<std::string>> values(ctx.argc());
  const int db = ctx.db();
  for (auto& [owner, positions] : ByOwner(ctx, 1, 1)) {
    auto done = ctx.On<bool>(owner, [&, db](Shard& shard) -> Result<bool> {
      for (size_t i : positions) {
        auto meta = shard.store().Lookup(db, ctx.arg(i));
        if (!meta) return Err(meta.error());
        // A key of another type reads as nil, as in Redis.
        if (*meta && (*meta)->type == RedisType::kString) values[i] = std::move((*meta)->value);
      }
      return true;
    });
    if (!done) return ctx.Error(done.error());
  }
  ctx.reply().ArrayHeader(static_cast<int64_t>(ctx.argc() - 1));
  for (size_t i = 1; i < ctx.argc(); i++) {
    if (values[i]) {
      ctx.reply().Bulk(*values[i]);
    } else {
      ctx.reply().NullBulk();
    }
  }
}

// Sets every key/value pair (expiry cleared), shard by shard. False (error written) on failure.
bool SetPairs(Ctx& ctx) {
  const int db = ctx.db();
  Server& server = ctx.server();
  for (auto& [owner, positions] : ByOwner(ctx, 1, 2)) {
    auto done = ctx.On<bool>(owner, [&, db](Shard& shard) -> Result<bool> {
      for (size_t i : positions) {
        TK_RETURN_IF_ERROR_R(shard.store().Set(db, ctx.arg(i), ctx.arg(i + 1)));
        server.KeyChanged(db, ctx.arg(i), kNotifyString, "set");
      }
      return true;
    });
    if (!done) {
      ctx.Error(done.error());
      return false;
    }
  }
  return true;
}

void MSet(Ctx& ctx) {
  if (ctx.argc() % 2 == 0) return ctx.WrongArity();
  if (SetPairs(ctx)) ctx.Ok();
}

void MSetNx(Ctx& ctx) {
  if (ctx.argc() % 2 == 0) return ctx.WrongArity();
  const int db = ctx.db();
  for (auto& [owner, positions] : ByOwner(ctx, 1, 2)) {
    auto exists = ctx.On<bool>(owner, [&, db](Shard& shard) -> Result<bool> {
      for (size_t i : positions) {
        auto type = shard.store().Type(db, ctx.arg(i));
        if (!type) return Err(type.error());
        if (*type != RedisType::kNone) return true;
      }
      return false;
    });
    if (!exists) return ctx.Error(exists.error());
    if (*exists) return ctx.reply().Integer(0);
  }
  if (SetPairs(ctx)) ctx.reply().Integer(1);
}

// ---------------------------------------------------------------------------------------------
// APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE
// ---------------------------------------------------------------------------------------------

void Append(Ctx& ctx) {
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  std::string value;
  int64_t expire_ms = 0;
  if (*meta) {
    value = std::move((*meta)->value);
    expire_ms = (*meta)->expire_ms;
    if (!CheckLength(ctx, static_cast<int64_t>(value.size()),
                     static_cast<int64_t>(ctx.arg(2).size()))) {
      return;
    }
  }
  value += ctx.arg(2);
  if (!WriteValue(ctx, value, expire_ms, "append")) return;
  ctx.reply().Integer(static_cast<int64_t>(value.size()));
}

void StrLen(Ctx& ctx) {
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  ctx.reply().Integer(*meta ? static_cast<int64_t>((*meta)->value.size()) : 0);
}

void GetRange(Ctx& ctx) {
  auto start = ctx.Int(2);
  if (!start) return;
  auto end = ctx.Int(3);
  if (!end) return;
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().Bulk("");
  const std::string& value = (*meta)->value;
  if (*start < 0 && *end < 0 && *start > *end) return ctx.reply().Bulk("");
  if (!ClampRange(static_cast<int64_t>(value.size()), *start, *end)) return ctx.reply().Bulk("");
  ctx.reply().Bulk(std::string_view(value).substr(*start, *end - *start + 1));
}

void SetRange(Ctx& ctx) {
  auto offset = ctx.Int(2);
  if (!offset) return;
  if (*offset < 0) return ctx.reply().Error("ERR offset is out of range");
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  const std::string& patch = ctx.arg(3);
  // Setting nothing answers the current length without creating the key.
  if (patch.empty()) return ctx.reply().Integer(*meta ? (*meta)->value.size() : 0);
  if (!CheckLength(ctx, *offset, static_cast<int64_t>(patch.size()))) return;
  std::string value;
  int64_t expire_ms = 0;
  if (*meta) {
    value = std::move((*meta)->value);
    expire_ms = (*meta)->expire_ms;
  }
  const size_t needed = static_cast<size_t>(*offset) + patch.size();
  if (value.size() < needed) value.resize(needed, '\0');
  value.replace(static_cast<size_t>(*offset), patch.size(), patch);
  if (!WriteValue(ctx, value, expire_ms, "setrange")) return;
  ctx.reply().Integer(static_cast<int64_t>(value.size()));
}

// ---------------------------------------------------------------------------------------------
// INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT
// ---------------------------------------------------------------------------------------------

void IncrDecr(Ctx& ctx, int64_t increment) {
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  int64_t value = 0;
  if (*meta && !ParseInt64((*meta)->value, value)) {
    return ctx.reply().Error("ERR value is not an integer or out of range");
  }
  if ((increment < 0 && value < 0 && increment < INT64_MIN - value) ||
      (increment > 0 && value > 0 && increment > INT64_MAX - value)) {
    return ctx.reply().Error("ERR increment or decrement would overflow");
  }
  value += increment;
  if (!WriteValue(ctx, std::to_string(value), *meta ? (*meta)->expire_ms : 0, "incrby")) return;
  ctx.reply().Integer(value);
}

void Incr(Ctx& ctx) { IncrDecr(ctx, 1); }
void Decr(Ctx& ctx) { IncrDecr(ctx, -1); }
void IncrBy(Ctx& ctx) {
  if (auto increment = ctx.Int(2)) IncrDecr(ctx, *increment);
}
void DecrBy(Ctx& ctx) {
  auto decrement = ctx.Int(2);
  if (!decrement) return;
  if (*decrement == INT64_MIN) return ctx.reply().Error("ERR decrement would overflow");
  IncrDecr(ctx, -*decrement);
}

// Redis's string2ld: strtold over the whole text; no leading space, no NaN, no overflow or
// underflow.
bool ParseLongDouble(std::string_view text, long double& value) {
  if (text.empty() || text.size() >= kMaxLongDoubleChars) return false;
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const long double parsed = std::strtold(copy.c_str(), &end);
  if (std::isspace(static_cast<unsigned char>(copy[0])) || end != copy.c_str() + copy.size() ||
      (errno == ERANGE &&
       (parsed == HUGE_VALL || parsed == -HUGE_VALL || std::fpclassify(parsed) == FP_ZERO)) ||
      errno == EINVAL || std::isnan(parsed)) {
    return false;
  }
  value = parsed;
  return true;
}

// Redis's ld2string in LD_STR_HUMAN mode: "%.17Lf" without trailing zeros (nor a trailing
// point), "-0" as "0". The value is finite (INCRBYFLOAT refuses the others).
std::string FormatLongDouble(long double value) {
  TK_ASSERT(std::isfinite(value));
  char buffer[kMaxLongDoubleChars];
  int length = std::snprintf(buffer, sizeof(buffer), "%.17Lf", value);
  TK_ASSERT(length > 0 && static_cast<size_t>(length) < sizeof(buffer));
  std::string text(buffer, static_cast<size_t>(length));
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  if (text == "-0") text = "0";
  return text;
}

void IncrByFloat(Ctx& ctx) {
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  long double value = 0;
  long double increment = 0;
  if ((*meta && !ParseLongDouble((*meta)->value, value)) ||
      !ParseLongDouble(ctx.arg(2), increment)) {
    return ctx.reply().Error("ERR value is not a valid float");
  }
  value += increment;
  if (std::isnan(value) || std::isinf(value)) {
    return ctx.reply().Error("ERR increment would produce NaN or Infinity");
  }
  const std::string text = FormatLongDouble(value);
  if (!WriteValue(ctx, text, *meta ? (*meta)->expire_ms : 0, "incrbyfloat")) return;
  ctx.reply().Bulk(text);  // a bulk string in RESP3 too, as in Redis
}

// ---------------------------------------------------------------------------------------------
// LCS: the classic O(len(a) x len(b)) dynamic programme, as Redis computes it (the same ranges
// are reported, in the same order: from the ends of the strings backwards).
// ---------------------------------------------------------------------------------------------

struct LcsMatch {
  uint32_t a_start, a_end, b_start, b_end;
};

struct LcsOptions {
  bool len = false;
  bool idx = false;
  bool with_match_len = false;
  int64_t min_match_len = 0;
};

// LCS's options; nullopt with the error written.
std::optional<LcsOptions> ParseLcsOptions(Ctx& ctx) {
  LcsOptions options;
  for (size_t j = 3; j < ctx.argc(); j++) {
    if (ctx.Is(j, "idx")) {
      options.idx = true;
    } else if (ctx.Is(j, "len")) {
      options.len = true;
    } else if (ctx.Is(j, "withmatchlen")) {
      options.with_match_len = true;
    } else if (ctx.Is(j, "minmatchlen") && j + 1 < ctx.argc()) {
      auto min = ctx.Int(j + 1);
      if (!min) return std::nullopt;
      options.min_match_len = std::max<int64_t>(*min, 0);
      j++;
    } else {
      ctx.SyntaxError();
      return std::nullopt;
    }
  }
  if (options.len && options.idx) {
    ctx.reply().Error("ERR If you want both the length and indexes, please just use IDX.");
    return std::nullopt;
  }
  return options;
}

// Walks the table back from (alen, blen): the LCS string and the matching ranges.
void LcsWalk(const std::string& a, const std::string& b, const std::vector<uint32_t>& table,
             std::string& result, std::vector<LcsMatch>& matches) {
  const uint32_t alen = static_cast<uint32_t>(a.size());
  const uint32_t blen = static_cast<uint32_t>(b.size());
  auto at = [&](uint32_t i, uint32_t j) { return table[j + static_cast<size_t>(i) * (blen + 1)]; };
  uint32_t idx = at(alen, blen);
  result.assign(idx, '\0');
  LcsMatch current{alen, 0, 0, 0};  // a_start == alen: no range open
  uint32_t i = alen, j = blen;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      result[idx - 1] = a[i - 1];
      if (current.a_start == alen) {
        current = {i - 1, i - 1, j - 1, j - 1};
      } else if (current.a_start == i && current.b_start == j) {
        current.a_start--, current.b_start--;  // the range extends backwards
      } else {
        emit = true;
      }
      if (current.a_start == 0 || current.b_start == 0) emit = true;
      idx--, i--, j--;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        i--;
      } else {
        j--;
      }
      if (current.a_start != alen) emit = true;
    }
    if (emit) {
      matches.push_back(current);
      current.a_start = alen;
    }
  }
  TK_ASSERT(idx == 0);  // the walk found every character of the LCS
}

void Lcs(Ctx& ctx) {
  auto a_meta = LookupOn(ctx, ctx.arg(1));
  if (!a_meta) return ctx.Error(a_meta.error());
  auto b_meta = LookupOn(ctx, ctx.arg(2));
  if (!b_meta) return ctx.Error(b_meta.error());
  if ((*a_meta && (*a_meta)->type != RedisType::kString) ||
      (*b_meta && (*b_meta)->type != RedisType::kString)) {
    return ctx.reply().Error("ERR The specified keys must contain string values");
  }
  auto options = ParseLcsOptions(ctx);
  if (!options) return;
  const std::string a = *a_meta ? std::move((*a_meta)->value) : "";
  const std::string b = *b_meta ? std::move((*b_meta)->value) : "";
  if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) {
    return ctx.reply().Error("ERR String too long for LCS");
  }
  const uint64_t cells = (a.size() + 1) * (b.size() + 1);
  if (cells * sizeof(uint32_t) > static_cast<uint64_t>(kMaxStringBytes)) {
    return ctx.reply().Error(
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  }
  const size_t blen = b.size();
  std::vector<uint32_t> table(cells, 0);
  for (size_t i = 1; i <= a.size(); i++) {
    for (size_t j = 1; j <= blen; j++) {
      uint32_t& cell = table[j + i * (blen + 1)];
      if (a[i - 1] == b[j - 1]) {
        cell = table[(j - 1) + (i - 1) * (blen + 1)] + 1;
      } else {
        cell = std::max(table[j + (i - 1) * (blen + 1)], table[(j - 1) + i * (blen + 1)]);
      }
    }
  }
  const int64_t length = table.back();
  if (options->len) return ctx.reply().Integer(length);
  std::string result;
  std::vector<LcsMatch> matches;
  LcsWalk(a, b, table, result, matches);
  if (!options->idx) return ctx.reply().Bulk(result);
  std::vector<LcsMatch> shown;
  for (const LcsMatch& m : matches) {
    if (static_cast<int64_t>(m.a_end - m.a_start + 1) >= options->min_match_len) shown.push_back(m);
  }
  net::ReplyWriter& reply = ctx.reply();
  reply.MapHeader(2);
  reply.Bulk("matches");
  reply.ArrayHeader(static_cast<int64_t>(shown.size()));
  for (const LcsMatch& m : shown) {
    reply.ArrayHeader(options->with_match_len ? 3 : 2);
    reply.ArrayHeader(2);
    reply.Integer(m.a_start);
    reply.Integer(m.a_end);
    reply.ArrayHeader(2);
    reply.Integer(m.b_start);
    reply.Integer(m.b_end);
    if (options->with_match_len) reply.Integer(m.a_end - m.a_start + 1);
  }
  reply.Bulk("len");
  reply.Integer(length);
}


}  // namespace

void RegisterStringCommands(CommandTable& table) {
  constexpr uint64_t kStr = kAclString;
  constexpr uint32_t kWrite = kCmdWrite | kCmdDenyOom;
  constexpr uint32_t kRead = kCmdReadonly;
  constexpr KeySpec kKey{1, 1, 1};
  const CommandRow rows[] = {
      {"get", 2, kRead | kCmdFast, kStr, kKey, Get, "1.0.0", "Get the value of a key"},
      {"set", -3, kWrite, kStr, kKey, Set, "1.0.0", "Set the string value of a key"},
      {"setnx", 3, kWrite | kCmdFast, kStr, kKey, SetNx, "1.0.0",
       "Set the value of a key, only if the key does not exist"},
      {"setex", 4, kWrite, kStr, kKey, SetEx, "2.0.0", "Set the value and expiration of a key"},
      {"psetex", 4, kWrite, kStr, kKey, PSetEx, "2.6.0",
       "Set the value and expiration in milliseconds of a key"},
      {"getex", -2, kCmdWrite | kCmdFast, kStr, kKey, GetEx, "6.2.0",
       "Get the value of a key and optionally set its expiration"},
      {"getdel", 2, kCmdWrite | kCmdFast, kStr, kKey, GetDel, "6.2.0",
       "Get the value of a key and delete the key"},
      {"getset", 3, kWrite | kCmdFast, kStr, kKey, GetSet, "1.0.0",
       "Set the string value of a key and return its old value"},
      {"mget",
       -2,
       kRead | kCmdFast,
       kStr,
       {1, -1, 1},
       MGet,
       "1.0.0",
       "Get the values of all the given keys"},
      {"mset", -3, kWrite, kStr, {1, -1, 2}, MSet, "1.0.1", "Set multiple keys to multiple values"},
      {"msetnx",
       -3,
       kWrite,
       kStr,
       {1, -1, 2},
       MSetNx,
       "1.0.1",
       "Set multiple keys to multiple values, only if none of the keys exist"},
      {"append", 3, kWrite | kCmdFast, kStr, kKey, Append, "2.0.0", "Append a value to a key"},
      {"strlen", 2, kRead | kCmdFast, kStr, kKey, StrLen, "2.2.0",
       "Get the length of the value stored in a key"},
      {"getrange", 4, kRead, kStr, kKey, GetRange, "2.4.0",
       "Get a substring of the string stored at a key"},
      {"substr", 4, kRead, kStr, kKey, GetRange, "1.0.0",
       "Get a substring of the string stored at a key"},
      {"setrange", 4, kWrite, kStr, kKey, SetRange, "2.2.0",
       "Overwrite part of a string at key starting at the specified offset"},
      {"incr", 2, kWrite | kCmdFast, kStr, kKey, Incr, "1.0.0",
       "Increment the integer value of a key by one"},
      {"decr", 2, kWrite | kCmdFast, kStr, kKey, Decr, "1.0.0",
       "Decrement the integer value of a key by one"},
      {"incrby", 3, kWrite | kCmdFast, kStr, kKey, IncrBy, "1.0.0",
       "Increment the integer value of a key by the given amount"},
      {"decrby", 3, kWrite | kCmdFast, kStr, kKey, DecrBy, "1.0.0",
       "Decrement the integer value of a key by the given number"},
      {"incrbyfloat", 3, kWrite | kCmdFast, kStr, kKey, IncrByFloat, "2.6.0",
       "Increment the float value of a key by the given amount"},
      {"lcs", -3, kRead, kStr, {1, 2, 1}, Lcs, "7.0.0", "Find longest common substring"},
  };
  AddCommands(table, rows, "string");
}

}  // namespace tierkv::server
