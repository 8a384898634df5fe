// What the sorted-set command files share: cmd_sorted_sets.cc defines these and registers every
// sorted-set command; cmd_zset_ops.cc holds those that read members in bulk (ZRANDMEMBER, ZSCAN,
// the set operations over several keys).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/command.h"
#include "server/shards.h"
#include "tiers/types.h"

namespace tierkv::server::zsets {

using Scored = std::vector<std::pair<std::string, double>>;

// Members, with their scores when `with_scores`: RESP2 flattens pairs, RESP3 nests them (Redis
// 7.0's zrangeResultEmitWithScores).
void ReplyScored(Ctx& ctx, const Scored& items, bool with_scores);
// Replaces `destination` (any type) by the sorted set `items` on its owner, with Redis's events
// (`event` when stored, "del" when an empty result deleted it). Returns the stored size.
Result<int64_t> StoreScored(Ctx& ctx, const std::string& destination, const Scored& items,
                            std::string_view event);

// Runs fn on the owner of `key` with its store.
template <typename T>
Result<T> OnKey(Ctx& ctx, const std::string& key,
                const std::function<Result<T>(tiers::TypedStore&)>& fn) {
  return ctx.On<T>(ctx.OwnerOf(key), [&](Shard& shard) -> Result<T> { return fn(shard.store()); });
}

// Registers ZRANDMEMBER, ZSCAN, ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD
// (cmd_zset_ops.cc).
void RegisterBulkReadCommands(CommandTable& table);

}  // namespace tierkv::server::zsets
