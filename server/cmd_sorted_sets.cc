// Sorted-set commands (Redis 7.0's t_zset.c) on TypedStore's sorted sets.
//
// A sorted set is one metadata record (type, size), one member subkey per member (member ->
// 8-byte score) and one score index record per member (order-preserving score | member), see
// tiers/types.h. So ZSCORE is one point read, ZADD/ZREM one engine write whatever the number of
// members (TypedStore::ZChange), ranges by score are one seek plus the members returned, in
// either direction (ScanZSet), ranges by lex walk the member subkeys, which are in byte order
// (ScanZSetMembers): the same order as the index when all scores are equal, which is the only
// case Redis defines lex ranges for.
// Costs that differ from Redis's skiplist: rank access (ZRANK, ZRANGE by index, ZREMRANGEBYRANK)
// walks the index from the nearer end, O(rank) instead of O(log n); ZCOUNT/ZLEXCOUNT walk the
// range; reverse lex ranges collect the forward range first.
// Multi-key commands (ZRANGESTORE, ZMPOP, the blocking pops, and the set operations of
// cmd_zset_ops.cc) may span shards: they run on the client's executor with every key locked and
// reach each key's owner with Ctx::On.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/assert.h"
#include "server/collections.h"
#include "server/command.h"
#include "server/server.h"
#include "server/zsets.h"

