// Sorted-set commands that read members in bulk: ZRANDMEMBER, ZSCAN, and the operations over
// several keys (Redis 7.0's zunionInterDiffGenericCommand and ZINTERCARD): ZUNION, ZINTER, ZDIFF,
// their STORE forms and ZINTERCARD. The set operations may span shards: they run on the client's
// executor with every key locked, read each source whole on its owner (Ctx::On; sets count with
// score 1, as in Redis) and compute in memory; a STORE deletes the destination and writes the
// result: two engine writes on its owner.
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/collections.h"
#include "server/command.h"
#include "server/server.h"
#include "server/zsets.h"

namespace tierkv::server::zsets {
namespace {

using tiers::RedisType;

// --- random members and scans ---

// The members at the sorted, distinct `positions` (member byte order), in one scan.
Result<Scored> ReadPositions(tiers::TypedStore& store, int db, std::string_view key,
                             const std::vector<uint64_t>& positions) {
  Scored out;
  uint64_t position = 0;
  size_t next = 0;
  Status status = store.ScanZSetMembers(db, key, "", [&](std::string_view member, double score) {
    if (next < positions.size() && positions[next] == position) {
      out.emplace_back(member, score);
      next++;
    }
    position++;
    return next < positions.size();
  });
  if (!status.ok()) return Err(status);
  if (out.size() != positions.size()) {
    return Err(StatusCode::kCorruption, "sorted set holds fewer members than its size says");
  }
  return out;
}

// A guard against one ZRANDMEMBER reply exhausting the node's memory.
constexpr uint64_t kMaxRandomReplyElements = uint64_t{1} << 24;

// ZRANDMEMBER key [count [WITHSCORES]].
void ZRandMember(Ctx& ctx) {
  std::optional<int64_t> count;
  if (ctx.argc() >= 3) {  // the count is parsed before the options are checked, as in Redis
    count = collections::RandomCount(ctx, 2);
    if (!count) return;
  }
  if (ctx.argc() > 4 || (ctx.argc() == 4 && !ctx.Is(3, "withscores"))) return ctx.SyntaxError();
  const bool with_scores = ctx.argc() == 4;
  if (with_scores && (*count < INT64_MIN / 2 || *count > INT64_MAX / 2)) {
    return ctx.reply().Error("ERR value is out of range");
  }
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kZSet);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return count ? ctx.reply().ArrayHeader(0) : ctx.reply().NullBulk();
  const uint64_t size = (*meta)->size;
  Env& env = ctx.env();
  if (!count) {
    auto items = ReadPositions(ctx.store(), ctx.db(), ctx.arg(1),
                               {collections::RandomBelow(env, size)});
    if (!items) return ctx.Error(items.error());
    return ctx.reply().Bulk(items->front().first);
  }
  const bool repeats = *count < 0;
  const uint64_t wanted = repeats ? static_cast<uint64_t>(-*count) : static_cast<uint64_t>(*count);
  if (!repeats && wanted >= size) {
    auto all = ReadPositions(ctx.store(), ctx.db(), ctx.arg(1), [&] {
      std::vector<uint64_t> every(size);
      for (uint64_t i = 0; i < size; i++) every[i] = i;
      return every;
    }());
    if (!all) return ctx.Error(all.error());
    return ReplyScored(ctx, *all, with_scores);
  }
  if (wanted > kMaxRandomReplyElements) return ctx.reply().Error("ERR value is out of range");
  std::vector<uint64_t> draws =
      repeats ? std::vector<uint64_t>() : collections::SampleDistinct(env, size, wanted);
  for (uint64_t i = 0; repeats && i < wanted; i++) draws.push_back(collections::RandomBelow(env, size));
  std::vector<uint64_t> positions = draws;
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  auto entries = ReadPositions(ctx.store(), ctx.db(), ctx.arg(1), positions);
  if (!entries) return ctx.Error(entries.error());
  Scored out;
  for (uint64_t draw : draws) {
    const auto at = static_cast<size_t>(
        std::lower_bound(positions.begin(), positions.end(), draw) - positions.begin());
    out.push_back((*entries)[at]);
  }
  ReplyScored(ctx, out, with_scores);
}

// ZSCAN key cursor [MATCH pattern] [COUNT count]: members in byte order, scores as bulk strings.
void ZScan(Ctx& ctx) {
  std::optional<uint64_t> cursor = ParseScanCursor(ctx.arg(2));
  if (!cursor) return ctx.reply().Error("ERR invalid cursor");
  auto meta = ctx.store().Lookup(ctx.db(), ctx.arg(1), RedisType::kZSet);
  if (!meta) return ctx.Error(meta.error());
  Scored page;
  uint64_t next_cursor = 0;
  if (*meta) {
    collections::ScanOptions options;
    if (!collections::ParseScanOptions(ctx, 3, options)) return;
    const int64_t count = options.count;
    const std::optional<std::string>& pattern = options.pattern;
    Status status = ctx.store().ScanZSetMembers(
        ctx.db(), ctx.arg(1), collections::CursorStart(*cursor), [&](std::string_view member, double score) {
          const uint64_t here = collections::CursorOf(member);
          // Stop only where the cursor moves on, so resuming cannot loop.
          if (page.size() >= static_cast<uint64_t>(count) && here != *cursor) {
            next_cursor = here;
            return false;
          }
          page.emplace_back(member, score);
          return true;
        });
    if (!ctx.Check(status)) return;
    if (pattern) {
      std::erase_if(page, [&](const auto& item) { return !GlobMatch(*pattern, item.first, false); });
    }
  }
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk(std::to_string(next_cursor));
  ctx.reply().ArrayHeader(static_cast<int64_t>(page.size() * 2));
  for (const auto& [member, score] : page) {
    ctx.reply().Bulk(member);
    ctx.reply().Bulk(FormatDouble(score));
  }
}

using ScoreMap = std::map<std::string, double, std::less<>>;

// Every member of `key` with its score, from its owner: a sorted set, or a set (score 1);
// nullopt when absent; WRONGTYPE for other types.
Result<std::optional<ScoreMap>> ReadSource(Ctx& ctx, const std::string& key) {
  const int db = ctx.db();
  return OnKey<std::optional<ScoreMap>>(
      ctx, key, [&](tiers::TypedStore& store) -> Result<std::optional<ScoreMap>> {
        auto meta = store.Lookup(db, key);
        if (!meta) return Err(meta.error());
        if (!*meta) return std::optional<ScoreMap>();
        ScoreMap out;
        Status status = Status::Ok();
        if ((*meta)->type == RedisType::kZSet) {
          status = store.ScanZSetMembers(db, key, "", [&](std::string_view m, double s) {
            out.emplace(m, s);
            return true;
          });
        } else if ((*meta)->type == RedisType::kSet) {
          status = store.ScanMembers(db, key, RedisType::kSet, "",
                                     [&](std::string_view m, std::string_view) {
                                       out.emplace(m, 1.0);
                                       return true;
                                     });
        } else {
          return Err(tiers::WrongType());
        }
        if (!status.ok()) return Err(status);
        return std::optional<ScoreMap>(std::move(out));
      });
}

enum class SetOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

// Redis's zunionInterAggregate (NaN from inf + -inf is 0).
double Combine(Aggregate aggregate, double a, double b) {
  switch (aggregate) {
    case Aggregate::kSum: {
      const double sum = a + b;
      return std::isnan(sum) ? 0 : sum;
    }
    case Aggregate::kMin: return std::min(a, b);
    case Aggregate::kMax: return std::max(a, b);
  }
  return a;
}

// The key positions of ZUNION/ZINTER/ZDIFF (numkeys at 1), their STORE forms (at 2, destination
// at 1) and ZINTERCARD, with Redis's errors.
std::optional<std::string> SetOpKeys(const std::vector<std::string>& args, size_t numkeys_at,
                                     KeyPositionList& positions) {
  int64_t numkeys = 0;
  if (args.size() <= numkeys_at || !ParseInt64(args[numkeys_at], numkeys)) {
    return "ERR value is not an integer or out of range";
  }
  if (numkeys < 1) {
    return "ERR at least 1 input key is needed for '" + ToLower(args[0]) + "' command";
  }
  if (static_cast<uint64_t>(numkeys) > args.size() - numkeys_at - 1) return "ERR syntax error";
  if (numkeys_at == 2) positions.push_back(1);
  for (int64_t i = 1; i <= numkeys; i++) positions.push_back(static_cast<int>(numkeys_at + i));
  return std::nullopt;
}
std::optional<std::string> SetOpReadKeys(const std::vector<std::string>& args,
                                         KeyPositionList& positions) {
  return SetOpKeys(args, 1, positions);
}
std::optional<std::string> SetOpStoreKeys(const std::vector<std::string>& args,
                                          KeyPositionList& positions) {
  return SetOpKeys(args, 2, positions);
}

// Computes `op` over `keys` with `weights` (nullopt: the first error, in key order).
Result<Scored> Compute(Ctx& ctx, SetOp op, const std::vector<std::string>& keys,
                       const std::vector<double>& weights, Aggregate aggregate) {
  std::vector<std::optional<ScoreMap>> sources;
  for (const std::string& key : keys) {
    auto source = ReadSource(ctx, key);
    if (!source) return Err(source.error());
    sources.push_back(std::move(*source));
  }
  auto weighted = [&](size_t i, double score) {
    const double value = score * weights[i];
    return std::isnan(value) ? 0.0 : value;
  };
  ScoreMap result;
  if (op == SetOp::kUnion) {
    for (size_t i = 0; i < sources.size(); i++) {
      if (!sources[i]) continue;
      for (const auto& [member, score] : *sources[i]) {
        auto [it, fresh] = result.emplace(member, weighted(i, score));
        if (!fresh) it->second = Combine(aggregate, it->second, weighted(i, score));
      }
    }
  } else if (sources[0]) {
    for (const auto& [member, score] : *sources[0]) {
      double value = weighted(0, score);
      bool keep = true;
      for (size_t i = 1; i < sources.size() && keep; i++) {
        const auto found = sources[i] ? sources[i]->find(member) : ScoreMap::const_iterator();
        const bool held = sources[i] && found != sources[i]->end();
        if (op == SetOp::kDiff) {
          keep = !held;
        } else {
          keep = held;
          if (held) value = Combine(aggregate, value, weighted(i, found->second));
        }
      }
      if (keep) result.emplace(member, value);
    }
  }
  Scored out(result.begin(), result.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second < b.second;  // ties stay in member order
  });
  return out;
}

