// Hash commands (Redis 7.0's t_hash.c) on TypedStore's hashes, and the helpers the set family
// shares with them (SCAN cursors, random sampling).
//
// A hash is one metadata record (type, size) plus one subkey record per field, in field byte
// order (tiers/types.h). So HGET/HEXISTS/HSTRLEN are one point read, HSET/HDEL/HINCRBY* one
// engine write of their fields (TypedStore::ChangeMembers reads each field to count what it
// added), HLEN reads only the metadata, and HGETALL/HKEYS/HVALS one ordered scan.
// Costs that differ from Redis's dict:
//   - HRANDFIELD has no random access: it draws uniform positions and reads them in one scan up to
//     the last position drawn (O(size) reads worst case, memory O(count));
//   - HSCAN's cursor is the first 8 bytes of the next field to return, big-endian, as a number.
//     It orders like the fields, so resuming at the first field >= it never skips a field present
//     throughout; it may repeat fields sharing those 8 bytes (SCAN allows repeats), and a page
//     grows past COUNT until the cursor moves, so a scan always progresses.
// Rejected: an index cursor (the n-th field): a deletion before the position would shift fields
// under it and skip them; a cursor holding the whole field: Redis clients parse cursors as u64.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "core/assert.h"
#include "server/collections.h"
#include "server/command.h"
#include "server/config_syntax.h"
#include "server/server.h"

namespace tierkv::server {

using tiers::RedisType;

// --- shared with the set and sorted-set families (server/collections.h) ---
namespace collections {

// A uniform integer in [0, bound).
uint64_t RandomBelow(Env& env, uint64_t bound) {
  TK_ASSERT(bound > 0);
  return static_cast<uint64_t>((static_cast<unsigned __int128>(env.RandomU64()) * bound) >> 64);
}

// `count` distinct positions in [0, size), sorted (Floyd's algorithm: count draws).
std::vector<uint64_t> SampleDistinct(Env& env, uint64_t size, uint64_t count) {
  TK_ASSERT(count <= size);
  std::set<uint64_t> chosen;
  for (uint64_t j = size - count; j < size; j++) {
    const uint64_t pick = RandomBelow(env, j + 1);
    if (!chosen.insert(pick).second) chosen.insert(j);
  }
  TK_ASSERT(chosen.size() == count);
  return {chosen.begin(), chosen.end()};
}

// The entries at the sorted, distinct `positions` (in byte order) of a hash or set, in one scan
// that stops after the last position. Corruption when a position is past the end.
Result<Entries> ReadPositions(tiers::TypedStore& store, int db, std::string_view key,
                              RedisType type, const std::vector<uint64_t>& positions) {
  Entries out;
  out.reserve(positions.size());
  uint64_t position = 0;
  size_t next = 0;
  Status status = store.ScanMembers(db, key, type, "", [&](std::string_view member,
                                                           std::string_view value) {
    if (next < positions.size() && positions[next] == position) {
      out.emplace_back(member, value);
      next++;
    }
    position++;
    return next < positions.size();
  });
  if (!status.ok()) return Err(status);
  if (out.size() != positions.size()) {  // the stored data disagrees with itself
    return Err(StatusCode::kCorruption,
               "collection " + std::string(key) + " holds fewer elements than its size says");
  }
  return out;
}

// Every entry of a hash or set, in byte order (absent key: none).
Result<int64_t> ReplaceKey(
    Ctx& ctx, const std::string& destination, bool empty, int notify, std::string_view event,
    const std::function<Result<uint64_t>(tiers::TypedStore& store, int db)>& write) {
  const int db = ctx.db();
  Server& server = ctx.server();
  return ctx.On<int64_t>(ctx.OwnerOf(destination), [&, db](Shard& shard) -> Result<int64_t> {
    auto deleted = shard.store().Delete(db, destination);
    if (!deleted) return Err(deleted.error());
    if (empty) {
      if (*deleted) server.KeyChanged(db, destination, kNotifyGeneric, "del");
      return 0;
    }
    auto added = write(shard.store(), db);
    if (!added) return Err(added.error());
    server.KeyChanged(db, destination, notify, event);
    return static_cast<int64_t>(*added);
  });
}

Result<Entries> ReadAll(tiers::TypedStore& store, int db, std::string_view key, RedisType type) {
  Entries out;
  Status status = store.ScanMembers(db, key, type, "", [&](std::string_view member,
                                                           std::string_view value) {
    out.emplace_back(member, value);
    return true;
  });
  if (!status.ok()) return Err(status);
  return out;
}

bool ParseScanOptions(Ctx& ctx, size_t first, ScanOptions& options) {
  for (size_t i = first; i < ctx.argc(); i += 2) {
    if (i + 1 >= ctx.argc()) {
      ctx.SyntaxError();
      return false;
    }
    if (ctx.Is(i, "count")) {
      std::optional<int64_t> value = ctx.Int(i + 1);
      if (!value) return false;
      if (*value < 1) {
        ctx.SyntaxError();
        return false;
      }
      options.count = *value;
    } else if (ctx.Is(i, "match")) {
      options.pattern = ctx.arg(i + 1);
      if (*options.pattern == "*") options.pattern.reset();  // matches everything
    } else {
      ctx.SyntaxError();
      return false;
    }
  }
  return true;
}

uint64_t CursorOf(std::string_view member) {
  uint64_t cursor = 0;
  for (size_t i = 0; i < 8; i++) {
    cursor = (cursor << 8) | (i < member.size() ? static_cast<unsigned char>(member[i]) : 0u);
  }
  return cursor;
}

std::string CursorStart(uint64_t cursor) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; i--, cursor >>= 8) out[static_cast<size_t>(i)] = static_cast<char>(cursor);
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

// HSCAN/SSCAN key cursor [MATCH pattern] [COUNT count], as Redis's scanGenericCommand: a missing
// key answers an empty page before the options are parsed.
void ScanCommand(Ctx& ctx, RedisType type) {
  std::optional<uint64_t> cursor = ParseScanCursor(ctx.arg(2));
  if (!cursor) return ctx.reply().Error("ERR invalid cursor");
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), type);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) {
    ctx.reply().ArrayHeader(2);
    ctx.reply().Bulk("0");
    return ctx.reply().ArrayHeader(0);
  }
  ScanOptions options;
  if (!ParseScanOptions(ctx, 3, options)) return;
  const int64_t count = options.count;
  const std::optional<std::string>& pattern = options.pattern;
  Entries page;
  uint64_t next_cursor = 0;
  Status status = ctx.store().ScanMembers(
      ctx.db(), ctx.arg(1), type, CursorStart(*cursor),
      [&](std::string_view member, std::string_view value) {
        const uint64_t here = CursorOf(member);
        // Stop only where the cursor moves on: resuming there re-reads nothing of this page
        // but fields sharing its first 8 bytes, and cannot loop.
        if (page.size() >= static_cast<uint64_t>(count) && here != *cursor) {
          next_cursor = here;
          return false;
        }
        page.emplace_back(member, value);
        return true;
      });
  if (!ctx.Check(status)) return;
  if (pattern) {
    std::erase_if(page, [&](const auto& entry) { return !GlobMatch(*pattern, entry.first, false); });
  }
  const bool with_values = type == RedisType::kHash;
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk(std::to_string(next_cursor));
  ctx.reply().ArrayHeader(static_cast<int64_t>(page.size() * (with_values ? 2 : 1)));
  for (const auto& [member, value] : page) {
    ctx.reply().Bulk(member);
    if (with_values) ctx.reply().Bulk(value);
  }
}

