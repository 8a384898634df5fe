// INFO: Redis's sections in Redis's "field:value" lines, plus tierkv's own sections on the
// storage tiers, the WAL and the shard threads.
//
// Figures are gathered when asked for, one message pair per executor: the counters themselves
// live where they change (ExecutorState, each engine's stats) and are never shared. Sections
// Redis has that mean nothing here (modules, errorstats) are answered empty rather than made
// up; fields that would need an OS call outside the seam (process id, CPU usage) are left out.
#include <fmt/core.h>

#include <array>

#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

struct Gathered {
  std::vector<tiers::EngineStats> engines;
  int64_t clients = 0;
  int64_t blocked = 0;
  uint64_t expired = 0;  // by active expiry
  uint64_t commands = 0;
  uint64_t connections = 0;
  uint64_t rejected = 0;
  std::vector<std::pair<uint64_t, int64_t>> per_thread;  // (commands, clients)
};

Gathered Gather(Ctx& ctx) {
  Gathered g;
  ctx.server().ForEachExecutor([&g](ExecutorState& state) {
    g.clients += static_cast<int64_t>(state.clients.size());
    g.blocked += state.blocked_clients;
    g.commands += state.commands_processed;
    g.connections += state.connections_received;
    g.rejected += state.rejected_connections;
    g.per_thread.emplace_back(state.commands_processed, static_cast<int64_t>(state.clients.size()));
  });
  for (int i = 0; i < ctx.shard_count(); i++) {
    auto stats = ctx.On<tiers::EngineStats>(
        i, [](Shard& shard) -> Result<tiers::EngineStats> { return shard.engine().stats(); });
    TK_ASSERT(stats.has_value());
    g.engines.push_back(*stats);
    auto expired = ctx.On<uint64_t>(
        i, [](Shard& shard) -> Result<uint64_t> { return shard.store().expired_keys(); });
    TK_ASSERT(expired.has_value());
    g.expired += *expired;
  }
  return g;
}

std::string Human(uint64_t bytes) {
  constexpr std::array<std::string_view, 5> kUnits = {"B", "K", "M", "G", "T"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < kUnits.size()) {
    value /= 1024;
    unit++;
  }
  return unit == 0 ? fmt::format("{}B", bytes) : fmt::format("{:.2f}{}", value, kUnits[unit]);
}

template <typename Field>
uint64_t Sum(const Gathered& g, Field field) {
  uint64_t total = 0;
  for (const tiers::EngineStats& stats : g.engines) total += field(stats);
  return total;
}

std::string Ratio(uint64_t part, uint64_t whole) {
  return whole == 0 ? "0.0000" : fmt::format("{:.4f}", static_cast<double>(part) / static_cast<double>(whole));
}

void ServerSection(Ctx& ctx, std::string& out) {
  const Config& config = ctx.server().local().config;
  const int64_t uptime_s =
      std::chrono::duration_cast<seconds>(ctx.env().Now() - ctx.server().started()).count();
  out += "# Server\r\n";
  out += fmt::format("redis_version:{}\r\n", kRedisCompatVersion);
  out += "redis_mode:standalone\r\n";
  out += "tierkv_engine:tiered (pages on SSD, page cache in DRAM/PMem, cold tier)\r\n";
  out += "arch_bits:64\r\nmultiplexing_api:io_uring\r\n";
  out += fmt::format("run_id:{:016x}{:016x}\r\n", ctx.server().run_id(), ~ctx.server().run_id());
  out += fmt::format("tcp_port:{}\r\n", config.Int("port"));
  out += fmt::format("uptime_in_seconds:{}\r\nuptime_in_days:{}\r\n", uptime_s, uptime_s / 86400);
  out += fmt::format("hz:{}\r\n", config.Int("hz"));
  out += fmt::format("executor_threads:{}\r\n", ctx.env().ExecutorCount());
  out += fmt::format("config_file:{}\r\n", config.config_file());
}

void ClientsSection(Ctx& ctx, const Gathered& g, std::string& out) {
  out += "# Clients\r\n";
  out += fmt::format("connected_clients:{}\r\n", g.clients);
  out += fmt::format("maxclients:{}\r\n", ctx.server().local().config.Int("maxclients"));
  out += fmt::format("blocked_clients:{}\r\n", g.blocked);
}