// ZUNION/ZINTER/ZDIFF [STORE]: numkeys at `numkeys_at`, destination at 1 when it is 2.
void SetOpCommand(Ctx& ctx, SetOp op, size_t numkeys_at, std::string_view event) {
  KeyPositionList positions;
  if (auto error = SetOpKeys(ctx.args(), numkeys_at, positions)) return ctx.reply().Error(*error);
  const bool store = numkeys_at == 2;
  std::vector<std::string> keys;
  for (size_t p = store ? 1 : 0; p < positions.size(); p++) {
    keys.push_back(ctx.arg(static_cast<size_t>(positions[p])));
  }
  std::vector<double> weights(keys.size(), 1.0);
  Aggregate aggregate = Aggregate::kSum;
  bool with_scores = false;
  for (size_t i = numkeys_at + keys.size() + 1; i < ctx.argc(); i++) {
    const size_t left = ctx.argc() - i - 1;
    if (op != SetOp::kDiff && ctx.Is(i, "weights") && left >= keys.size()) {
      for (size_t w = 0; w < keys.size(); w++) {
        if (!ParseDouble(ctx.arg(i + 1 + w), weights[w])) {
          return ctx.reply().Error("ERR weight value is not a float");
        }
      }
      i += keys.size();
    } else if (op != SetOp::kDiff && ctx.Is(i, "aggregate") && left >= 1) {
      if (ctx.Is(i + 1, "sum")) aggregate = Aggregate::kSum;
      else if (ctx.Is(i + 1, "min")) aggregate = Aggregate::kMin;
      else if (ctx.Is(i + 1, "max")) aggregate = Aggregate::kMax;
      else return ctx.SyntaxError();
      i++;
    } else if (!store && ctx.Is(i, "withscores")) {
      with_scores = true;
    } else {
      return ctx.SyntaxError();
    }
  }
  auto result = Compute(ctx, op, keys, weights, aggregate);
  if (!result) return ctx.Error(result.error());
  if (!store) return ReplyScored(ctx, *result, with_scores);
  auto stored = StoreScored(ctx, ctx.arg(1), *result, event);
  if (!stored) return ctx.Error(stored.error());
  ctx.reply().Integer(*stored);
}