// The count of SRANDMEMBER/HRANDFIELD (Redis's range -LONG_MAX..LONG_MAX).
std::optional<int64_t> RandomCount(Ctx& ctx, size_t i) {
  std::optional<int64_t> count = ctx.Int(i);
  if (count && *count == INT64_MIN) {
    ctx.reply().Error(
        "ERR value is out of range, must be between -9223372036854775807 and "
        "9223372036854775807");
    return std::nullopt;
  }
  return count;
}

namespace {

// A guard against one HRANDFIELD/SRANDMEMBER reply exhausting the node's memory (Redis would
// build it): 2^24 elements is far above any use of a random sample.
constexpr uint64_t kMaxRandomReplyElements = uint64_t{1} << 24;

// One field (and value): RESP3 nests each pair in an array.
void ReplyField(Ctx& ctx, const std::pair<std::string, std::string>& entry, bool with_values) {
  if (with_values && ctx.resp3()) ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk(entry.first);
  if (with_values) ctx.reply().Bulk(entry.second);
}

void ReplyFieldsHeader(Ctx& ctx, uint64_t count, bool with_values) {
  const auto n = static_cast<int64_t>(count);
  ctx.reply().ArrayHeader(with_values && !ctx.resp3() ? n * 2 : n);
}

}  // namespace

