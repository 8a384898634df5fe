// Server commands: COMMAND, CONFIG, TIME, LASTSAVE, SAVE, BGSAVE, SHUTDOWN, SLOWLOG, LATENCY,
// MEMORY, DEBUG, and the scripting commands (answered with a clear "not supported").
//
// State that Redis keeps once per process is kept per executor here (the slow log, latency
// records, the configuration copy) and gathered from every executor when asked for: the read
// side pays one message pair per executor, the hot path (recording) pays nothing across threads.
// SAVE and BGSAVE run a checkpoint on every shard: all data is already durable through the WAL
// (per appendfsync), so a "save" only shortens the next recovery.
#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

void ForEachExecutorState(Ctx& ctx, const std::function<void(ExecutorState&)>& fn) {
  ctx.server().ForEachExecutor(fn);
}

// --- COMMAND ---

void WriteCommandInfo(net::ReplyWriter& reply, const CommandSpec& spec, const CommandSpec* parent) {
  reply.ArrayHeader(10);
  reply.Bulk(FullName(spec, parent));
  reply.Integer(spec.arity);
  std::vector<std::string_view> flags = CommandFlagNames(spec.flags);
  if (spec.keys_fn != nullptr) flags.push_back("movablekeys");
  reply.SetHeader(static_cast<int64_t>(flags.size()));
  for (std::string_view flag : flags) reply.SimpleString(flag);
  reply.Integer(spec.keys.first);
  reply.Integer(spec.keys.last);
  reply.Integer(spec.keys.first == 0 ? 0 : spec.keys.step);
  std::vector<std::string> categories;
  const uint64_t bits = spec.Categories();
  for (const AclCategoryName& category : AclCategoryNames()) {
    if ((bits & category.bit) != 0) categories.push_back("@" + std::string(category.name));
  }
  reply.SetHeader(static_cast<int64_t>(categories.size()));
  for (const std::string& category : categories) reply.SimpleString(category);
  reply.ArrayHeader(0);  // tips
  // Key specs: one range spec derived from (first, last, step), as Redis derives legacy triples.
  if (spec.keys.first == 0) {
    reply.ArrayHeader(0);
  } else {
    const bool write = (spec.flags & kCmdWrite) != 0;
    reply.ArrayHeader(1);
    reply.MapHeader(3);
    reply.Bulk("flags");
    reply.SetHeader(2);
    reply.SimpleString(write ? "RW" : "RO");
    reply.SimpleString(write ? "update" : "access");
    reply.Bulk("begin_search");
    reply.MapHeader(2);
    reply.Bulk("type");
    reply.Bulk("index");
    reply.Bulk("spec");
    reply.MapHeader(1);
    reply.Bulk("index");
    reply.Integer(spec.keys.first);
    reply.Bulk("find_keys");
    reply.MapHeader(2);
    reply.Bulk("type");
    reply.Bulk("range");
    reply.Bulk("spec");
    reply.MapHeader(3);
    reply.Bulk("lastkey");
    reply.Integer(spec.keys.last < 0 ? spec.keys.last : spec.keys.last - spec.keys.first);
    reply.Bulk("keystep");
    reply.Integer(spec.keys.step);
    reply.Bulk("limit");
    reply.Integer(0);
  }
  reply.ArrayHeader(static_cast<int64_t>(spec.subcommands.size()));
  for (const CommandSpec& sub : spec.subcommands) WriteCommandInfo(reply, sub, &spec);
}

void WriteCommandDocs(net::ReplyWriter& reply, const CommandSpec& spec, const CommandSpec* parent) {
  reply.Bulk(FullName(spec, parent));
  const bool subs = !spec.subcommands.empty();
  reply.MapHeader(subs ? 4 : 3);
  reply.Bulk("summary");
  reply.Bulk(spec.summary);
  reply.Bulk("since");
  reply.Bulk(spec.since);
  reply.Bulk("group");
  reply.Bulk(spec.group);
  if (subs) {
    reply.Bulk("subcommands");
    reply.MapHeader(static_cast<int64_t>(spec.subcommands.size()));
    for (const CommandSpec& sub : spec.subcommands) WriteCommandDocs(reply, sub, &spec);
  }
}