void ZUnion(Ctx& ctx) { SetOpCommand(ctx, SetOp::kUnion, 1, ""); }
void ZInter(Ctx& ctx) { SetOpCommand(ctx, SetOp::kInter, 1, ""); }
void ZDiff(Ctx& ctx) { SetOpCommand(ctx, SetOp::kDiff, 1, ""); }
void ZUnionStore(Ctx& ctx) { SetOpCommand(ctx, SetOp::kUnion, 2, "zunionstore"); }
void ZInterStore(Ctx& ctx) { SetOpCommand(ctx, SetOp::kInter, 2, "zinterstore"); }
void ZDiffStore(Ctx& ctx) { SetOpCommand(ctx, SetOp::kDiff, 2, "zdiffstore"); }

// ZINTERCARD numkeys key [key ...] [LIMIT limit].
void ZInterCard(Ctx& ctx) {
  KeyPositionList positions;
  if (auto error = InterCardKeyPositions(ctx.args(), positions)) return ctx.reply().Error(*error);
  const size_t end = 2 + positions.size();
  uint64_t limit = 0;
  for (size_t i = end; i < ctx.argc(); i++) {
    if (!ctx.Is(i, "limit") || i + 1 >= ctx.argc()) return ctx.SyntaxError();
    int64_t value = 0;
    if (!ParseInt64(ctx.arg(i + 1), value) || value < 0) {
      return ctx.reply().Error("ERR LIMIT can't be negative");
    }
    limit = static_cast<uint64_t>(value);
    i++;
  }
  std::vector<std::string> keys(ctx.args().begin() + 2,
                                ctx.args().begin() + static_cast<std::ptrdiff_t>(end));
  auto result = Compute(ctx, SetOp::kInter, keys, std::vector<double>(keys.size(), 1.0),
                        Aggregate::kSum);
  if (!result) return ctx.Error(result.error());
  uint64_t count = result->size();
  if (limit > 0) count = std::min(count, limit);
  ctx.reply().Integer(static_cast<int64_t>(count));
}

}  // namespace