// HRANDFIELD key count [WITHVALUES] / SRANDMEMBER key count, count != 0, on an existing
// collection of `size` elements: `count` distinct ones, or -count with repeats in draw order.
void RandomSample(Ctx& ctx, RedisType type, uint64_t size, int64_t count, bool with_values) {
  Env& env = ctx.env();
  tiers::TypedStore& store = ctx.store();
  const bool repeats = count < 0;
  const uint64_t wanted = repeats ? static_cast<uint64_t>(-count) : static_cast<uint64_t>(count);
  if (!repeats && wanted >= size) {  // the whole collection
    auto all = ReadAll(store, ctx.db(), ctx.arg(1), type);
    if (!all) return ctx.Error(all.error());
    ReplyFieldsHeader(ctx, all->size(), with_values);
    for (const auto& entry : *all) ReplyField(ctx, entry, with_values);
    return;
  }
  if (wanted > kMaxRandomReplyElements) return ctx.reply().Error("ERR value is out of range");
  // Draw the positions (with repeats or distinct), read each distinct one once.
  std::vector<uint64_t> draws =
      repeats ? std::vector<uint64_t>() : SampleDistinct(env, size, wanted);
  for (uint64_t i = 0; repeats && i < wanted; i++) draws.push_back(RandomBelow(env, size));
  std::vector<uint64_t> positions = draws;
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  auto entries = ReadPositions(store, ctx.db(), ctx.arg(1), type, positions);
  if (!entries) return ctx.Error(entries.error());
  ReplyFieldsHeader(ctx, draws.size(), with_values);
  for (uint64_t draw : draws) {
    const size_t at = static_cast<size_t>(
        std::lower_bound(positions.begin(), positions.end(), draw) - positions.begin());
    ReplyField(ctx, (*entries)[at], with_values);
  }
}

}  // namespace collections

namespace {

using collections::Entries;

// Redis's string2ld: strtold over the whole text, no leading space, no NaN, no overflow or
// underflow.
std::optional<long double> ParseLongDouble(std::string_view text) {
  constexpr size_t kMaxLongDoubleChars = 5 * 1024;  // Redis's MAX_LONG_DOUBLE_CHARS
  if (text.empty() || text.size() >= kMaxLongDoubleChars) return std::nullopt;
  if (std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const long double value = std::strtold(copy.c_str(), &end);
  if (*end != '\0' || std::isnan(value)) return std::nullopt;
  if (errno == ERANGE && (value == HUGE_VALL || value == -HUGE_VALL ||
                          std::fpclassify(value) == FP_ZERO)) {
    return std::nullopt;
  }
  return value;
}

// Redis's ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros (nor a trailing '.'), and "0"
// for "-0".
std::string FormatHumanLongDouble(long double value) {
  TK_ASSERT(std::isfinite(value));
  std::vector<char> buffer(5 * 1024);
  int length = std::snprintf(buffer.data(), buffer.size(), "%.17Lf", value);
  TK_ASSERT(length > 0 && static_cast<size_t>(length) < buffer.size());
  std::string out(buffer.data(), static_cast<size_t>(length));
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  if (out == "-0") out = "0";
  return out;
}

// Sets fields and reports the change; the reply is the caller's.
Result<tiers::TypedStore::MemberChanges> SetFields(
    Ctx& ctx, const std::vector<std::pair<std::string, std::optional<std::string>>>& changes,
    std::string_view event) {
  auto changed = ctx.store().ChangeMembers(ctx.db(), ctx.arg(1), RedisType::kHash, changes);
  if (changed && changed->added + changed->updated > 0) ctx.Changed(ctx.arg(1), kNotifyHash, event);
  return changed;
}

// HSET key field value [field value ...] / HMSET: the number of new fields / OK.
void HSetGeneric(Ctx& ctx, bool hmset) {
  if (ctx.argc() % 2 == 1) return ctx.WrongArity();
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;
  for (size_t i = 2; i + 1 < ctx.argc(); i += 2) changes.emplace_back(ctx.arg(i), ctx.arg(i + 1));
  auto changed = SetFields(ctx, changes, "hset");
  if (!changed) return ctx.Error(changed.error());
  if (hmset) return ctx.Ok();
  ctx.reply().Integer(static_cast<int64_t>(changed->added));
}

void HSet(Ctx& ctx) { HSetGeneric(ctx, false); }
void HMSet(Ctx& ctx) { HSetGeneric(ctx, true); }

void HSetNx(Ctx& ctx) {
  auto old = ctx.store().GetMember(ctx.db(), ctx.arg(1), RedisType::kHash, ctx.arg(2));
  if (!old) return ctx.Error(old.error());
  if (*old) return ctx.reply().Integer(0);
  auto changed = SetFields(ctx, {{ctx.arg(2), ctx.arg(3)}}, "hset");
  if (!changed) return ctx.Error(changed.error());
  ctx.reply().Integer(1);
}

void HGet(Ctx& ctx) {
  auto value = ctx.store().GetMember(ctx.db(), ctx.arg(1), RedisType::kHash, ctx.arg(2));
  if (!value) return ctx.Error(value.error());
  if (!*value) return ctx.reply().NullBulk();
  ctx.reply().Bulk(**value);
}

// HMGET: a missing key is an empty hash (nils), but a wrong type is an error.
void HMGet(Ctx& ctx) {
  std::vector<std::optional<std::string>> values;
  for (size_t i = 2; i < ctx.argc(); i++) {
    auto value = ctx.store().GetMember(ctx.db(), ctx.arg(1), RedisType::kHash, ctx.arg(i));
    if (!value) return ctx.Error(value.error());
    values.push_back(std::move(*value));
  }
  ctx.reply().ArrayHeader(static_cast<int64_t>(values.size()));
  for (const auto& value : values) value ? ctx.reply().Bulk(*value) : ctx.reply().NullBulk();
}

void HDel(Ctx& ctx) {
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kHash);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().Integer(0);
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;
  for (size_t i = 2; i < ctx.argc(); i++) changes.emplace_back(ctx.arg(i), std::nullopt);
  auto changed = ctx.store().ChangeMembers(ctx.db(), ctx.arg(1), RedisType::kHash, changes);
  if (!changed) return ctx.Error(changed.error());
  if (changed->removed > 0) {
    ctx.Changed(ctx.arg(1), kNotifyHash, "hdel");
    if (changed->removed == (*meta)->size) ctx.Changed(ctx.arg(1), kNotifyGeneric, "del");
  }
  ctx.reply().Integer(static_cast<int64_t>(changed->removed));
}

void HLen(Ctx& ctx) {
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kHash);
  if (!meta) return ctx.Error(meta.error());
  ctx.reply().Integer(*meta ? static_cast<int64_t>((*meta)->size) : 0);
}

