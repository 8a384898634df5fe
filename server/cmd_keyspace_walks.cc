// The keyspace walks: KEYS SCAN RANDOMKEY DBSIZE (registered with the generic key commands of
// cmd_keys.cc).
//
// A db's keys are not contiguous in the engine (metadata records are 'M' | slot | db | key, see
// tiers/types.h), so the walks visit every shard in slot order and skip other databases' runs with
// a seek. SCAN's cursor is therefore a position in (slot, key) order, not a hash-table bucket:
//   cursor = 1 + (slot << 48 | the first 6 bytes of the next key, zero padded)
// and the next call resumes at the first key >= those bytes (trailing zero bytes dropped) in that
// slot: never past an unreturned key, so a full iteration returns every key present from its start
// to its end (a key may come twice when its neighbours share its 6-byte prefix). When the keys
// sharing one prefix outnumber COUNT, one reply returns them all so the cursor always advances.
// The shard is implied by the slot. 0 starts and ends an iteration, as in Redis; the +1 keeps a
// key of slot 0 starting with zero bytes from looking like the end.
#include <optional>
#include <string>
#include <vector>

#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

using tiers::Metadata;

// The slots [first, end) of shard `shard`.
uint32_t EndSlotOf(Ctx& ctx, int shard) {
  return shard + 1 < ctx.shard_count() ? FirstSlotOf(shard + 1, ctx.shard_count()) : kSlots;
}

void Keys(Ctx& ctx) {
  const std::string& pattern = ctx.arg(1);
  const bool all = pattern == "*";
  const int db = ctx.db();
  std::vector<std::string> keys;
  for (int i = 0; i < ctx.shard_count(); i++) {
    auto walked = ctx.On<bool>(i, [&](Shard& shard) -> Result<bool> {
      TK_RETURN_IF_ERROR_R(shard.store().ScanKeys(
          db, 0, "", kSlots, [&](uint16_t, std::string_view key, const Metadata&) {
            if (all || GlobMatch(pattern, key, false)) keys.emplace_back(key);
            return true;
          }));
      return true;
    });
    if (!walked) return ctx.Error(walked.error());
  }
  ctx.reply().ArrayHeader(static_cast<int64_t>(keys.size()));
  for (const std::string& key : keys) ctx.reply().Bulk(key);
}

constexpr size_t kCursorPrefix = 6;

struct ScanPosition {
  uint32_t slot = 0;
  std::string from;  // resume at the first key >= from in `slot`
  bool operator==(const ScanPosition&) const = default;
};

// The position a key's cursor resumes at: its first kCursorPrefix bytes without trailing zeros.
ScanPosition PositionOf(uint32_t slot, std::string_view key) {
  std::string from(key.substr(0, kCursorPrefix));
  while (!from.empty() && from.back() == '\0') from.pop_back();
  return {slot, std::move(from)};
}

uint64_t EncodeCursor(const ScanPosition& position) {
  uint64_t bits = uint64_t{position.slot} << 48;
  for (size_t i = 0; i < kCursorPrefix; i++) {
    const uint64_t byte = i < position.from.size() ? static_cast<uint8_t>(position.from[i]) : 0;
    bits |= byte << (8 * (kCursorPrefix - 1 - i));
  }
  return bits + 1;
}

// nullopt: past the last slot (an iteration's end, or a cursor tierkv never gave).
std::optional<ScanPosition> DecodeCursor(uint64_t cursor) {
  if (cursor == 0) return ScanPosition{};
  const uint64_t bits = cursor - 1;
  if ((bits >> 48) >= kSlots) return std::nullopt;
  std::string from;
  for (size_t i = 0; i < kCursorPrefix; i++) {
    from.push_back(static_cast<char>((bits >> (8 * (kCursorPrefix - 1 - i))) & 0xff));
  }
  return PositionOf(static_cast<uint32_t>(bits >> 48), from);
}

// SCAN's cursor argument (ParseScanCursor), or "ERR invalid cursor".
std::optional<uint64_t> ParseCursor(Ctx& ctx, size_t i) {
  std::optional<uint64_t> cursor = ParseScanCursor(ctx.arg(i));
  if (!cursor) ctx.reply().Error("ERR invalid cursor");
  return cursor;
}

struct ScanOptions {
  int64_t count = 10;
  std::optional<std::string> pattern;
  std::optional<std::string> type;
};

std::optional<ScanOptions> ParseScanOptions(Ctx& ctx) {
  ScanOptions options;
  for (size_t i = 2; i < ctx.argc(); i += 2) {
    if (i + 1 >= ctx.argc()) {
      ctx.SyntaxError();
      return std::nullopt;
    }
    if (ctx.Is(i, "count")) {
      auto count = ctx.Int(i + 1);
      if (!count) return std::nullopt;
      if (*count < 1) {
        ctx.SyntaxError();
        return std::nullopt;
      }
      options.count = *count;
    } else if (ctx.Is(i, "match")) {
      options.pattern = ctx.arg(i + 1);
      if (*options.pattern == "*") options.pattern.reset();  // no filtering
    } else if (ctx.Is(i, "type")) {
      options.type = ctx.arg(i + 1);
    } else {
      ctx.SyntaxError();
      return std::nullopt;
    }
  }
  return options;
}