// "get" or "config|get": the row, or nullptr.
const CommandSpec* FindByFullName(const CommandTable& table, std::string_view name,
                                  const CommandSpec** parent) {
  *parent = nullptr;
  const size_t bar = name.find('|');
  const CommandSpec* spec = table.Find(name.substr(0, bar));
  if (spec == nullptr || bar == std::string_view::npos) return spec;
  for (const CommandSpec& sub : spec->subcommands) {
    if (EqualsIgnoreCase(sub.name, name.substr(bar + 1))) {
      *parent = spec;
      return &sub;
    }
  }
  return nullptr;
}

void Command(Ctx& ctx) {
  std::span<const CommandSpec> all = ctx.server().table().all();
  ctx.reply().ArrayHeader(static_cast<int64_t>(all.size()));
  for (const CommandSpec& spec : all) WriteCommandInfo(ctx.reply(), spec, nullptr);
}

void CommandCount(Ctx& ctx) {
  ctx.reply().Integer(static_cast<int64_t>(ctx.server().table().all().size()));
}

void CommandInfo(Ctx& ctx) {
  if (ctx.argc() == 2) return Command(ctx);
  ctx.reply().ArrayHeader(static_cast<int64_t>(ctx.argc() - 2));
  for (size_t i = 2; i < ctx.argc(); i++) {
    const CommandSpec* parent = nullptr;
    const CommandSpec* spec = FindByFullName(ctx.server().table(), ctx.arg(i), &parent);
    if (spec == nullptr) {
      ctx.reply().NullArray();
    } else {
      WriteCommandInfo(ctx.reply(), *spec, parent);
    }
  }
}

void CommandDocs(Ctx& ctx) {
  const CommandTable& table = ctx.server().table();
  std::vector<std::pair<const CommandSpec*, const CommandSpec*>> chosen;  // (spec, parent)
  if (ctx.argc() == 2) {
    for (const CommandSpec& spec : table.all()) chosen.emplace_back(&spec, nullptr);
  } else {
    for (size_t i = 2; i < ctx.argc(); i++) {
      const CommandSpec* parent = nullptr;
      const CommandSpec* spec = FindByFullName(table, ctx.arg(i), &parent);
      if (spec != nullptr) chosen.emplace_back(spec, parent);
    }
  }
  ctx.reply().MapHeader(static_cast<int64_t>(chosen.size()));
  for (const auto& [spec, parent] : chosen) WriteCommandDocs(ctx.reply(), *spec, parent);
}

void CommandList(Ctx& ctx) {
  std::string_view filter, value;
  if (ctx.argc() == 5 && ctx.Is(2, "FILTERBY")) {
    filter = ctx.arg(3);
    value = ctx.arg(4);
  } else if (ctx.argc() != 2) {
    return ctx.SyntaxError();
  }
  std::optional<uint64_t> category;
  if (EqualsIgnoreCase(filter, "ACLCAT")) {
    for (const AclCategoryName& c : AclCategoryNames()) {
      if (EqualsIgnoreCase(c.name, value)) category = c.bit;
    }
    if (!category) category = 0;  // Redis: an unknown category matches nothing
  } else if (!filter.empty() && !EqualsIgnoreCase(filter, "PATTERN") &&
             !EqualsIgnoreCase(filter, "MODULE")) {
    return ctx.SyntaxError();
  }
  std::vector<std::string> names;
  auto consider = [&](const CommandSpec& spec, const CommandSpec* parent) {
    std::string name = FullName(spec, parent);
    if (EqualsIgnoreCase(filter, "MODULE")) return;  // no modules
    if (category && (spec.Categories() & *category) == 0) return;
    if (EqualsIgnoreCase(filter, "PATTERN") && !GlobMatch(value, name, true)) return;
    names.push_back(std::move(name));
  };
  for (const CommandSpec& spec : ctx.server().table().all()) {
    consider(spec, nullptr);
    for (const CommandSpec& sub : spec.subcommands) consider(sub, &spec);
  }
  ctx.reply().ArrayHeader(static_cast<int64_t>(names.size()));
  for (const std::string& name : names) ctx.reply().Bulk(name);
}

