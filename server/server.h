// The node's command layer: clients, the dispatcher, MULTI/EXEC and WATCH, per-executor state.
//
// One Server per node, built on executor 0 and shared by every executor; everything mutable in it
// is per executor (ExecutorState, indexed by the executor running the caller), so nothing is
// locked across threads. A client lives on the executor that accepted its connection
// (ClientState); its commands are dispatched from there (command.h says where they run).
//
// Atomicity: every command locks its keys on their owners (server/key_locks.h) for its whole
// run; EXEC locks the keys of every queued command and every WATCHed key at once before it checks
// the WATCHes and runs the queue, so a transaction is atomic and isolated across shards and no
// command of another client interleaves with it on any of its keys.
// WATCH: the owner of a watched key keeps the watching clients' flags; Server::KeyChanged on the
// owner sets them. The flag is an atomic because the client reads it from its own executor.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/env.h"
#include "net/connection.h"
#include "net/resp.h"
#include "server/acl.h"
#include "server/command.h"
#include "server/config.h"
#include "server/key_locks.h"
#include "server/shards.h"

namespace tierkv::server {

// The Redis version tierkv answers as (HELLO, INFO): the command surface it implements.
inline constexpr std::string_view kRedisCompatVersion = "7.0.15";

// A WATCHing client's "a watched key changed" flag, set on the keys' owners.
using WatchFlag = std::shared_ptr<std::atomic<bool>>;

struct ClientState {
  uint64_t id = 0;
  std::string peer;  // "ip:port"
  std::string name;  // CLIENT SETNAME
  int db = 0;
  int protocol = 2;  // 2 or 3 (HELLO)
  bool authenticated = false;
  std::string user = "default";
  TimePoint created{};
  TimePoint last_interaction{};
  std::string last_command;  // lower-case full name, for CLIENT LIST
  // MULTI/EXEC
  bool in_multi = false;
  bool multi_failed = false;  // a command was refused while queuing: EXEC aborts
  std::vector<std::vector<std::string>> queued;
  // WATCH: the keys (db, key) and the flag their owners set when one changes.
  std::vector<std::pair<int, std::string>> watched;
  WatchFlag watch_flag;
  // Set by CLIENT KILL; the connection ends after its current command.
  bool killed = false;
  // Set by the node (on the client's executor): an out-of-band message to the client (pub/sub,
  // MONITOR); false when it would pass the client's output buffer limit. And: end the
  // connection now (cancels its fiber). Tests leave them unset (pushes are then kept in `pushed`).
  std::function<bool(std::string bytes)> push;
  std::function<void()> kill;
  std::vector<std::string> pushed;
  // Pub/sub subscriptions and MONITOR.
  std::set<std::string> channels;
  std::set<std::string> patterns;
  bool monitor = false;
  // CLIENT REPLY: kSkip drops the next command's reply, kOff every reply until ON.
  enum class ReplyMode { kOn, kOff, kSkip, kSkipNext };
  ReplyMode reply_mode = ReplyMode::kOn;
  bool no_evict = false;
  std::string local_address;  // laddr of CLIENT LIST
  // What the replies not yet written wait for (Server::AwaitDurable).
  DurabilityNeeds durability;

  size_t subscriptions() const { return channels.size() + patterns.size(); }
};

// A client parked by a blocking command (Ctx::Block), shared by the client's executor (its
// home) and the owners of the keys it waits on, whose wait lists hold it in arrival order.
// `claimed` decides who answers: an owner that serves it, or the home once the deadline passes
// or the client leaves. Fields below "home only" are touched on the home executor only; the rest
// are written before the wake-up message that hands them to the home.
struct BlockedClient {
  const CommandSpec* spec = nullptr;
  std::vector<std::string> args;
  int db = 0;
  int protocol = 2;
  int home = 0;
  // All keys on one shard: that shard's owner re-runs the command itself when a key changes
  // (lock_ids are its locks). Else the owner only wakes the home, which re-runs it.
  bool single_shard = true;
  LockIds lock_ids;
  std::atomic<bool> claimed{false};
  std::atomic<bool> abandoned{false};  // the home stopped waiting (deadline or disconnect)
  enum class Wake { kServed, kRetry, kTimedOut };
  Wake wake = Wake::kServed;
  std::string reply;  // kServed: the reply the owner wrote
  DurabilityNeeds durability;  // kServed: what the reply needs durable (on the owner)
  // home only:
  Completion* waiter = nullptr;
  bool woken = false;
};
using BlockedPtr = std::shared_ptr<BlockedClient>;

struct SlowlogEntry {
  uint64_t id = 0;
  int64_t unix_seconds = 0;
  int64_t duration_us = 0;
  std::vector<std::string> args;  // at most 32, each cut to 128 bytes, as Redis keeps them
  std::string peer;
  std::string name;
};

// LATENCY's record of one event ("command").
struct LatencyRecord {
  int64_t last_unix_seconds = 0;
  int64_t last_ms = 0;
  int64_t max_ms = 0;
  std::deque<std::pair<int64_t, int64_t>> history;  // (unix seconds, ms), at most 160 like Redis
};

// What one executor keeps for the command layer. Only its own executor touches it.
class ExecutorState {
 public:
  ExecutorState(Executor& executor, const Config& config) : locks(executor), config(config) {}