void MemorySection(Ctx& ctx, const Gathered& g, std::string& out) {
  const uint64_t cache = Sum(g, [](const auto& s) { return s.cache.bytes + s.rows.bytes; });
  const uint64_t memtables = Sum(g, [](const auto& s) { return s.memtable_bytes; });
  const uint64_t used = cache + memtables;
  const auto maxmemory = static_cast<uint64_t>(ctx.server().local().config.Int("maxmemory"));
  out += "# Memory\r\n";
  out += fmt::format("used_memory:{}\r\nused_memory_human:{}\r\n", used, Human(used));
  out += fmt::format("maxmemory:{}\r\nmaxmemory_human:{}\r\n", maxmemory, Human(maxmemory));
  out += "maxmemory_policy:noeviction\r\n";
  out += fmt::format("tierkv_page_cache_bytes:{}\r\ntierkv_memtable_bytes:{}\r\n", cache, memtables);
}

void PersistenceSection(Ctx& ctx, const Gathered& g, std::string& out) {
  out += "# Persistence\r\n";
  out += "loading:0\r\n";
  out += fmt::format("rdb_bgsave_in_progress:{}\r\n",
                     ctx.server().background_save_running().load() ? 1 : 0);
  out += fmt::format("rdb_last_save_time:{}\r\n", ctx.server().last_save_unix_seconds().load());
  out += "aof_enabled:1\r\n";  // the WAL plays the AOF's part: every write is logged
  out += fmt::format("aof_fsync:{}\r\n", ctx.server().local().config.String("appendfsync"));
  out += fmt::format("tierkv_checkpoints:{}\r\n", Sum(g, [](const auto& s) { return s.checkpoints; }));
}

void StatsSection(const Gathered& g, std::string& out) {
  out += "# Stats\r\n";
  out += fmt::format("total_connections_received:{}\r\n", g.connections);
  out += fmt::format("total_commands_processed:{}\r\n", g.commands);
  out += fmt::format("rejected_connections:{}\r\n", g.rejected);
  out += fmt::format("expired_keys:{}\r\nevicted_keys:0\r\n", g.expired);
}

void ReplicationSection(std::string& out) {
  out += "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:0\r\n";
}

void KeyspaceSection(std::string& out) { out += "# Keyspace\r\n"; }

void TiersSection(const Gathered& g, std::string& out) {
  const uint64_t hits = Sum(g, [](const auto& s) { return s.cache.hits; });
  const uint64_t misses = Sum(g, [](const auto& s) { return s.cache.misses; });
  const uint64_t pmem_hits = Sum(g, [](const auto& s) { return s.pmem.hits; });
  const uint64_t pmem_misses = Sum(g, [](const auto& s) { return s.pmem.misses; });
  out += "# Tiers\r\n";
  out += fmt::format("cache_hits:{}\r\ncache_misses:{}\r\ncache_hit_ratio:{}\r\n", hits, misses,
                     Ratio(hits, hits + misses));
  out += fmt::format("cache_bytes:{}\r\ncache_inner_bytes:{}\r\ncache_nodes:{}\r\ncache_evictions:{}\r\n",
                     Sum(g, [](const auto& s) { return s.cache.bytes; }),
                     Sum(g, [](const auto& s) { return s.cache.inner_bytes; }),
                     Sum(g, [](const auto& s) { return s.cache.nodes; }),
                     Sum(g, [](const auto& s) { return s.cache.evictions; }));
  const uint64_t row_hits = Sum(g, [](const auto& s) { return s.rows.hits; });
  const uint64_t row_misses = Sum(g, [](const auto& s) { return s.rows.misses; });
  out += fmt::format("row_cache_hits:{}\r\nrow_cache_misses:{}\r\nrow_cache_hit_ratio:{}\r\n"
                     "row_cache_bytes:{}\r\nrow_cache_entries:{}\r\n",
                     row_hits, row_misses, Ratio(row_hits, row_hits + row_misses),
                     Sum(g, [](const auto& s) { return s.rows.bytes; }),
                     Sum(g, [](const auto& s) { return s.rows.entries; }));
  out += fmt::format("pmem_hits:{}\r\npmem_misses:{}\r\npmem_hit_ratio:{}\r\npmem_slots:{}\r\npmem_used:{}\r\n",
                     pmem_hits, pmem_misses, Ratio(pmem_hits, pmem_hits + pmem_misses),
                     Sum(g, [](const auto& s) { return s.pmem.slots; }),
                     Sum(g, [](const auto& s) { return s.pmem.used; }));
  out += fmt::format("ssd_page_reads:{}\r\nleaf_filter_skips:{}\r\nssd_file_pages:{}\r\nssd_used_pages:{}\r\n",
                     Sum(g, [](const auto& s) { return s.page_reads; }),
                     Sum(g, [](const auto& s) { return s.leaf_filter_skips; }),
                     Sum(g, [](const auto& s) { return s.file_pages; }),
                     Sum(g, [](const auto& s) { return s.used_pages; }));
  out += fmt::format("cold_moved_out:{}\r\ncold_promoted:{}\r\ncold_reads:{}\r\ncold_raw_bytes:{}\r\ncold_stored_bytes:{}\r\n",
                     Sum(g, [](const auto& s) { return s.cold.moved_out; }),
                     Sum(g, [](const auto& s) { return s.cold.promoted; }),
                     Sum(g, [](const auto& s) { return s.cold.reads; }),
                     Sum(g, [](const auto& s) { return s.cold.raw_bytes; }),
                     Sum(g, [](const auto& s) { return s.cold.stored_bytes; }));
}