namespace tierkv::server {

using tiers::RedisType;
using zsets::Scored;
using ZChanges = std::vector<std::pair<std::string, std::optional<double>>>;

namespace zsets {

// Members, with their scores when `with_scores`: RESP2 flattens pairs, RESP3 nests them (Redis
// 7.0's zrangeResultEmitWithScores).
void ReplyScored(Ctx& ctx, const Scored& items, bool with_scores) {
  const auto n = static_cast<int64_t>(items.size());
  if (!with_scores) {
    ctx.reply().ArrayHeader(n);
    for (const auto& item : items) ctx.reply().Bulk(item.first);
    return;
  }
  ctx.reply().ArrayHeader(ctx.resp3() ? n : 2 * n);
  for (const auto& [member, score] : items) {
    if (ctx.resp3()) ctx.reply().ArrayHeader(2);
    ctx.reply().Bulk(member);
    ctx.reply().Double(score);
  }
}

// Replaces `destination` (any type) by the sorted set `items` on its owner, with Redis's events
// (`event` when stored, "del" when an empty result deleted it). Returns the stored size.
Result<int64_t> StoreScored(Ctx& ctx, const std::string& destination, const Scored& items,
                            std::string_view event) {
  return collections::ReplaceKey(
      ctx, destination, items.empty(), kNotifyZSet, event,
      [&](tiers::TypedStore& store, int db) -> Result<uint64_t> {
        ZChanges changes;
        for (const auto& [member, score] : items) changes.emplace_back(member, score);
        auto changed = store.ZChange(db, destination, changes);
        if (!changed) return Err(changed.error());
        return changed->added;
      });
}

}  // namespace zsets

namespace {

using zsets::OnKey;
using zsets::ReplyScored;
using zsets::StoreScored;

// --- replies ---

// Pairs nested in both protocols (ZMPOP, BZMPOP).
void ReplyPairs(Ctx& ctx, const Scored& items) {
  ctx.reply().ArrayHeader(static_cast<int64_t>(items.size()));
  for (const auto& [member, score] : items) {
    ctx.reply().ArrayHeader(2);
    ctx.reply().Bulk(member);
    ctx.reply().Double(score);
  }
}

// --- ranges ---

struct ScoreBound {
  double value = 0;
  bool exclusive = false;
};

// Redis's zslParseRange item: "(" for exclusive, then a float (inf accepted, NaN refused).
bool ParseScoreBound(std::string_view text, ScoreBound& out) {
  out.exclusive = text.starts_with('(');
  if (out.exclusive) text.remove_prefix(1);
  return ParseDouble(text, out.value);
}

struct LexBound {
  enum Kind { kMinusInf, kPlusInf, kValue } kind = kValue;
  std::string value;
  bool exclusive = false;
};

// Redis's zslParseLexRangeItem: "-", "+", "[value" or "(value".
bool ParseLexBound(std::string_view text, LexBound& out) {
  if (text == "-") {
    out.kind = LexBound::kMinusInf;
  } else if (text == "+") {
    out.kind = LexBound::kPlusInf;
  } else if (text.starts_with('[') || text.starts_with('(')) {
    out.kind = LexBound::kValue;
    out.exclusive = text[0] == '(';
    out.value = std::string(text.substr(1));
  } else {
    return false;
  }
  return true;
}

bool AboveMin(const LexBound& min, std::string_view member) {
  if (min.kind != LexBound::kValue) return min.kind == LexBound::kMinusInf;
  return min.exclusive ? member > min.value : member >= min.value;
}
bool BelowMax(const LexBound& max, std::string_view member) {
  if (max.kind != LexBound::kValue) return max.kind == LexBound::kPlusInf;
  return max.exclusive ? member < max.value : member <= max.value;
}
bool AboveMin(const ScoreBound& min, double score) {
  return min.exclusive ? score > min.value : score >= min.value;
}
bool BelowMax(const ScoreBound& max, double score) {
  return max.exclusive ? score < max.value : score <= max.value;
}

struct RangeSpec {
  enum Type { kRank, kScore, kLex } type = kRank;
  bool reverse = false;
  int64_t start = 0, stop = -1;  // kRank
  ScoreBound min_score, max_score;
  LexBound min_lex, max_lex;
  int64_t offset = 0;  // LIMIT (kScore, kLex); a negative offset selects nothing
  int64_t limit = -1;  // negative: no limit
};

// Redis's rank normalisation: the inclusive [first, last] of a set of `size`, or nullopt.
std::optional<std::pair<uint64_t, uint64_t>> RankRange(int64_t start, int64_t stop, uint64_t size) {
  const auto n = static_cast<int64_t>(size);
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (start < 0) start = 0;
  if (start > stop || start >= n) return std::nullopt;
  if (stop >= n) stop = n - 1;
  return std::pair<uint64_t, uint64_t>(start, stop);
}

// The members `range` selects in set `key` (absent: none), in its order. WRONGTYPE.
Result<Scored> ReadRange(tiers::TypedStore& store, int db, std::string_view key,
                         const RangeSpec& range) {
  Scored out;
  auto meta = store.Lookup(db, key, RedisType::kZSet);
  if (!meta) return Err(meta.error());
  if (!*meta) return out;
  if (range.type == RangeSpec::kRank) {
    auto ranks = RankRange(range.start, range.stop, (*meta)->size);
    if (!ranks) return out;
    uint64_t skip = ranks->first;
    const uint64_t count = ranks->second - ranks->first + 1;
    Status status = store.ScanZSet(db, key, range.reverse, std::nullopt,
                                   [&](std::string_view member, double score) {
                                     if (skip > 0) {
                                       skip--;
                                       return true;
                                     }
                                     out.emplace_back(member, score);
                                     return out.size() < count;
                                   });
    if (!status.ok()) return Err(status);
    return out;
  }
  if (range.offset < 0 || range.limit == 0) return out;
  uint64_t skip = static_cast<uint64_t>(range.offset);
  const uint64_t limit = range.limit < 0 ? UINT64_MAX : static_cast<uint64_t>(range.limit);
  // Takes a member in range order; false when the limit is reached.
  auto take = [&](std::string_view member, double score) {
    if (skip > 0) {
      skip--;
      return true;
    }
    out.emplace_back(member, score);
    return out.size() < limit;
  };
  Status status = Status::Ok();
  if (range.type == RangeSpec::kScore) {
    const ScoreBound& min = range.min_score;
    const ScoreBound& max = range.max_score;
    const ScoreBound& first = range.reverse ? max : min;
    status = store.ScanZSet(db, key, range.reverse, first.value,
                            [&](std::string_view member, double score) {
                              if (range.reverse ? !AboveMin(min, score) : !BelowMax(max, score)) {
                                return false;  // past the far end
                              }
                              if (!AboveMin(min, score) || !BelowMax(max, score)) return true;
                              return take(member, score);
                            });
  } else {
    const LexBound& min = range.min_lex;
    const LexBound& max = range.max_lex;
    Scored in_range;  // reverse: the whole range, taken backwards below
    std::string from = min.kind == LexBound::kValue ? min.value : "";
    if (min.kind != LexBound::kPlusInf && max.kind != LexBound::kMinusInf) {
      status = store.ScanZSetMembers(db, key, from, [&](std::string_view member, double score) {
        if (!BelowMax(max, member)) return false;
        if (!AboveMin(min, member)) return true;
        if (range.reverse) {
          in_range.emplace_back(member, score);
          return true;
        }
        return take(member, score);
      });
    }
    for (auto it = in_range.rbegin(); it != in_range.rend() && take(it->first, it->second); ++it) {
    }
  }
  if (!status.ok()) return Err(status);
  return out;
}

// Parses score bounds at args i, i+1 into `range` (min, max); writes the error.
bool ParseScoreRange(Ctx& ctx, size_t min_at, size_t max_at, RangeSpec& range) {
  if (!ParseScoreBound(ctx.arg(min_at), range.min_score) ||
      !ParseScoreBound(ctx.arg(max_at), range.max_score)) {
    ctx.reply().Error("ERR min or max is not a float");
    return false;
  }
  return true;
}

bool ParseLexRange(Ctx& ctx, size_t min_at, size_t max_at, RangeSpec& range) {
  if (!ParseLexBound(ctx.arg(min_at), range.min_lex) ||
      !ParseLexBound(ctx.arg(max_at), range.max_lex)) {
    ctx.reply().Error("ERR min or max not valid string range item");
    return false;
  }
  return true;
}

// ZRANGE and its older forms. `key_at`: the source key's argument; `store_to`: ZRANGESTORE's
// destination. `fixed`: the range type of ZRANGEBYSCORE & co. (they refuse BYSCORE/BYLEX/REV),
// nullopt for ZRANGE/ZRANGESTORE.
void RangeCommand(Ctx& ctx, size_t key_at, std::optional<std::string> store_to,
                  std::optional<RangeSpec::Type> fixed, bool reverse) {
  RangeSpec range;
  range.type = fixed.value_or(RangeSpec::kRank);
  range.reverse = reverse;
  bool with_scores = false;
  for (size_t i = key_at + 3; i < ctx.argc(); i++) {
    const size_t left = ctx.argc() - i - 1;
    if (!store_to && ctx.Is(i, "withscores")) {
      with_scores = true;
    } else if (ctx.Is(i, "limit") && left >= 2) {
      auto offset = ctx.Int(i + 1);
      if (!offset) return;
      auto limit = ctx.Int(i + 2);
      if (!limit) return;
      range.offset = *offset;
      range.limit = *limit;
      i += 2;
    } else if (!fixed && ctx.Is(i, "byscore")) {
      range.type = RangeSpec::kScore;
    } else if (!fixed && ctx.Is(i, "bylex")) {
      range.type = RangeSpec::kLex;
    } else if (!fixed && ctx.Is(i, "rev")) {
      range.reverse = true;
    } else {
      return ctx.SyntaxError();
    }
  }
  if (with_scores && range.type == RangeSpec::kLex) {
    return ctx.reply().Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  if (range.limit != -1 && range.type == RangeSpec::kRank) {  // Redis lets "LIMIT x -1" pass
    return ctx.reply().Error(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  }
  size_t min_at = key_at + 1, max_at = key_at + 2;
  if (range.reverse && range.type != RangeSpec::kRank) std::swap(min_at, max_at);
  if (range.type == RangeSpec::kRank) {
    auto start = ctx.Int(min_at);
    if (!start) return;
    auto stop = ctx.Int(max_at);
    if (!stop) return;
    range.start = *start;
    range.stop = *stop;
  } else if (range.type == RangeSpec::kScore) {
    if (!ParseScoreRange(ctx, min_at, max_at, range)) return;
  } else if (!ParseLexRange(ctx, min_at, max_at, range)) {
    return;
  }
  const int db = ctx.db();
  const std::string& key = ctx.arg(key_at);
  auto items = OnKey<Scored>(ctx, key, [&](tiers::TypedStore& store) {
    return ReadRange(store, db, key, range);
  });
  if (!items) return ctx.Error(items.error());
  if (!store_to) return ReplyScored(ctx, *items, with_scores);
  auto stored = StoreScored(ctx, *store_to, *items, "zrangestore");
  if (!stored) return ctx.Error(stored.error());
  ctx.reply().Integer(*stored);
}

void ZRange(Ctx& ctx) { RangeCommand(ctx, 1, std::nullopt, std::nullopt, false); }
void ZRevRange(Ctx& ctx) { RangeCommand(ctx, 1, std::nullopt, RangeSpec::kRank, true); }
void ZRangeByScore(Ctx& ctx) { RangeCommand(ctx, 1, std::nullopt, RangeSpec::kScore, false); }
void ZRevRangeByScore(Ctx& ctx) { RangeCommand(ctx, 1, std::nullopt, RangeSpec::kScore, true); }
void ZRangeByLex(Ctx& ctx) { RangeCommand(ctx, 1, std::nullopt, RangeSpec::kLex, false); }
void ZRevRangeByLex(Ctx& ctx) { RangeCommand(ctx, 1, std::nullopt, RangeSpec::kLex, true); }
void ZRangeStore(Ctx& ctx) { RangeCommand(ctx, 2, ctx.arg(1), std::nullopt, false); }

// --- single-key commands ---

// Reports a removal of `removed` members from a set of `size`: the event, and "del" when it
// emptied the set (the store deleted it). Runs on the key's owner.
void ReportRemoved(Server& server, int db, std::string_view key, uint64_t removed, uint64_t size,
                   std::string_view event) {
  if (removed == 0) return;
  server.KeyChanged(db, key, kNotifyZSet, event);
  if (removed == size) server.KeyChanged(db, key, kNotifyGeneric, "del");
}

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...], and ZINCRBY (`incrby`).
void AddCommand(Ctx& ctx, bool incrby) {
  bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = incrby;
  size_t at = 2;
  for (; !incrby && at < ctx.argc(); at++) {
    if (ctx.Is(at, "nx")) nx = true;
    else if (ctx.Is(at, "xx")) xx = true;
    else if (ctx.Is(at, "gt")) gt = true;
    else if (ctx.Is(at, "lt")) lt = true;
    else if (ctx.Is(at, "ch")) ch = true;
    else if (ctx.Is(at, "incr")) incr = true;
    else break;
  }
  const size_t elements = ctx.argc() - at;
  if (elements == 0 || elements % 2 != 0) return ctx.SyntaxError();
  if (nx && xx) return ctx.reply().Error("ERR XX and NX options at the same time are not compatible");
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    return ctx.reply().Error("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (incr && elements > 2) {
    return ctx.reply().Error("ERR INCR option supports a single increment-element pair");
  }
  std::vector<double> scores;
  for (size_t i = at; i < ctx.argc(); i += 2) {
    auto score = ctx.Float(i);
    if (!score) return;
    scores.push_back(*score);
  }
  const std::string& key = ctx.arg(1);
  tiers::TypedStore& store = ctx.store();
  auto meta = store.Lookup(ctx.db(), key, RedisType::kZSet);
  if (!meta) return ctx.Error(meta.error());
  // Each member's score as of the elements so far (duplicates apply in order, as in Redis).
  std::map<std::string, std::optional<double>, std::less<>> current;
  ZChanges changes;
  uint64_t added = 0, updated = 0;
  bool processed = false;
  double last_score = 0;
  for (size_t e = 0; e < scores.size(); e++) {
    const std::string& member = ctx.arg(at + 2 * e + 1);
    auto known = current.find(member);
    if (known == current.end()) {
      std::optional<double> old;
      if (*meta) {
        auto found = store.ZScore(ctx.db(), key, member);
        if (!found) return ctx.Error(found.error());
        old = *found;
      }
      known = current.emplace(member, old).first;
    }
    std::optional<double>& old = known->second;
    double score = scores[e];
    if (old) {
      if (nx) continue;
      if (incr) {
        score += *old;
        if (std::isnan(score)) return ctx.reply().Error("ERR resulting score is not a number (NaN)");
      }
      if ((lt && score >= *old) || (gt && score <= *old)) continue;
      processed = true;
      last_score = score;
      if (score == *old) continue;
      updated++;
    } else {
      if (xx) continue;
      processed = true;
      last_score = score;
      added++;
    }
    old = score;
    changes.emplace_back(member, score);
  }
  if (!changes.empty()) {
    auto changed = store.ZChange(ctx.db(), key, changes);
    if (!changed) return ctx.Error(changed.error());
    ctx.Changed(key, kNotifyZSet, incr ? "zincr" : "zadd");
  }
  if (incr) return processed ? ctx.reply().Double(last_score) : ctx.reply().NullBulk();
  ctx.reply().Integer(static_cast<int64_t>(ch ? added + updated : added));
}

void ZAdd(Ctx& ctx) { AddCommand(ctx, false); }
void ZIncrBy(Ctx& ctx) { AddCommand(ctx, true); }

void ZRem(Ctx& ctx) {
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kZSet);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().Integer(0);
  ZChanges changes;
  for (size_t i = 2; i < ctx.argc(); i++) changes.emplace_back(ctx.arg(i), std::nullopt);
  auto changed = ctx.store().ZChange(ctx.db(), ctx.arg(1), changes);
  if (!changed) return ctx.Error(changed.error());
  ReportRemoved(ctx.server(), ctx.db(), ctx.arg(1), changed->removed, (*meta)->size, "zrem");
  ctx.reply().Integer(static_cast<int64_t>(changed->removed));
}

void ZCard(Ctx& ctx) {
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kZSet);
  if (!meta) return ctx.Error(meta.error());
  ctx.reply().Integer(*meta ? static_cast<int64_t>((*meta)->size) : 0);
}

void ZScore(Ctx& ctx) {
  auto score = ctx.store().ZScore(ctx.db(), ctx.arg(1), ctx.arg(2));
  if (!score) return ctx.Error(score.error());
  if (!*score) return ctx.reply().NullBulk();
  ctx.reply().Double(**score);
}

void ZMScore(Ctx& ctx) {
  std::vector<std::optional<double>> scores;
  for (size_t i = 2; i < ctx.argc(); i++) {
    auto score = ctx.store().ZScore(ctx.db(), ctx.arg(1), ctx.arg(i));
    if (!score) return ctx.Error(score.error());
    scores.push_back(*score);
  }
  ctx.reply().ArrayHeader(static_cast<int64_t>(scores.size()));
  for (const auto& score : scores) score ? ctx.reply().Double(*score) : ctx.reply().NullBulk();
}

// ZCOUNT / ZLEXCOUNT: the size of a range (walked: O(members in range)).
void CountCommand(Ctx& ctx, RangeSpec::Type type) {
  RangeSpec range;
  range.type = type;
  if (type == RangeSpec::kScore ? !ParseScoreRange(ctx, 2, 3, range)
                                : !ParseLexRange(ctx, 2, 3, range)) {
    return;
  }
  auto items = ReadRange(ctx.store(), ctx.db(), ctx.arg(1), range);
  if (!items) return ctx.Error(items.error());
  ctx.reply().Integer(static_cast<int64_t>(items->size()));
}

void ZCount(Ctx& ctx) { CountCommand(ctx, RangeSpec::kScore); }
void ZLexCount(Ctx& ctx) { CountCommand(ctx, RangeSpec::kLex); }

// ZRANK / ZREVRANK: walks the index from the asked end up to the member.
void RankCommand(Ctx& ctx, bool reverse) {
  auto score = ctx.store().ZScore(ctx.db(), ctx.arg(1), ctx.arg(2));
  if (!score) return ctx.Error(score.error());
  if (!*score) return ctx.reply().NullBulk();
  int64_t rank = 0;
  bool found = false;
  Status status = ctx.store().ScanZSet(ctx.db(), ctx.arg(1), reverse, std::nullopt,
                                       [&](std::string_view member, double) {
                                         if (member == ctx.arg(2)) {
                                           found = true;
                                           return false;
                                         }
                                         rank++;
                                         return true;
                                       });
  if (!ctx.Check(status)) return;
  if (!found) return ctx.reply().NullBulk();
  ctx.reply().Integer(rank);
}

void ZRank(Ctx& ctx) { RankCommand(ctx, false); }
void ZRevRank(Ctx& ctx) { RankCommand(ctx, true); }

// ZREMRANGEBYRANK / BYSCORE / BYLEX key a b.
void RemoveRangeCommand(Ctx& ctx, RangeSpec::Type type, std::string_view event) {
  RangeSpec range;
  range.type = type;
  if (type == RangeSpec::kRank) {
    auto start = ctx.Int(2);
    if (!start) return;
    auto stop = ctx.Int(3);
    if (!stop) return;
    range.start = *start;
    range.stop = *stop;
  } else if (type == RangeSpec::kScore ? !ParseScoreRange(ctx, 2, 3, range)
                                       : !ParseLexRange(ctx, 2, 3, range)) {
    return;
  }
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kZSet);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().Integer(0);
  auto items = ReadRange(ctx.store(), ctx.db(), ctx.arg(1), range);
  if (!items) return ctx.Error(items.error());
  ZChanges changes;
  for (const auto& item : *items) changes.emplace_back(item.first, std::nullopt);
  auto changed = ctx.store().ZChange(ctx.db(), ctx.arg(1), changes);
  if (!changed) return ctx.Error(changed.error());
  ReportRemoved(ctx.server(), ctx.db(), ctx.arg(1), changed->removed, (*meta)->size, event);
  ctx.reply().Integer(static_cast<int64_t>(changed->removed));
}