void CommandGetKeys(Ctx& ctx) {
  std::vector<std::string> args(ctx.args().begin() + 2, ctx.args().end());
  const CommandSpec* parent = nullptr;
  const CommandSpec* spec = ctx.server().Find(args, &parent);
  if (ctx.server().table().Find(args[0]) == nullptr) {
    return ctx.reply().Error("ERR Invalid command specified");
  }
  if (spec == nullptr) {
    return ctx.reply().Error("ERR Invalid number of arguments specified for command");
  }
  KeyPositionList positions;
  std::string error;
  if (!Server::KeysOf(*spec, args, positions, error)) return ctx.reply().Error(error);
  if (positions.empty()) return ctx.reply().Error("ERR The command has no key arguments");
  ctx.reply().ArrayHeader(static_cast<int64_t>(positions.size()));
  for (int position : positions) ctx.reply().Bulk(args[static_cast<size_t>(position)]);
}

void WriteHelp(Ctx& ctx, std::string_view command, std::initializer_list<std::string_view> lines) {
  ctx.reply().ArrayHeader(static_cast<int64_t>(lines.size()) + 1);
  ctx.reply().SimpleString(
      fmt::format("{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", command));
  for (std::string_view line : lines) ctx.reply().SimpleString(line);
}

void CommandHelp(Ctx& ctx) {
  WriteHelp(ctx, "COMMAND",
            {"(no subcommand)", "    Return details about all Redis commands.", "COUNT",
             "    Return the total number of commands in this Redis server.", "LIST",
             "    Return a list of all commands in this Redis server.",
             "INFO [<command-name> ...]",
             "    Return details about multiple Redis commands.",
             "DOCS [<command-name> ...]",
             "    Return documentation details about multiple Redis commands.",
             "GETKEYS <full-command>",
             "    Return the keys from a full Redis command.", "HELP", "    Print this help."});
}

// --- CONFIG ---

void ConfigGet(Ctx& ctx) {
  std::vector<std::string> patterns(ctx.args().begin() + 2, ctx.args().end());
  auto pairs = ctx.server().local().config.Get(patterns);
  ctx.reply().MapHeader(static_cast<int64_t>(pairs.size()));
  for (const auto& [name, value] : pairs) {
    ctx.reply().Bulk(name);
    ctx.reply().Bulk(value);
  }
}

void ConfigSet(Ctx& ctx) {
  if (ctx.argc() % 2 != 0) return ctx.WrongArity();
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 2; i + 1 < ctx.argc(); i += 2) pairs.emplace_back(ctx.arg(i), ctx.arg(i + 1));
  Config trial = ctx.server().local().config;  // validate once, then apply everywhere
  if (Status checked = trial.Set(pairs); !checked.ok()) return ctx.reply().Error(checked.message());
  ForEachExecutorState(ctx, [&pairs](ExecutorState& state) {
    Status applied = state.config.Set(pairs);
    TK_ASSERT_MSG(applied.ok(), "CONFIG SET accepted on one executor and refused on another");
  });
  ctx.Ok();
}

void ConfigResetStat(Ctx& ctx) {
  ForEachExecutorState(ctx, [](ExecutorState& state) {
    state.commands_processed = 0;
    state.connections_received = 0;
    state.rejected_connections = 0;
  });
  ctx.Ok();
}

void ConfigRewrite(Ctx& ctx) {
  const Config& config = ctx.server().local().config;
  if (config.config_file().empty()) {
    return ctx.reply().Error("ERR The server is running without a config file");
  }
  Status rewritten = config.Rewrite(ctx.env(), config.config_file());
  if (!rewritten.ok()) {
    return ctx.reply().Error("ERR Rewriting config file: " + rewritten.ToString());
  }
  ctx.Ok();
}

void ConfigHelp(Ctx& ctx) {
  WriteHelp(ctx, "CONFIG",
            {"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
             "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
             "RESETSTAT", "    Reset statistics reported by the INFO command.", "REWRITE",
             "    Rewrite the configuration file.", "HELP", "    Print this help."});
}

// --- time and persistence ---

void Time(Ctx& ctx) {
  const int64_t micros = ctx.env().clock().UnixMicros();
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk(std::to_string(micros / 1'000'000));
  ctx.reply().Bulk(std::to_string(micros % 1'000'000));
}

void LastSave(Ctx& ctx) { ctx.reply().Integer(ctx.server().last_save_unix_seconds().load()); }