void HStrLen(Ctx& ctx) {
  auto value = ctx.store().GetMember(ctx.db(), ctx.arg(1), RedisType::kHash, ctx.arg(2));
  if (!value) return ctx.Error(value.error());
  ctx.reply().Integer(*value ? static_cast<int64_t>((*value)->size()) : 0);
}

void HExists(Ctx& ctx) {
  auto value = ctx.store().GetMember(ctx.db(), ctx.arg(1), RedisType::kHash, ctx.arg(2));
  if (!value) return ctx.Error(value.error());
  ctx.reply().Integer(value->has_value() ? 1 : 0);
}

// HKEYS/HVALS (arrays) and HGETALL (a map).
void HGetAllGeneric(Ctx& ctx, bool keys, bool values) {
  auto entries = collections::ReadAll(ctx.store(), ctx.db(), ctx.arg(1), RedisType::kHash);
  if (!entries) return ctx.Error(entries.error());
  const auto size = static_cast<int64_t>(entries->size());
  keys && values ? ctx.reply().MapHeader(size) : ctx.reply().ArrayHeader(size);
  for (const auto& [field, value] : *entries) {
    if (keys) ctx.reply().Bulk(field);
    if (values) ctx.reply().Bulk(value);
  }
}

void HKeys(Ctx& ctx) { HGetAllGeneric(ctx, true, false); }
void HVals(Ctx& ctx) { HGetAllGeneric(ctx, false, true); }
void HGetAll(Ctx& ctx) { HGetAllGeneric(ctx, true, true); }

void HIncrBy(Ctx& ctx) {
  std::optional<int64_t> increment = ctx.Int(3);
  if (!increment) return;
  auto old = ctx.store().GetMember(ctx.db(), ctx.arg(1), RedisType::kHash, ctx.arg(2));
  if (!old) return ctx.Error(old.error());
  int64_t value = 0;
  if (*old && !ParseInt64(**old, value)) return ctx.reply().Error("ERR hash value is not an integer");
  int64_t result = 0;
  if (__builtin_add_overflow(value, *increment, &result)) {
    return ctx.reply().Error("ERR increment or decrement would overflow");
  }
  auto changed = SetFields(ctx, {{ctx.arg(2), std::to_string(result)}}, "hincrby");
  if (!changed) return ctx.Error(changed.error());
  ctx.reply().Integer(result);
}