void ZRemRangeByRank(Ctx& ctx) { RemoveRangeCommand(ctx, RangeSpec::kRank, "zremrangebyrank"); }
void ZRemRangeByScore(Ctx& ctx) { RemoveRangeCommand(ctx, RangeSpec::kScore, "zremrangebyscore"); }
void ZRemRangeByLex(Ctx& ctx) { RemoveRangeCommand(ctx, RangeSpec::kLex, "zremrangebylex"); }

// --- pops ---

// Removes and returns up to `count` lowest (highest when `max`) members of `key`, with the
// events; nullopt when the key is absent. Runs on the key's owner.
Result<std::optional<Scored>> PopFrom(Server& server, tiers::TypedStore& store, int db,
                                      const std::string& key, bool max, uint64_t count) {
  auto meta = store.Lookup(db, key, RedisType::kZSet);
  if (!meta) return Err(meta.error());
  if (!*meta) return std::optional<Scored>();
  Scored popped;
  if (count == 0) return std::optional<Scored>(popped);
  Status status = store.ScanZSet(db, key, max, std::nullopt, [&](std::string_view m, double s) {
    popped.emplace_back(m, s);
    return popped.size() < count;
  });
  if (!status.ok()) return Err(status);
  ZChanges changes;
  for (const auto& item : popped) changes.emplace_back(item.first, std::nullopt);
  auto changed = store.ZChange(db, key, changes);
  if (!changed) return Err(changed.error());
  ReportRemoved(server, db, key, changed->removed, (*meta)->size, max ? "zpopmax" : "zpopmin");
  return std::optional<Scored>(std::move(popped));
}