// A checkpoint of every shard. Suspends.
Status CheckpointAll(Server& server) {
  ShardSet& shards = server.shards();
  for (int i = 0; i < shards.size(); i++) {
    Result<bool> done = shards.RunOn<bool>(
        i,
        [](Shard& shard) -> Result<bool> {
          TK_RETURN_IF_ERROR_R(shard.engine().Checkpoint());
          return true;
        },
        /*interruptible=*/false);
    if (!done) return done.error();
  }
  server.last_save_unix_seconds() = server.env().clock().UnixMicros() / 1'000'000;
  return Status::Ok();
}

void Save(Ctx& ctx) {
  if (ctx.server().background_save_running().load()) {
    return ctx.reply().Error("ERR Background save already in progress");
  }
  if (Status saved = CheckpointAll(ctx.server()); !saved.ok()) return ctx.Error(saved);
  ctx.Ok();
}

void BgSave(Ctx& ctx) {
  if (ctx.argc() > 2 || (ctx.argc() == 2 && !ctx.Is(1, "SCHEDULE"))) return ctx.SyntaxError();
  Server& server = ctx.server();
  bool expected = false;
  if (!server.background_save_running().compare_exchange_strong(expected, true)) {
    return ctx.reply().Error("ERR Background save already in progress");
  }
  Executor& executor = ctx.env().CurrentExecutor();
  Log log = executor.log();
  executor.Spawn("bgsave", [&server, log] {
    Status saved = CheckpointAll(server);
    if (!saved.ok()) log.Error("background save failed: {}", saved.ToString());
    server.background_save_running() = false;
  });
  ctx.reply().SimpleString("Background saving started");
}

void Shutdown(Ctx& ctx) {
  bool abort = false;
  for (size_t i = 1; i < ctx.argc(); i++) {
    if (ctx.Is(i, "ABORT")) {
      abort = true;
    } else if (!ctx.Is(i, "NOSAVE") && !ctx.Is(i, "SAVE") && !ctx.Is(i, "NOW") &&
               !ctx.Is(i, "FORCE")) {
      return ctx.SyntaxError();
    }
  }
  if (abort) {
    if (ctx.argc() != 2) return ctx.SyntaxError();
    return ctx.reply().Error("ERR No shutdown in progress.");
  }
  // No reply: like Redis, the connection just closes. Every shard checkpoints as it closes.
  ctx.env().CurrentExecutor().log().Warn("SHUTDOWN requested by client {}", ctx.client()->peer);
  Env& env = ctx.env();
  env.Post(0, [&env] { env.RequestStop(); });
  ctx.close_after = true;
}

// --- SLOWLOG and LATENCY ---

void SlowlogGet(Ctx& ctx) {
  int64_t count = 10;
  if (ctx.argc() == 3) {
    std::optional<int64_t> parsed =
        ctx.IntInRange(2, -1, INT64_MAX, "ERR count should be greater than or equal to -1");
    if (!parsed) return;
    count = *parsed == -1 ? INT64_MAX : *parsed;
  }
  std::vector<SlowlogEntry> entries;
  ForEachExecutorState(ctx, [&entries](ExecutorState& state) {
    entries.insert(entries.end(), state.slowlog.begin(), state.slowlog.end());
  });
  std::sort(entries.begin(), entries.end(),
            [](const SlowlogEntry& a, const SlowlogEntry& b) { return a.id > b.id; });
  if (static_cast<int64_t>(entries.size()) > count) entries.resize(static_cast<size_t>(count));
  net::ReplyWriter& reply = ctx.reply();
  reply.ArrayHeader(static_cast<int64_t>(entries.size()));
  for (const SlowlogEntry& entry : entries) {
    reply.ArrayHeader(6);
    reply.Integer(static_cast<int64_t>(entry.id));
    reply.Integer(entry.unix_seconds);
    reply.Integer(entry.duration_us);
    reply.ArrayHeader(static_cast<int64_t>(entry.args.size()));
    for (const std::string& arg : entry.args) reply.Bulk(arg);
    reply.Bulk(entry.peer);
    reply.Bulk(entry.name);
  }
}

void SlowlogLen(Ctx& ctx) {
  int64_t length = 0;
  ForEachExecutorState(ctx, [&length](ExecutorState& state) {
    length += static_cast<int64_t>(state.slowlog.size());
  });
  ctx.reply().Integer(length);
}

void SlowlogReset(Ctx& ctx) {
  ForEachExecutorState(ctx, [](ExecutorState& state) { state.slowlog.clear(); });
  ctx.Ok();
}

