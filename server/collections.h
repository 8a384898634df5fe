// Building blocks shared by the collection families (hashes, sets, sorted sets), defined in
// cmd_hashes.cc: whole and positional reads, uniform random samples, and the HSCAN/SSCAN/ZSCAN
// cursor (a member's first 8 bytes, big-endian: resuming at the first member at or after it never
// skips one present throughout).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/command.h"
#include "tiers/types.h"

namespace tierkv::server::collections {

using Entries = std::vector<std::pair<std::string, std::string>>;

uint64_t RandomBelow(Env& env, uint64_t bound);
std::vector<uint64_t> SampleDistinct(Env& env, uint64_t size, uint64_t count);
Result<Entries> ReadPositions(tiers::TypedStore& store, int db, std::string_view key,
                              tiers::RedisType type, const std::vector<uint64_t>& positions);
Result<Entries> ReadAll(tiers::TypedStore& store, int db, std::string_view key,
                        tiers::RedisType type);
void ScanCommand(Ctx& ctx, tiers::RedisType type);
// The STORE of SINTERSTORE, ZUNIONSTORE & co.: on its owner, deletes `destination` (any type)
// and, unless the result is `empty`, writes it with `write` (returning the members added), with
// Redis's events (`event` of class `notify` when stored, "del" when an empty result deleted it).
// Returns the stored size.
Result<int64_t> ReplaceKey(
    Ctx& ctx, const std::string& destination, bool empty, int notify, std::string_view event,
    const std::function<Result<uint64_t>(tiers::TypedStore& store, int db)>& write);
std::optional<int64_t> RandomCount(Ctx& ctx, size_t i);
void RandomSample(Ctx& ctx, tiers::RedisType type, uint64_t size, int64_t count,
                  bool with_values);

// HSCAN/SSCAN/ZSCAN's options from argument `first` on: [MATCH pattern] [COUNT count] (count at
// least 1; a "*" pattern is no filter). Writes Redis's error and returns false when malformed.
struct ScanOptions {
  int64_t count = 10;
  std::optional<std::string> pattern;
};
bool ParseScanOptions(Ctx& ctx, size_t first, ScanOptions& options);

// The scan cursor of a member: its first 8 bytes (zero-padded), big-endian.
uint64_t CursorOf(std::string_view member);
// The smallest byte string whose cursor is `cursor` (its 8 bytes without trailing zeros): every
// member with that cursor or a larger one sorts at or after it.
std::string CursorStart(uint64_t cursor);

}  // namespace tierkv::server::collections