// ZPOPMIN / ZPOPMAX key [count]: flat pairs, nested in RESP3 when a count was given.
void PopCommand(Ctx& ctx, bool max) {
  if (ctx.argc() > 3) return ctx.SyntaxError();
  std::optional<int64_t> count;
  if (ctx.argc() == 3) {
    count = ctx.IntInRange(2, 0, INT64_MAX);
    if (!count) return;
  }
  auto popped = PopFrom(ctx.server(), ctx.store(), ctx.db(), ctx.arg(1), max,
                        static_cast<uint64_t>(count.value_or(1)));
  if (!popped) return ctx.Error(popped.error());
  const Scored items = *popped ? **popped : Scored();
  if (count && ctx.resp3()) return ReplyScored(ctx, items, true);
  ctx.reply().ArrayHeader(static_cast<int64_t>(items.size() * 2));
  for (const auto& [member, score] : items) {
    ctx.reply().Bulk(member);
    ctx.reply().Double(score);
  }
}

void ZPopMin(Ctx& ctx) { PopCommand(ctx, false); }
void ZPopMax(Ctx& ctx) { PopCommand(ctx, true); }

struct Popped {
  std::string key;
  Scored items;
};

// Pops from the first non-empty key of `keys`, each reached on its owner.
Result<std::optional<Popped>> PopFirst(Ctx& ctx, const std::vector<std::string>& keys, bool max,
                                       uint64_t count) {
  const int db = ctx.db();
  Server& server = ctx.server();
  for (const std::string& key : keys) {
    auto popped = OnKey<std::optional<Scored>>(ctx, key, [&](tiers::TypedStore& store) {
      return PopFrom(server, store, db, key, max, count);
    });
    if (!popped) return Err(popped.error());
    if (*popped) return std::optional<Popped>(Popped{key, std::move(**popped)});
  }
  return std::optional<Popped>();
}