void SlowlogHelp(Ctx& ctx) {
  WriteHelp(ctx, "SLOWLOG",
            {"GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
             "    Entries are made of:",
             "    id, timestamp, time in microseconds, arguments array, client IP and port,",
             "    client name", "LEN", "    Return the length of the slowlog.", "RESET",
             "    Reset the slowlog.", "HELP", "    Print this help."});
}

// Every executor's records of each event merged: the latest sample and the largest.
std::map<std::string, LatencyRecord, std::less<>> MergedLatency(Ctx& ctx) {
  std::map<std::string, LatencyRecord, std::less<>> merged;
  ForEachExecutorState(ctx, [&merged](ExecutorState& state) {
    for (const auto& [event, record] : state.latency) {
      LatencyRecord& into = merged[event];
      if (record.last_unix_seconds >= into.last_unix_seconds) {
        into.last_unix_seconds = record.last_unix_seconds;
        into.last_ms = record.last_ms;
      }
      into.max_ms = std::max(into.max_ms, record.max_ms);
      into.history.insert(into.history.end(), record.history.begin(), record.history.end());
    }
  });
  for (auto& [event, record] : merged) {
    std::sort(record.history.begin(), record.history.end());
  }
  return merged;
}

void LatencyLatest(Ctx& ctx) {
  auto merged = MergedLatency(ctx);
  ctx.reply().ArrayHeader(static_cast<int64_t>(merged.size()));
  for (const auto& [event, record] : merged) {
    ctx.reply().ArrayHeader(4);
    ctx.reply().Bulk(event);
    ctx.reply().Integer(record.last_unix_seconds);
    ctx.reply().Integer(record.last_ms);
    ctx.reply().Integer(record.max_ms);
  }
}

void LatencyHistory(Ctx& ctx) {
  auto merged = MergedLatency(ctx);
  auto it = merged.find(ctx.arg(2));
  if (it == merged.end()) return ctx.reply().ArrayHeader(0);
  ctx.reply().ArrayHeader(static_cast<int64_t>(it->second.history.size()));
  for (const auto& [when, ms] : it->second.history) {
    ctx.reply().ArrayHeader(2);
    ctx.reply().Integer(when);
    ctx.reply().Integer(ms);
  }
}

void LatencyReset(Ctx& ctx) {
  std::vector<std::string> events(ctx.args().begin() + 2, ctx.args().end());
  std::set<std::string> reset;
  ForEachExecutorState(ctx, [&](ExecutorState& state) {
    for (auto it = state.latency.begin(); it != state.latency.end();) {
      if (events.empty() || std::find(events.begin(), events.end(), it->first) != events.end()) {
        reset.insert(it->first);
        it = state.latency.erase(it);
      } else {
        ++it;
      }
    }
  });
  ctx.reply().Integer(static_cast<int64_t>(reset.size()));
}

void LatencyDoctor(Ctx& ctx) {
  auto merged = MergedLatency(ctx);
  std::string text;
  if (merged.empty()) {
    text = "I have no latency reports to show: the latency monitor is off "
           "(latency-monitor-threshold 0) or nothing was slower than its threshold.\n";
  }
  for (const auto& [event, record] : merged) {
    text += fmt::format("{}: {} latency spikes (latest {} ms, max {} ms).\n", event,
                        record.history.size(), record.last_ms, record.max_ms);
  }
  ctx.reply().Verbatim("txt", text);
}

void LatencyHelp(Ctx& ctx) {
  WriteHelp(ctx, "LATENCY",
            {"DOCTOR", "    Return a human readable latency analysis report.", "HISTORY <event>",
             "    Return time-latency samples for the <event> class.", "LATEST",
             "    Return the latest latency samples for all events.", "RESET [<event> ...]",
             "    Reset latency data of one or more <event> classes.",
             "    (default: reset all data for all event classes)", "HELP",
             "    Print this help."});
}

// --- MEMORY ---