// One SCAN call: walks shards from the cursor's slot until COUNT keys were visited (filtered ones
// included, as Redis counts its work) and the next position differs from the starting one.
void Scan(Ctx& ctx) {
  auto cursor = ParseCursor(ctx, 1);
  if (!cursor) return;
  auto options = ParseScanOptions(ctx);
  if (!options) return;
  std::vector<std::string> keys;
  std::optional<ScanPosition> start = DecodeCursor(*cursor);
  std::optional<ScanPosition> next;
  if (start) {
    const int db = ctx.db();
    ScanPosition position = *start;
    int64_t visited = 0;
    for (int shard_index = ShardOfSlot(static_cast<uint16_t>(position.slot), ctx.shard_count());
         shard_index < ctx.shard_count() && !next; shard_index++) {
      const uint32_t end = EndSlotOf(ctx, shard_index);
      auto walked = ctx.On<bool>(shard_index, [&](Shard& shard) -> Result<bool> {
        TK_RETURN_IF_ERROR_R(shard.store().ScanKeys(
            db, position.slot, position.from, end,
            [&](uint16_t slot, std::string_view key, const Metadata& meta) {
              if (visited >= options->count) {
                ScanPosition here = PositionOf(slot, key);
                if (!(here == *start)) {
                  next = std::move(here);
                  return false;
                }
              }
              visited++;
              if (options->pattern && !GlobMatch(*options->pattern, key, false)) return true;
              if (options->type &&
                  !EqualsIgnoreCase(*options->type, tiers::RedisTypeName(meta.type))) {
                return true;
              }
              keys.emplace_back(key);
              return true;
            }));
        return true;
      });
      if (!walked) return ctx.Error(walked.error());
      position = ScanPosition{end, ""};
    }
  }
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk(std::to_string(next ? EncodeCursor(*next) : 0));
  ctx.reply().ArrayHeader(static_cast<int64_t>(keys.size()));
  for (const std::string& key : keys) ctx.reply().Bulk(key);
}

// The first live key of `db` on shard `index` at or after (slot, from).
Result<std::optional<std::string>> FirstKeyOn(Ctx& ctx, int index, uint32_t slot,
                                              const std::string& from) {
  const int db = ctx.db();
  const uint32_t end = EndSlotOf(ctx, index);
  return ctx.On<std::optional<std::string>>(
      index, [&](Shard& shard) -> Result<std::optional<std::string>> {
        std::optional<std::string> found;
        TK_RETURN_IF_ERROR_R(shard.store().ScanKeys(
            db, slot, from, end, [&](uint16_t, std::string_view key, const Metadata&) {
              found = std::string(key);
              return false;
            }));
        return found;
      });
}

// RANDOMKEY: the first key at or after a random (slot, 1-byte prefix) position, wrapping around
// the shards. Not uniform (a key after a long gap is likelier), unlike Redis's bucket sampling.
void RandomKey(Ctx& ctx) {
  const uint64_t random = ctx.env().RandomU64();
  const auto slot = static_cast<uint32_t>(random % kSlots);
  const std::string from(1, static_cast<char>((random >> 16) & 0xff));
  const int first = ShardOfSlot(static_cast<uint16_t>(slot), ctx.shard_count());
  auto found = FirstKeyOn(ctx, first, slot, from);
  for (int step = 1; found && !*found && step <= ctx.shard_count(); step++) {
    const int index = (first + step) % ctx.shard_count();
    found = FirstKeyOn(ctx, index, FirstSlotOf(index, ctx.shard_count()), "");
  }
  if (!found) return ctx.Error(found.error());
  if (!*found) return ctx.reply().NullBulk();
  ctx.reply().Bulk(**found);
}

void DbSize(Ctx& ctx) {
  const int db = ctx.db();
  int64_t total = 0;
  for (int i = 0; i < ctx.shard_count(); i++) {
    auto count = ctx.On<int64_t>(i, [&](Shard& shard) -> Result<int64_t> {
      int64_t keys = 0;
      TK_RETURN_IF_ERROR_R(shard.store().ScanKeys(db, 0, "", kSlots,
                                                  [&](uint16_t, std::string_view, const Metadata&) {
                                                    keys++;
                                                    return true;
                                                  }));
      return keys;
    });
    if (!count) return ctx.Error(count.error());
    total += *count;
  }
  ctx.reply().Integer(total);
}

}  // namespace

void RegisterKeyspaceWalkCommands(CommandTable& table) {
  constexpr uint64_t kKeyspace = kAclKeyspace;
  constexpr uint64_t kDangerous = kAclKeyspace | kAclDangerous;
  auto add = [&table](std::string_view name, int arity, uint32_t flags, uint64_t categories,
                      Handler handler, std::string_view since, std::string_view summary) {
    table.Add(MakeCommand(name, arity, flags, categories, {}, handler, "generic", since, summary));
  };
  add("keys", 2, kCmdReadonly, kDangerous, Keys, "1.0.0", "Find all keys matching the given pattern");
  add("scan", -2, kCmdReadonly, kKeyspace, Scan, "2.8.0", "Incrementally iterate the keys space");
  add("randomkey", 1, kCmdReadonly, kKeyspace, RandomKey, "1.0.0",
      "Return a random key from the keyspace");
  add("dbsize", 1, kCmdReadonly | kCmdFast, kKeyspace, DbSize, "1.0.0",
      "Return the number of keys in the selected database");
}

}  // namespace tierkv::server