// BZPOPMIN / BZPOPMAX key [key ...] timeout: [key, member, score].
void BlockingPopCommand(Ctx& ctx, bool max) {
  auto deadline = ctx.BlockingDeadline(ctx.argc() - 1);
  if (!deadline) return;
  std::vector<std::string> keys(ctx.args().begin() + 1, ctx.args().end() - 1);
  auto popped = PopFirst(ctx, keys, max, 1);
  if (!popped) return ctx.Error(popped.error());
  if (!*popped) {
    if (!ctx.may_block()) return ctx.reply().NullArray();
    return ctx.Block(std::move(keys), *deadline, Ctx::TimeoutReply::kNullArray);
  }
  TK_ASSERT((*popped)->items.size() == 1);
  ctx.reply().ArrayHeader(3);
  ctx.reply().Bulk((*popped)->key);
  ctx.reply().Bulk((*popped)->items.front().first);
  ctx.reply().Double((*popped)->items.front().second);
}

void BZPopMin(Ctx& ctx) { BlockingPopCommand(ctx, false); }
void BZPopMax(Ctx& ctx) { BlockingPopCommand(ctx, true); }

std::optional<std::string> ZMPopKeys(const std::vector<std::string>& args,
                                     KeyPositionList& positions) {
  return MPopKeyPositions(args, 1, positions);
}
std::optional<std::string> BZMPopKeys(const std::vector<std::string>& args,
                                      KeyPositionList& positions) {
  return MPopKeyPositions(args, 2, positions);
}

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]; BZMPOP timeout numkeys ... (`blocking`).
void MPop(Ctx& ctx, size_t numkeys_at, bool blocking) {
  KeyPositionList positions;
  if (auto error = MPopKeyPositions(ctx.args(), numkeys_at, positions)) return ctx.reply().Error(*error);
  const size_t where_at = numkeys_at + positions.size() + 1;
  bool max = false;
  if (ctx.Is(where_at, "max")) {
    max = true;
  } else if (!ctx.Is(where_at, "min")) {
    return ctx.SyntaxError();
  }
  std::optional<int64_t> count;
  for (size_t i = where_at + 1; i < ctx.argc(); i++) {
    if (count || i + 1 >= ctx.argc() || !ctx.Is(i, "count")) return ctx.SyntaxError();
    int64_t value = 0;  // Redis answers a non-number with the same error
    if (!ParseInt64(ctx.arg(++i), value) || value < 1) {
      return ctx.reply().Error("ERR count should be greater than 0");
    }
    count = value;
  }
  std::optional<Deadline> deadline;
  if (blocking) {
    deadline = ctx.BlockingDeadline(1);
    if (!deadline) return;
  }
  std::vector<std::string> keys;
  for (int position : positions) keys.push_back(ctx.arg(static_cast<size_t>(position)));
  auto popped = PopFirst(ctx, keys, max, static_cast<uint64_t>(count.value_or(1)));
  if (!popped) return ctx.Error(popped.error());
  if (!*popped) {
    if (blocking && ctx.may_block()) {
      return ctx.Block(std::move(keys), *deadline, Ctx::TimeoutReply::kNullArray);
    }
    return ctx.reply().NullArray();
  }
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk((*popped)->key);
  ReplyPairs(ctx, (*popped)->items);
}