// Bytes a key takes, estimated as Redis does for big values: its name, its metadata, and its
// elements, sampled (up to `samples`, 0: all) and scaled to the element count.
void MemoryUsage(Ctx& ctx) {
  int64_t samples = 5;  // Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES
  if (ctx.argc() == 5 && ctx.Is(3, "SAMPLES")) {
    std::optional<int64_t> parsed = ctx.IntInRange(4, 0, INT64_MAX, "ERR syntax error");
    if (!parsed) return;
    samples = *parsed;
  } else if (ctx.argc() != 3) {
    return ctx.SyntaxError();
  }
  tiers::TypedStore& store = ctx.store();
  const std::string& key = ctx.arg(2);
  auto meta = store.Lookup(ctx.db(), key);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().NullBulk();
  constexpr uint64_t kKeyOverhead = 56;  // metadata record: type, expiry, version, size, lengths
  uint64_t bytes = kKeyOverhead + key.size() + (*meta)->value.size();
  const uint64_t size = (*meta)->size;
  const uint64_t limit = samples == 0 ? UINT64_MAX : static_cast<uint64_t>(samples);
  uint64_t sampled = 0, sampled_bytes = 0;
  auto count = [&](std::string_view member, std::string_view value) {
    constexpr uint64_t kElementOverhead = 24;  // subkey prefix share and record header
    sampled++;
    sampled_bytes += kElementOverhead + member.size() + value.size();
    return sampled < limit;
  };
  Status scanned = Status::Ok();
  switch ((*meta)->type) {
    case tiers::RedisType::kHash:
    case tiers::RedisType::kSet:
      scanned = store.ScanMembers(ctx.db(), key, (*meta)->type, "", count);
      break;
    case tiers::RedisType::kList: {
      auto range = store.Range(ctx.db(), key, 0, static_cast<int64_t>(std::min<uint64_t>(limit, size)) - 1);
      if (!range) return ctx.Error(range.error());
      for (const std::string& value : *range) count("", value);
      break;
    }
    case tiers::RedisType::kZSet: {
      auto range = store.ZRange(ctx.db(), key, 0, static_cast<int64_t>(std::min<uint64_t>(limit, size)) - 1);
      if (!range) return ctx.Error(range.error());
      for (const auto& [member, score] : *range) count(member, "12345678");
      break;
    }
    default:
      break;
  }
  if (!scanned.ok()) return ctx.Error(scanned);
  if (sampled > 0) bytes += sampled_bytes * size / sampled;
  ctx.reply().Integer(static_cast<int64_t>(bytes));
}

void MemoryPurge(Ctx& ctx) {
  ForEachExecutorState(ctx, [&ctx](ExecutorState&) { ctx.env().ReleaseFreeMemory(); });
  ctx.Ok();
}

void MemoryStats(Ctx& ctx) {
  uint64_t cache = 0, memtables = 0, nodes = 0;
  for (int i = 0; i < ctx.shard_count(); i++) {
    auto stats = ctx.On<tiers::EngineStats>(i, [](Shard& shard) -> Result<tiers::EngineStats> {
      return shard.engine().stats();
    });
    TK_ASSERT(stats.has_value());
    cache += stats->cache.bytes;
    memtables += stats->memtable_bytes;
    nodes += stats->cache.nodes;
  }
  int64_t clients = 0;
  ForEachExecutorState(ctx, [&clients](ExecutorState& state) {
    clients += static_cast<int64_t>(state.clients.size());
  });
  net::ReplyWriter& reply = ctx.reply();
  reply.MapHeader(5);
  reply.Bulk("peak.allocated");  // not tracked separately: the current figure
  reply.Integer(static_cast<int64_t>(cache + memtables));
  reply.Bulk("total.allocated");
  reply.Integer(static_cast<int64_t>(cache + memtables));
  reply.Bulk("clients.normal");
  reply.Integer(clients);
  reply.Bulk("tierkv.page-cache");
  reply.Integer(static_cast<int64_t>(cache));
  reply.Bulk("tierkv.memtables");
  reply.Integer(static_cast<int64_t>(memtables));
  (void)nodes;
}

void MemoryDoctor(Ctx& ctx) {
  ctx.reply().Verbatim("txt",
                       "Hi Sam, tierkv keeps its data in the storage engine and its memory within "
                       "maxmemory; see INFO tiers for the page cache and memtables.\n");
}

void MemoryMallocStats(Ctx& ctx) {
  ctx.reply().Verbatim("txt", "Stats not supported for the current allocator\n");
}

void MemoryHelp(Ctx& ctx) {
  WriteHelp(ctx, "MEMORY",
            {"DOCTOR", "    Return memory problems reports.", "MALLOC-STATS",
             "    Return internal statistics report from the memory allocator.", "PURGE",
             "    Attempt to purge dirty pages for reclamation by the allocator.", "STATS",
             "    Return information about the memory usage of the server.",
             "USAGE <key> [SAMPLES <count>]",
             "    Return memory in bytes used by <key> and its value. Nested values are",
             "    sampled up to <count> times (default: 5, 0 means sample all).", "HELP",
             "    Print this help."});
}