void RegisterBulkReadCommands(CommandTable& table) {
  const KeySpec one{1, 1, 1};
  auto add = [&](std::string_view name, int arity, uint32_t flags, KeySpec keys, Handler handler,
                 std::string_view since, std::string_view summary) {
    table.Add(MakeCommand(name, arity, flags, kAclSortedSet, keys, handler, "sorted-set", since,
                          summary));
  };
  auto add_fn = [&](std::string_view name, int arity, uint32_t flags, KeysFn keys_fn,
                    Handler handler, std::string_view since, std::string_view summary) {
    CommandSpec spec =
        MakeCommand(name, arity, flags, kAclSortedSet, {}, handler, "sorted-set", since, summary);
    spec.keys_fn = keys_fn;
    table.Add(std::move(spec));
  };
  add("zrandmember", -2, kCmdReadonly, one, ZRandMember, "6.2.0",
      "Get one or multiple random elements from a sorted set");
  add("zscan", -3, kCmdReadonly, one, ZScan, "2.8.0",
      "Incrementally iterate sorted sets elements and associated scores");
  add_fn("zunion", -3, kCmdReadonly, SetOpReadKeys, ZUnion, "6.2.0", "Add multiple sorted sets");
  add_fn("zinter", -3, kCmdReadonly, SetOpReadKeys, ZInter, "6.2.0",
         "Intersect multiple sorted sets");
  add_fn("zdiff", -3, kCmdReadonly, SetOpReadKeys, ZDiff, "6.2.0", "Subtract multiple sorted sets");
  add_fn("zunionstore", -4, kCmdWrite | kCmdDenyOom, SetOpStoreKeys, ZUnionStore, "2.0.0",
         "Add multiple sorted sets and store the resulting sorted set in a new key");
  add_fn("zinterstore", -4, kCmdWrite | kCmdDenyOom, SetOpStoreKeys, ZInterStore, "2.0.0",
         "Intersect multiple sorted sets and store the resulting sorted set in a new key");
  add_fn("zdiffstore", -4, kCmdWrite | kCmdDenyOom, SetOpStoreKeys, ZDiffStore, "6.2.0",
         "Subtract multiple sorted sets and store the resulting sorted set in a new key");
  add_fn("zintercard", -3, kCmdReadonly, InterCardKeyPositions, ZInterCard, "7.0.0",
         "Intersect multiple sorted sets and return the cardinality of the result");
}

}  // namespace tierkv::server::zsets