void WalSection(const Gathered& g, std::string& out) {
  out += "# WAL\r\n";
  out += fmt::format("wal_records:{}\r\nwal_bytes:{}\r\nwal_syncs:{}\r\nwal_segments:{}\r\n",
                     Sum(g, [](const auto& s) { return s.wal.records; }),
                     Sum(g, [](const auto& s) { return s.wal.bytes; }),
                     Sum(g, [](const auto& s) { return s.wal.syncs; }),
                     Sum(g, [](const auto& s) { return s.wal.segments; }));
}

void ThreadsSection(Ctx& ctx, const Gathered& g, std::string& out) {
  out += "# Threads\r\n";
  const int shards = ctx.shard_count();
  for (size_t i = 0; i < g.per_thread.size(); i++) {
    const int shard = static_cast<int>(i);
    const uint32_t first = FirstSlotOf(shard, shards);
    const uint32_t end = shard + 1 < shards ? FirstSlotOf(shard + 1, shards) : kSlots;
    const tiers::EngineStats& engine = g.engines[i];
    out += fmt::format(
        "thread{}:slots={}-{},clients={},commands={},keys_in_tree={},memtable_entries={},cache_hit_ratio={}\r\n",
        i, first, end - 1, g.per_thread[i].second, g.per_thread[i].first, engine.live_entries,
        engine.memtable_entries,
        Ratio(engine.cache.hits, engine.cache.hits + engine.cache.misses));
  }
}

void Info(Ctx& ctx) {
  std::vector<std::string> wanted;
  bool all = ctx.argc() == 1;
  for (size_t i = 1; i < ctx.argc(); i++) {
    std::string section = ToLower(ctx.arg(i));
    if (section == "all" || section == "everything" || section == "default") {
      all = true;
    } else {
      wanted.push_back(std::move(section));
    }
  }
  auto want = [&](std::string_view section) {
    if (all) return true;
    return std::find(wanted.begin(), wanted.end(), section) != wanted.end();
  };
  Gathered g = Gather(ctx);
  std::string out;
  auto section = [&](std::string_view name, const std::function<void()>& write) {
    if (!want(name)) return;
    if (!out.empty()) out += "\r\n";
    write();
  };
  section("server", [&] { ServerSection(ctx, out); });
  section("clients", [&] { ClientsSection(ctx, g, out); });
  section("memory", [&] { MemorySection(ctx, g, out); });
  section("persistence", [&] { PersistenceSection(ctx, g, out); });
  section("stats", [&] { StatsSection(g, out); });
  section("replication", [&] { ReplicationSection(out); });
  section("tiers", [&] { TiersSection(g, out); });
  section("wal", [&] { WalSection(g, out); });
  section("threads", [&] { ThreadsSection(ctx, g, out); });
  section("keyspace", [&] { KeyspaceSection(out); });
  ctx.reply().Verbatim("txt", out);
}

}  // namespace

void RegisterInfoCommand(CommandTable& table) {
  table.Add(MakeCommand("info", -1, kCmdLoading | kCmdStale, kAclDangerous, {}, Info, "server",
                        "1.0.0", "Get information and statistics about the server"));
}

}  // namespace tierkv::server