// --- scripting and DEBUG ---

void NotSupported(Ctx& ctx) {
  ctx.reply().Error("ERR " + ToLower(ctx.spec().name) +
                    " is not supported by tierkv: it runs no scripts or functions");
}

void FunctionFlush(Ctx& ctx) {
  if (ctx.argc() > 3 || (ctx.argc() == 3 && !ctx.Is(2, "ASYNC") && !ctx.Is(2, "SYNC"))) {
    return ctx.SyntaxError();
  }
  ctx.Ok();  // there are never any functions to flush
}

void FunctionOther(Ctx& ctx) {
  ctx.reply().Error("ERR FUNCTION " + ToLower(ctx.arg(1)) +
                    " is not supported by tierkv: it runs no scripts or functions");
}

void DebugSleep(Ctx& ctx) {
  std::optional<double> seconds = ctx.Float(2);
  if (!seconds) return;
  if (*seconds > 0) {
    auto pause = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*seconds));
    (void)ctx.env().CurrentExecutor().Sleep(pause);
  }
  ctx.Ok();
}

CommandSpec Row(std::string_view name, int arity, uint32_t flags, Handler handler,
                std::string_view since, std::string_view summary, uint64_t categories = 0) {
  return MakeCommand(name, arity, flags, categories, {}, handler, "server", since, summary);
}

CommandSpec Container(std::string_view name, uint32_t flags, uint64_t categories,
                      std::string_view since, std::string_view summary,
                      std::vector<CommandSpec> subcommands, Handler handler = nullptr,
                      std::string_view group = "server") {
  CommandSpec spec = MakeCommand(name, handler == nullptr ? -2 : -1, flags, categories, {},
                                 handler, group, since, summary);
  spec.subcommands = std::move(subcommands);
  return spec;
}

}  // namespace