void ZMPop(Ctx& ctx) { MPop(ctx, 1, false); }
void BZMPop(Ctx& ctx) { MPop(ctx, 2, true); }

}  // namespace

void RegisterSortedSetCommands(CommandTable& table) {
  constexpr uint64_t kZ = kAclSortedSet;
  auto add = [&](std::string_view name, int arity, uint32_t flags, KeySpec keys, Handler handler,
                 std::string_view since, std::string_view summary) {
    table.Add(MakeCommand(name, arity, flags, kZ, keys, handler, "sorted-set", since, summary));
  };
  auto add_fn = [&](std::string_view name, int arity, uint32_t flags, KeysFn keys_fn,
                    Handler handler, std::string_view since, std::string_view summary) {
    CommandSpec spec = MakeCommand(name, arity, flags, kZ, {}, handler, "sorted-set", since, summary);
    spec.keys_fn = keys_fn;
    table.Add(std::move(spec));
  };
  const KeySpec one{1, 1, 1};
  constexpr uint32_t kReadFast = kCmdReadonly | kCmdFast;
  constexpr uint32_t kBlocking = kCmdWrite | kCmdNoScript | kCmdBlocking;
  add("zadd", -4, kCmdWrite | kCmdDenyOom | kCmdFast, one, ZAdd, "1.2.0",
      "Add one or more members to a sorted set, or update its score if it already exists");
  add("zincrby", 4, kCmdWrite | kCmdDenyOom | kCmdFast, one, ZIncrBy, "1.2.0",
      "Increment the score of a member in a sorted set");
  add("zrem", -3, kCmdWrite | kCmdFast, one, ZRem, "1.2.0",
      "Remove one or more members from a sorted set");
  add("zcard", 2, kReadFast, one, ZCard, "1.2.0", "Get the number of members in a sorted set");
  add("zscore", 3, kReadFast, one, ZScore, "1.2.0",
      "Get the score associated with the given member in a sorted set");
  add("zmscore", -3, kReadFast, one, ZMScore, "6.2.0",
      "Get the score associated with the given members in a sorted set");
  add("zcount", 4, kReadFast, one, ZCount, "2.0.0",
      "Count the members in a sorted set with scores within the given values");
  add("zlexcount", 4, kReadFast, one, ZLexCount, "2.8.9",
      "Count the number of members in a sorted set between a given lexicographical range");
  add("zrank", 3, kReadFast, one, ZRank, "2.0.0",
      "Determine the index of a member in a sorted set");
  add("zrevrank", 3, kReadFast, one, ZRevRank, "2.0.0",
      "Determine the index of a member in a sorted set, with scores ordered from high to low");
  add("zrange", -4, kCmdReadonly, one, ZRange, "1.2.0",
      "Return a range of members in a sorted set");
  add("zrangestore", -5, kCmdWrite | kCmdDenyOom, {1, 2, 1}, ZRangeStore, "6.2.0",
      "Store a range of members from sorted set into another key");
  add("zrevrange", -4, kCmdReadonly, one, ZRevRange, "1.2.0",
      "Return a range of members in a sorted set, by index, with scores ordered from high to low");
  add("zrangebyscore", -4, kCmdReadonly, one, ZRangeByScore, "1.0.5",
      "Return a range of members in a sorted set, by score");
  add("zrevrangebyscore", -4, kCmdReadonly, one, ZRevRangeByScore, "2.2.0",
      "Return a range of members in a sorted set, by score, with scores ordered from high to low");
  add("zrangebylex", -4, kCmdReadonly, one, ZRangeByLex, "2.8.9",
      "Return a range of members in a sorted set, by lexicographical range");
  add("zrevrangebylex", -4, kCmdReadonly, one, ZRevRangeByLex, "2.8.9",
      "Return a range of members in a sorted set, by lexicographical range, ordered from higher "
      "to lower strings.");
  add("zremrangebyrank", 4, kCmdWrite, one, ZRemRangeByRank, "2.0.0",
      "Remove all members in a sorted set within the given indexes");
  add("zremrangebyscore", 4, kCmdWrite, one, ZRemRangeByScore, "1.2.0",
      "Remove all members in a sorted set within the given scores");
  add("zremrangebylex", 4, kCmdWrite, one, ZRemRangeByLex, "2.8.9",
      "Remove all members in a sorted set between the given lexicographical range");
  add("zpopmin", -2, kCmdWrite | kCmdFast, one, ZPopMin, "5.0.0",
      "Remove and return members with the lowest scores in a sorted set");
  add("zpopmax", -2, kCmdWrite | kCmdFast, one, ZPopMax, "5.0.0",
      "Remove and return members with the highest scores in a sorted set");
  add("bzpopmin", -3, kBlocking | kCmdFast, {1, -2, 1}, BZPopMin, "5.0.0",
      "Remove and return the member with the lowest score from one or more sorted sets, or block "
      "until one is available");
  add("bzpopmax", -3, kBlocking | kCmdFast, {1, -2, 1}, BZPopMax, "5.0.0",
      "Remove and return the member with the highest score from one or more sorted sets, or "
      "block until one is available");
  add_fn("zmpop", -4, kCmdWrite, ZMPopKeys, ZMPop, "7.0.0",
         "Remove and return members with scores in a sorted set");
  add_fn("bzmpop", -5, kBlocking, BZMPopKeys, BZMPop, "7.0.0",
         "Remove and return members with scores in a sorted set or block until one is available");
  zsets::RegisterBulkReadCommands(table);
}

}  // namespace tierkv::server