  KeyLockTable locks;
  // This executor's copy of the configuration: CONFIG SET changes every copy.
  Config config;
  // Clients connected to this executor, by id.
  std::unordered_map<uint64_t, ClientState*> clients;
  // Watched keys of this shard (LockId) -> the watchers' flags.
  std::unordered_map<std::string, std::vector<WatchFlag>> watches;
  uint64_t commands_processed = 0;
  // When the last command run here ended, and this executor's fiber-switch count then: a command
  // that starts with no switch since (the next one of a pipeline: only parsing ran in between)
  // takes that reading as its start (Server::CommandStart), so a pipelined command costs one
  // clock read, not two.
  TimePoint last_end{};
  uint64_t last_end_switches = UINT64_MAX;
  uint64_t connections_received = 0;
  uint64_t rejected_connections = 0;
  // Blocking commands: the clients parked on this shard's keys (LockId), first come first; and
  // the keys among them changed since the last serving pass.
  std::unordered_map<std::string, std::deque<BlockedPtr>> blocked;
  std::vector<std::string> ready;
  bool serving_blocked = false;
  int64_t blocked_clients = 0;  // clients of this executor parked now
  // Pub/sub: this executor's subscribers (client ids) by channel and by pattern; MONITORs.
  std::unordered_map<std::string, std::set<uint64_t>> channels;
  std::map<std::string, std::set<uint64_t>> patterns;
  std::set<uint64_t> monitors;
  // CLIENT PAUSE: commands (writes only, unless pause_all) wait until then.
  TimePoint paused_until{};
  bool pause_all = false;
  // Newest last; at most slowlog-max-len.
  std::deque<SlowlogEntry> slowlog;
  std::map<std::string, LatencyRecord, std::less<>> latency;
  // ACL users (server/acl.h): this executor's copy; read it through AclOf(), which keeps the
  // default user in line with config's requirepass.
  AclState acl;
};

class Server {
 public:
  Server(Env& env, ShardSet& shards, const Config& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Env& env() { return env_; }
  ShardSet& shards() { return shards_; }
  const CommandTable& table() const { return table_; }
  // The calling executor's state.
  ExecutorState& local();
  ExecutorState& state_of(int executor) { return *states_[executor]; }
  TimePoint started() const { return started_; }
  uint64_t run_id() const { return run_id_; }
  // Unix seconds of the last completed SAVE/BGSAVE (or of the start).
  std::atomic<int64_t>& last_save_unix_seconds() { return last_save_unix_seconds_; }
  std::atomic<bool>& background_save_running() { return background_save_running_; }
  // A new slow-log entry id (node-wide order).
  uint64_t NextSlowlogId() { return next_slowlog_id_.fetch_add(1, std::memory_order_relaxed); }

  // The command (and subcommand) `args` names, without writing errors: nullptr when unknown or
  // when its arity does not fit. `parent` gets the container of a subcommand.
  const CommandSpec* Find(const std::vector<std::string>& args, const CommandSpec** parent) const;
  // The key positions of a command; false with Redis's error text in `error` when they cannot be
  // found (a bad numkeys).
  static bool KeysOf(const CommandSpec& spec, const std::vector<std::string>& args,
                     KeyPositionList& positions, std::string& error);

  // Runs fn(state of executor i) on each executor, one after another in index order (so callers
  // may gather into their own variables). Suspends, uninterruptibly.
  void ForEachExecutor(const std::function<void(ExecutorState&)>& fn);

  // Connects the shards' background work to the command layer (keys deleted by active expiry
  // invalidate WATCHes and publish "expired"). Call once, before serving. Suspends.
  void Start();
  // Waits for background work (BGSAVE, messages this Server posted and that have not run yet:
  // lock releases, notifications) to end: call after the last client stopped and before the
  // shards close and the Server is destroyed. Suspends.
  void Stop();
  // Env::Post for work that uses this Server: counted, so Stop can wait for it.
  void PostTracked(int executor, std::function<void()> fn);

  // Counts a new connection against maxclients: false (counted as rejected) when the node is
  // full; the caller answers Redis's error and closes. Each admitted one must be Unregistered.
  bool Admit();
  // A new client on the calling executor (registered in its ExecutorState until Unregister).
  std::unique_ptr<ClientState> Register(std::string peer);
  // Drops the client's registrations (WATCHes, its ExecutorState entry). Suspends.
  void Unregister(ClientState& client);

  // Runs one command of `client` on the client's executor and appends its reply to `out` in the
  // client's protocol. Suspends (the command may run on other executors meanwhile).
  net::AfterReply Execute(ClientState& client, std::vector<std::string>& args, std::string& out);
  // Waits until every write the client's commands since the last call made or read is durable
  // per appendfsync (client.durability); the connection calls it before it writes replies, so a
  // pipeline's writes cost one group commit and no reply ever shows a write a crash may lose.
  // Errors: a WAL failure (the replies must not go out: the node then stops), cancellation.
  // Suspends.
  Status AwaitDurable(ClientState& client);
  // The connection's last step before it writes the replies in `out`: AwaitDurable; when that
  // fails, the replies are replaced by one error (nothing when the client was cancelled) and the
  // connection closes: nothing they acknowledge may be shown. Suspends.
  net::AfterReply BeforeReply(ClientState& client, std::string& out);
  // The connection's hint with the next command of a pipelined batch, given just before the
  // current one runs: starts loading the next one's first argument's metadata slots, and the
  // records the current one's slots (loaded since its own hint) point to, when the argument is a
  // key this executor owns (most commands name a key first; a wrong guess costs a cache line).
  // Never suspends.
  void Prefetch(const ClientState& client, const std::vector<std::string>& current,
                const std::vector<std::string>& next);

  // Runs on the owner of (db, key) after a command changed it: invalidates WATCHes and wakes
  // what depends on the key (see Ctx::Changed).
  void KeyChanged(int db, std::string_view key, int notify, std::string_view event);
  // Every key of `db` on the calling executor's shard changed (FLUSHDB); db -1: every db.
  void DbChanged(int db);

  // --- pub/sub (server/cmd_pubsub.cc) ---
  // Delivers `message` on `channel` to every subscriber of every executor; returns how many
  // clients got it. Suspends.
  int64_t Publish(const std::string& channel, const std::string& message);
  // The same without waiting for the count (keyspace notifications from a shard). Never suspends.
  void PublishAsync(const std::string& channel, const std::string& message);
  // This executor's part of a publish.
  int64_t DeliverLocal(const std::string& channel, const std::string& message);
  // Hands `bytes` to the client (ClientState::push); ends the client when it is over its limit.
  void PushTo(ClientState& client, std::string bytes);
  // Drops the client's subscriptions and MONITOR on this executor.
  void UnsubscribeAll(ClientState& client);
  // MONITOR: clients watching every command.
  std::atomic<int>& monitor_count() { return monitor_count_; }

 private:
  struct Resolved {
    const CommandSpec* spec = nullptr;
    const CommandSpec* parent = nullptr;  // the container of a subcommand
  };
  // Finds the command (and subcommand) and checks arity. On failure writes the error and
  // returns a null spec.
  Resolved Resolve(std::vector<std::string>& args, net::ReplyWriter& reply);
  // The key positions of a resolved command; false (error written) when they cannot be found.
  bool KeyPositions(const CommandSpec& spec, const std::vector<std::string>& args,
                    KeyPositionList& positions, net::ReplyWriter& reply);
  struct DispatchResult {
    bool close = false;  // QUIT
    // Set when the command parked the client (Ctx::Block): wait with WaitBlocked.
    BlockedPtr blocked;
    Deadline deadline = kNoDeadline;
    Ctx::TimeoutReply on_timeout = Ctx::TimeoutReply::kNullArray;
  };
  struct RunResult {
    bool close = false;
    std::optional<Ctx::BlockRequest> block;
    DurabilityNeeds durability;
  };
  // Dispatch, timed for SLOWLOG and LATENCY from `start` (a clock read the caller already made:
  // each costs ~30 ns in a VM, several per command showed in profiles).
  DispatchResult TimedDispatch(const CommandSpec& spec, const CommandSpec* parent, ClientState& client,
                     std::vector<std::string>& args, net::ReplyWriter& reply, bool locked,
                     TimePoint start);
  void RecordSlow(const CommandSpec& spec, ClientState& client, const std::vector<std::string>& args,
                  Duration took);
  // Runs the command where its keys live. `locked`: the caller (EXEC) already holds every lock.
  DispatchResult Dispatch(const CommandSpec& spec, ClientState& client, std::vector<std::string>& args,
                net::ReplyWriter& reply, bool locked);
  // Runs the handler on the calling executor.
  RunResult RunHere(const CommandSpec& spec, std::vector<std::string>& args,
                    net::ReplyWriter& reply, int db, ClientState* client, bool may_block = false);
  // --- blocking commands (server/blocking.cc) ---
  // A parked client for `request` of the command `spec args` of `client`.
  BlockedPtr NewBlocked(const CommandSpec& spec, const std::vector<std::string>& args,
                        const ClientState& client, int home, bool single_shard,
                        LockIds lock_ids);
  // Adds `blocked` to the wait lists of those of `keys` this executor owns. Under their locks.
  void Park(const BlockedPtr& blocked, const std::vector<std::string>& keys);
  // The same for every key, on each key's owner. Suspends (under the command's locks).
  void ParkEverywhere(const BlockedPtr& blocked, const std::vector<std::string>& keys);
  // Serves the clients parked on this executor's changed keys, in arrival order. Call with no
  // key locks held. Suspends.
  void ServeBlocked();
  // The home's side: waits for the parked client to be served, its deadline, or its departure,
  // re-running the command when asked to. Appends the reply. Suspends.
  void WaitBlocked(const CommandSpec& spec, ClientState& client, std::vector<std::string>& args,
                   net::ReplyWriter& reply, DispatchResult parked);
  void WakeHome(const BlockedPtr& blocked, BlockedClient::Wake wake);
  // Locks the ids of each shard (shard order) / unlocks them. `whole`: every shard as a whole.
  struct ShardLocks {
    int shard;
    LockIds ids;
  };
  using LockPlan = boost::container::small_vector<ShardLocks, 2>;  // ascending shards
  void LockAll(const LockPlan& plan, bool whole);
  void UnlockAll(const LockPlan& plan, bool whole);
  // Adds the lock of `key` (on its owner) to `plan`; FinishPlan removes repeated ids.
  void AddLock(LockPlan& plan, std::string_view key);
  static void FinishPlan(LockPlan& plan);

  // MULTI/EXEC/DISCARD/WATCH/UNWATCH run here: they need the dispatcher itself.
  void Exec(ClientState& client, net::ReplyWriter& reply);
  void Watch(ClientState& client, const std::vector<std::string>& args);
  void Unwatch(ClientState& client);
  bool Transactional(const CommandSpec& spec, ClientState& client, std::vector<std::string>& args,
                     net::ReplyWriter& reply);

  Env& env_;
  ShardSet& shards_;
  CommandTable table_;
  std::vector<std::unique_ptr<ExecutorState>> states_;
  net::AfterReply ExecuteCommand(ClientState& client, std::vector<std::string>& args, std::string& out);
  void FeedMonitors(const ClientState& client, const std::vector<std::string>& args);
  // CLIENT PAUSE: waits while this executor's pause covers the command (`now`: the time the
  // command arrived). Returns the time it may start. Suspends.
  TimePoint WaitWhilePaused(const CommandSpec& spec, TimePoint now);
  // The time a command starts: the clock, or the end of the command before it when this
  // executor has not switched fibers since (ExecutorState::last_end).
  TimePoint CommandStart(ExecutorState& state);
  // The restriction of a RESP2 client with subscriptions; false with the error written.
  bool AllowedWhileSubscribed(const CommandSpec& spec, const ClientState& client,
                              net::ReplyWriter& reply);

  std::atomic<uint64_t> next_client_id_{1};
  std::atomic<int64_t> connected_{0};
  std::atomic<int> monitor_count_{0};
  std::atomic<uint64_t> next_slowlog_id_{0};
  std::atomic<int64_t> last_save_unix_seconds_{0};
  std::atomic<bool> background_save_running_{false};
  std::atomic<int64_t> posts_in_flight_{0};
  TimePoint started_;
  uint64_t run_id_ = 0;
};

}  // namespace tierkv::server