void HIncrByFloat(Ctx& ctx) {
  std::optional<long double> increment = ParseLongDouble(ctx.arg(3));
  if (!increment) return ctx.reply().Error("ERR value is not a valid float");
  auto old = ctx.store().GetMember(ctx.db(), ctx.arg(1), RedisType::kHash, ctx.arg(2));
  if (!old) return ctx.Error(old.error());
  long double value = 0;
  if (*old) {
    std::optional<long double> parsed = ParseLongDouble(**old);
    if (!parsed) return ctx.reply().Error("ERR hash value is not a float");
    value = *parsed;
  }
  value += *increment;
  if (std::isnan(value) || std::isinf(value)) {
    return ctx.reply().Error("ERR increment would produce NaN or Infinity");
  }
  std::string text = FormatHumanLongDouble(value);
  auto changed = SetFields(ctx, {{ctx.arg(2), text}}, "hincrbyfloat");
  if (!changed) return ctx.Error(changed.error());
  ctx.reply().Bulk(text);
}

void HRandField(Ctx& ctx) {
  std::optional<int64_t> count;
  bool with_values = false;
  if (ctx.argc() >= 3) {
    count = collections::RandomCount(ctx, 2);
    if (!count) return;
    if (ctx.argc() > 4 || (ctx.argc() == 4 && !ctx.Is(3, "withvalues"))) return ctx.SyntaxError();
    with_values = ctx.argc() == 4;
    if (with_values && (*count < -INT64_MAX / 2 || *count > INT64_MAX / 2)) {
      return ctx.reply().Error("ERR value is out of range");
    }
  }
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kHash);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return count ? ctx.reply().ArrayHeader(0) : ctx.reply().NullBulk();
  if (count) {
    if (*count == 0) return ctx.reply().ArrayHeader(0);
    return collections::RandomSample(ctx, RedisType::kHash, (*meta)->size, *count, with_values);
  }
  const uint64_t position = collections::RandomBelow(ctx.env(), (*meta)->size);
  auto entries =
      collections::ReadPositions(ctx.store(), ctx.db(), ctx.arg(1), RedisType::kHash, {position});
  if (!entries) return ctx.Error(entries.error());
  ctx.reply().Bulk(entries->front().first);
}

void HScan(Ctx& ctx) { collections::ScanCommand(ctx, RedisType::kHash); }

}  // namespace

void RegisterHashCommands(CommandTable& table) {
  constexpr uint64_t kHash = kAclHash;
  constexpr uint32_t kWrite = kCmdWrite | kCmdDenyOom | kCmdFast;
  constexpr uint32_t kRead = kCmdReadonly | kCmdFast;
  const KeySpec key{1, 1, 1};
  auto add = [&](std::string_view name, int arity, uint32_t flags, Handler handler,
                 std::string_view since, std::string_view summary) {
    table.Add(MakeCommand(name, arity, flags, kHash, key, handler, "hash", since, summary));
  };
  add("hset", -4, kWrite, HSet, "2.0.0", "Set the string value of a hash field");
  add("hsetnx", 4, kWrite, HSetNx, "2.0.0",
      "Set the value of a hash field, only if the field does not exist");
  add("hmset", -4, kWrite, HMSet, "2.0.0", "Set multiple hash fields to multiple values");
  add("hget", 3, kRead, HGet, "2.0.0", "Get the value of a hash field");
  add("hmget", -3, kRead, HMGet, "2.0.0", "Get the values of all the given hash fields");
  add("hdel", -3, kCmdWrite | kCmdFast, HDel, "2.0.0", "Delete one or more hash fields");
  add("hlen", 2, kRead, HLen, "2.0.0", "Get the number of fields in a hash");
  add("hstrlen", 3, kRead, HStrLen, "3.2.0", "Get the length of the value of a hash field");
  add("hexists", 3, kRead, HExists, "2.0.0", "Determine if a hash field exists");
  add("hkeys", 2, kCmdReadonly, HKeys, "2.0.0", "Get all the fields in a hash");
  add("hvals", 2, kCmdReadonly, HVals, "2.0.0", "Get all the values in a hash");
  add("hgetall", 2, kCmdReadonly, HGetAll, "2.0.0", "Get all the fields and values in a hash");
  add("hincrby", 4, kWrite, HIncrBy, "2.0.0",
      "Increment the integer value of a hash field by the given number");
  add("hincrbyfloat", 4, kWrite, HIncrByFloat, "2.6.0",
      "Increment the float value of a hash field by the given amount");
  add("hrandfield", -2, kCmdReadonly, HRandField, "6.2.0",
      "Get one or multiple random fields from a hash");
  add("hscan", -3, kCmdReadonly, HScan, "2.8.0",
      "Incrementally iterate hash fields and associated values");
}

}  // namespace tierkv::server