void RegisterServerCommands(CommandTable& table) {
  constexpr uint32_t kLoadStale = kCmdLoading | kCmdStale;
  constexpr uint32_t kAdmin = kCmdAdmin | kCmdNoScript;
  table.Add(Container(
      "command", kLoadStale, kAclConnection, "2.8.13", "Get array of Redis command details",
      {Row("count", 2, kLoadStale, CommandCount, "2.8.13", "Get total number of Redis commands",
           kAclConnection),
       Row("docs", -2, kLoadStale, CommandDocs, "7.0.0", "Get array of specific Redis command documentation",
           kAclConnection),
       Row("getkeys", -3, kLoadStale, CommandGetKeys, "2.8.13", "Extract keys given a full Redis command",
           kAclConnection),
       Row("help", 2, kLoadStale, CommandHelp, "5.0.0", "Show helpful text about the different subcommands",
           kAclConnection),
       Row("info", -2, kLoadStale, CommandInfo, "2.8.13", "Get array of specific Redis command details, or all when no argument is given",
           kAclConnection),
       Row("list", -2, kLoadStale, CommandList, "7.0.0", "Get an array of Redis command names",
           kAclConnection)},
      Command));
  table.Add(Container(
      "config", 0, 0, "2.0.0", "A container for server configuration commands",
      {Row("get", -3, kAdmin | kLoadStale, ConfigGet, "2.0.0", "Get the values of configuration parameters"),
       Row("set", -4, kAdmin | kLoadStale, ConfigSet, "2.0.0", "Set configuration parameters to the given values"),
       Row("resetstat", 2, kAdmin | kLoadStale, ConfigResetStat, "2.0.0", "Reset the stats returned by INFO"),
       Row("rewrite", 2, kAdmin | kLoadStale, ConfigRewrite, "2.8.0", "Rewrite the configuration file with the in memory configuration"),
       Row("help", 2, kLoadStale, ConfigHelp, "5.0.0", "Show helpful text about the different subcommands")}));
  table.Add(Row("time", 1, kLoadStale | kCmdFast, Time, "2.6.0", "Return the current server time"));
  table.Add(Row("lastsave", 1, kLoadStale | kCmdFast, LastSave, "1.0.0",
                "Get the UNIX time stamp of the last successful save to disk", kAclAdmin | kAclDangerous));
  table.Add(Row("save", 1, kAdmin, Save, "1.0.0", "Synchronously save the dataset to disk"));
  table.Add(Row("bgsave", -1, kAdmin, BgSave, "1.0.0", "Asynchronously save the dataset to disk"));
  table.Add(Row("shutdown", -1, kAdmin | kLoadStale | kCmdClientState, Shutdown, "1.0.0",
                "Synchronously save the dataset to disk and then shut down the server"));
  table.Add(Container(
      "slowlog", 0, 0, "2.2.12", "A container for slow log commands",
      {Row("get", -2, kAdmin | kLoadStale, SlowlogGet, "2.2.12", "Get the slow log's entries"),
       Row("len", 2, kAdmin | kLoadStale, SlowlogLen, "2.2.12", "Get the slow log's length"),
       Row("reset", 2, kAdmin | kLoadStale, SlowlogReset, "2.2.12", "Clear all entries from the slow log"),
       Row("help", 2, kLoadStale, SlowlogHelp, "6.2.0", "Show helpful text about the different subcommands")}));
  table.Add(Container(
      "latency", 0, 0, "2.8.13", "A container for latency diagnostics commands",
      {Row("latest", 2, kAdmin | kLoadStale, LatencyLatest, "2.8.13", "Return the latest latency samples for all events"),
       Row("history", 3, kAdmin | kLoadStale, LatencyHistory, "2.8.13", "Return timestamp-latency samples for the event"),
       Row("reset", -2, kAdmin | kLoadStale, LatencyReset, "2.8.13", "Reset latency data for one or more events"),
       Row("doctor", 2, kAdmin | kLoadStale, LatencyDoctor, "2.8.13", "Return a human readable latency analysis report"),
       Row("help", 2, kLoadStale, LatencyHelp, "2.8.13", "Show helpful text about the different subcommands")}));
  CommandSpec usage = MakeCommand("usage", -3, kCmdReadonly, kAclKeyspace, {2, 2, 1}, MemoryUsage,
                                  "server", "4.0.0", "Estimate the memory usage of a key");
  table.Add(Container(
      "memory", 0, 0, "4.0.0", "A container for memory diagnostics commands",
      {std::move(usage),
       Row("stats", 2, 0, MemoryStats, "4.0.0", "Show memory usage details"),
       Row("doctor", 2, 0, MemoryDoctor, "4.0.0", "Outputs memory problems report"),
       Row("purge", 2, 0, MemoryPurge, "4.0.0", "Ask the allocator to release memory"),
       Row("malloc-stats", 2, 0, MemoryMallocStats, "4.0.0", "Show allocator internal stats"),
       Row("help", 2, kLoadStale, MemoryHelp, "4.0.0", "Show helpful text about the different subcommands")}));
  std::vector<CommandSpec> function_subs;
  function_subs.push_back(MakeCommand("flush", -2, kCmdWrite | kCmdNoScript, kAclScripting, {},
                                      FunctionFlush, "scripting", "7.0.0", "Deleting all functions"));
  for (std::string_view sub : {"delete", "dump", "kill", "list", "load", "restore", "stats", "help"}) {
    function_subs.push_back(MakeCommand(sub, -2, kCmdNoScript, kAclScripting, {}, FunctionOther,
                                        "scripting", "7.0.0", "Not supported by tierkv"));
  }
  table.Add(Container("function", 0, kAclScripting, "7.0.0", "A container for function commands",
                      std::move(function_subs), nullptr, "scripting"));
  for (std::string_view name : {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"}) {
    table.Add(MakeCommand(name, -3, kCmdNoScript, kAclScripting, {}, NotSupported, "scripting",
                          "2.6.0", "Not supported by tierkv (no scripting)"));
  }
  table.Add(MakeCommand("script", -2, kCmdNoScript, kAclScripting, {}, NotSupported, "scripting",
                        "2.6.0", "Not supported by tierkv (no scripting)"));
  std::vector<CommandSpec> debug_subs;
  debug_subs.push_back(Row("sleep", 3, kAdmin, DebugSleep, "1.0.0", "Sleep for a number of seconds"));
  table.Add(Container("debug", kAdmin | kCmdLoading | kCmdStale, 0, "1.0.0",
                      "A container for debugging commands", std::move(debug_subs)));
}

}  // namespace tierkv::server
