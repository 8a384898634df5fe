// What the string and bitmap families (cmd_strings.cc, cmd_bits.cc) share: a string key's
// metadata lookups, writing a string command's new value, Redis's size limit and index rules.
// Defined in cmd_strings.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/command.h"
#include "tiers/types.h"

namespace tierkv::server::strings {

using MaybeMeta = std::optional<tiers::Metadata>;

// Redis's proto-max-bulk-len default: the largest string a command may build.
inline constexpr int64_t kMaxStringBytes = 512ll * 1024 * 1024;
inline constexpr std::string_view kTooLongError =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

// Redis's checkStringLength: `size` + `append` bytes must fit proto-max-bulk-len; else the error
// is written and false returned.
bool CheckLength(Ctx& ctx, int64_t size, int64_t append);
// The metadata of the key at argument `arg` on the executor running the command (single-key
// commands), any type / a string (WRONGTYPE, as a failed Result, for another type).
Result<MaybeMeta> LookupAny(Ctx& ctx, size_t arg);
Result<MaybeMeta> LookupString(Ctx& ctx, size_t arg);
// Any key's metadata, read on its owner (commands whose keys may span shards).
Result<MaybeMeta> LookupOn(Ctx& ctx, const std::string& key);
// Writes a new value for a string command's key (argument 1), keeping `expire_ms`, and reports
// the change. False (error written) when the write failed.
bool WriteValue(Ctx& ctx, const std::string& value, int64_t expire_ms, std::string_view event);
// Redis's index rules for GETRANGE, BITCOUNT and BITPOS: negative indexes count from the end,
// then both are clamped to [0, length - 1]. False when the range is empty.
bool ClampRange(int64_t length, int64_t& start, int64_t& end);

}  // namespace tierkv::server::strings
