#include "server/server.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/assert.h"

namespace tierkv::server {

using net::AfterReply;
using net::ReplyWriter;

namespace {

// Redis cuts user text in error replies at 128 bytes ("%.128s").
std::string Cut(std::string_view text) { return std::string(text.substr(0, 128)); }

bool Fits(int arity, size_t argc) {
  const auto n = static_cast<int64_t>(argc);
  return arity > 0 ? n == arity : n >= -arity;
}

}  // namespace

Server::Server(Env& env, ShardSet& shards, const Config& config)
    : env_(env), shards_(shards), table_(BuildCommandTable()), started_(env.Now()) {
  last_save_unix_seconds_ = env.clock().UnixMicros() / 1'000'000;
  run_id_ = env.RandomU64();
  auto acl_index = std::make_shared<const AclCommandIndex>(table_);
  for (int i = 0; i < env.ExecutorCount(); i++) {
    states_.push_back(std::make_unique<ExecutorState>(env.GetExecutor(i), config));
    states_.back()->acl.Init(acl_index, config.String("requirepass"));
  }
}

Server::~Server() = default;

ExecutorState& Server::local() { return *states_[env_.CurrentExecutor().index()]; }

void Server::Start() {
  ForEachExecutor([this](ExecutorState&) {
    shards_.local().store().OnExpired([this](int db, std::string_view key) {
      KeyChanged(db, key, kNotifyExpired, "expired");
    });
  });
}

void Server::Stop() {
  ForEachExecutor([this](ExecutorState&) { shards_.local().store().OnExpired(nullptr); });
  // Bounded by one checkpoint of every shard and by the posted messages, which never wait for
  // clients; polled because they run on other executors.
  while (background_save_running_.load() || posts_in_flight_.load() > 0) {
    Status slept = env_.CurrentExecutor().Sleep(milliseconds(1));
    if (!slept.ok()) break;
  }
}

void Server::PostTracked(int executor, std::function<void()> fn) {
  posts_in_flight_.fetch_add(1);
  env_.Post(executor, [this, fn = std::move(fn)] {
    fn();
    posts_in_flight_.fetch_sub(1);
  });
}

void Server::ForEachExecutor(const std::function<void(ExecutorState&)>& fn) {
  for (int i = 0; i < env_.ExecutorCount(); i++) {
    Result<bool> done = shards_.RunOn<bool>(
        i,
        [this, &fn](Shard&) -> Result<bool> {
          fn(local());
          return true;
        },
        /*interruptible=*/false);
    TK_ASSERT(done.has_value());
  }
}

std::unique_ptr<ClientState> Server::Register(std::string peer) {
  ExecutorState& state = local();
  auto client = std::make_unique<ClientState>();
  client->id = next_client_id_.fetch_add(1, std::memory_order_relaxed);
  client->peer = std::move(peer);
  client->created = client->last_interaction = env_.Now();
  client->authenticated = AclOf(state).DefaultNeedsNoAuth();
  state.clients.emplace(client->id, client.get());
  state.connections_received++;
  return client;
}

bool Server::Admit() {
  const int64_t max_clients = local().config.Int("maxclients");
  if (connected_.fetch_add(1) >= max_clients) {
    connected_.fetch_sub(1);
    local().rejected_connections++;
    return false;
  }
  return true;
}

void Server::Unregister(ClientState& client) {
  Unwatch(client);
  UnsubscribeAll(client);
  local().clients.erase(client.id);
  connected_.fetch_sub(1);
}

Server::Resolved Server::Resolve(std::vector<std::string>& args, ReplyWriter& reply) {
  const CommandSpec* spec = table_.Find(args[0]);
  if (spec == nullptr) {
    reply.Error(UnknownCommandError(args));
    return {};
  }
  if (!Fits(spec->arity, args.size())) {
    reply.Error("ERR wrong number of arguments for '" + std::string(spec->name) + "' command");
    return {};
  }
  if (spec->subcommands.empty()) return {spec, nullptr};
  if (args.size() == 1) {  // a container alone: COMMAND lists, CONFIG has no meaning
    if (spec->handler != nullptr) return {spec, nullptr};
    reply.Error("ERR wrong number of arguments for '" + std::string(spec->name) + "' command");
    return {};
  }
  for (const CommandSpec& sub : spec->subcommands) {
    if (!EqualsIgnoreCase(sub.name, args[1])) continue;
    if (!Fits(sub.arity, args.size())) {
      reply.Error("ERR wrong number of arguments for '" + FullName(sub, spec) + "' command");
      return {};
    }
    return {&sub, spec};
  }
  std::string upper(spec->name);
  for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  reply.Error("ERR unknown subcommand '" + Cut(args[1]) + "'. Try " + upper + " HELP.");
  return {};
}

const CommandSpec* Server::Find(const std::vector<std::string>& args,
                                const CommandSpec** parent) const {
  *parent = nullptr;
  const CommandSpec* spec = table_.Find(args[0]);
  if (spec == nullptr || !Fits(spec->arity, args.size())) return nullptr;
  if (spec->subcommands.empty() || (args.size() == 1 && spec->handler != nullptr)) return spec;
  if (args.size() == 1) return nullptr;
  for (const CommandSpec& sub : spec->subcommands) {
    if (EqualsIgnoreCase(sub.name, args[1])) {
      *parent = spec;
      return Fits(sub.arity, args.size()) ? &sub : nullptr;
    }
  }
  return nullptr;
}

bool Server::KeyPositions(const CommandSpec& spec, const std::vector<std::string>& args,
                          KeyPositionList& positions, ReplyWriter& reply) {
  std::string error;
  if (KeysOf(spec, args, positions, error)) return true;
  reply.Error(error);
  return false;
}

bool Server::KeysOf(const CommandSpec& spec, const std::vector<std::string>& args,
                    KeyPositionList& positions, std::string& error) {
  positions.clear();
  if (spec.keys_fn != nullptr) {
    if (std::optional<std::string> failed = spec.keys_fn(args, positions)) {
      error = std::move(*failed);
      return false;
    }
    return true;
  }
  if (spec.keys.first == 0) return true;
  const int argc = static_cast<int>(args.size());
  const int last = spec.keys.last < 0 ? argc + spec.keys.last : spec.keys.last;
  for (int i = spec.keys.first; i <= last && i < argc; i += spec.keys.step) positions.push_back(i);
  return true;
}

// The lock of a key is named by the key alone, whatever the database: two databases' keys of one
// name share a lock (harmless: it only serialises them), and a queued SELECT, MOVE or COPY ... DB
// inside MULTI cannot reach a key the transaction did not lock.
void Server::AddLock(LockPlan& plan, std::string_view key) {
  const int shard = shards_.OwnerOf(key);
  auto it = std::find_if(plan.begin(), plan.end(), [shard](const ShardLocks& s) { return s.shard >= shard; });
  if (it == plan.end() || it->shard != shard) it = plan.insert(it, ShardLocks{shard, {}});
  it->ids.push_back(LockIdOf(key));
}

void Server::FinishPlan(LockPlan& plan) {
  for (ShardLocks& shard : plan) DedupLockIds(shard.ids);
}

void Server::LockAll(const LockPlan& plan, bool whole) {
  const int here = env_.CurrentExecutor().index();
  for (const auto& [shard, ids] : plan) {  // ascending shard order: no deadlock
    if (shard == here) {
      local().locks.Lock(ids, whole);
      continue;
    }
    Result<bool> locked = shards_.RunOn<bool>(
        shard,
        [this, &ids, whole](Shard&) -> Result<bool> {
          local().locks.Lock(ids, whole);
          return true;
        },
        /*interruptible=*/false);
    TK_ASSERT(locked.has_value());
  }
}

void Server::UnlockAll(const LockPlan& plan, bool whole) {
  const int here = env_.CurrentExecutor().index();
  for (const auto& [shard, ids] : plan) {
    if (shard == here) {
      local().locks.Unlock(ids, whole);
      ServeBlocked();
    } else {
      // Messages from here to `shard` run in order: a later lock request of this executor
      // cannot overtake this release.
      PostTracked(shard, [this, ids, whole] {
        local().locks.Unlock(ids, whole);
        ServeBlocked();
      });
    }
  }
}

Server::RunResult Server::RunHere(const CommandSpec& spec, std::vector<std::string>& args,
                                  ReplyWriter& reply, int db, ClientState* client, bool may_block) {
  Ctx ctx(*this, spec, args, reply, db, client);
  ctx.set_may_block(may_block);
  spec.handler(ctx);
  ctx.durability().Note(env_.CurrentExecutor().index(), shards_.local().engine().unsynced_lsn());
  return RunResult{ctx.close_after, std::move(ctx.block_request()), std::move(ctx.durability())};
}

Server::DispatchResult Server::TimedDispatch(const CommandSpec& spec, const CommandSpec* parent,
                                             ClientState& client, std::vector<std::string>& args,
                                             ReplyWriter& reply, bool locked, TimePoint start) {
  DispatchResult close = Dispatch(spec, client, args, reply, locked);
  const TimePoint end = env_.Now();
  ExecutorState& state = local();
  state.last_end = end;
  state.last_end_switches = env_.CurrentExecutor().switches();
  const Duration took = end - start;
  if ((spec.flags & kCmdSkipSlowlog) == 0 && (parent == nullptr || (parent->flags & kCmdSkipSlowlog) == 0)) {
    RecordSlow(spec, client, args, took);
  }
  return close;
}

void Server::RecordSlow(const CommandSpec& spec, ClientState& client,
                        const std::vector<std::string>& args, Duration took) {
  ExecutorState& state = local();
  const int64_t took_us = std::chrono::duration_cast<microseconds>(took).count();
  const int64_t threshold_ms = state.config.latency_monitor_threshold();
  const int64_t slower_than = state.config.slowlog_log_slower_than();
  const bool latency = threshold_ms > 0 && took_us >= threshold_ms * 1000;
  if (!latency && (slower_than < 0 || took_us < slower_than)) return;  // most commands
  const int64_t now_s = env_.clock().UnixMicros() / 1'000'000;
  if (latency) {
    LatencyRecord& record = state.latency["command"];
    record.last_unix_seconds = now_s;
    record.last_ms = took_us / 1000;
    record.max_ms = std::max(record.max_ms, record.last_ms);
    record.history.emplace_back(now_s, record.last_ms);
    constexpr size_t kLatencyHistory = 160;  // Redis's LATENCY_TS_LEN
    if (record.history.size() > kLatencyHistory) record.history.pop_front();
  }
  if (slower_than < 0 || took_us < slower_than) return;
  // Redis keeps at most 32 arguments (the last says how many more) of at most 128 bytes each.
  constexpr size_t kMaxArgs = 32, kMaxArgBytes = 128;
  SlowlogEntry entry;
  entry.id = NextSlowlogId();
  entry.unix_seconds = now_s;
  entry.duration_us = took_us;
  const size_t shown = std::min(args.size(), kMaxArgs);
  // Redis redacts the arguments of commands that carry secrets.
  const std::string name = FullName(spec, nullptr);
  const bool secret = name == "auth" || name == "hello" || name == "setuser" || name == "migrate";
  for (size_t i = 0; i < shown; i++) {
    if (secret && i > 0) {
      entry.args.push_back("(redacted)");
    } else if (i == kMaxArgs - 1 && args.size() > kMaxArgs) {
      entry.args.push_back("... (" + std::to_string(args.size() - kMaxArgs + 1) + " more arguments)");
    } else if (args[i].size() > kMaxArgBytes) {
      entry.args.push_back(args[i].substr(0, kMaxArgBytes) + "... (" +
                           std::to_string(args[i].size() - kMaxArgBytes) + " more bytes)");
    } else {
      entry.args.push_back(args[i]);
    }
  }
  entry.peer = client.peer;
  entry.name = client.name;
  state.slowlog.push_back(std::move(entry));
  const auto max_len = static_cast<size_t>(state.config.Int("slowlog-max-len"));
  while (state.slowlog.size() > max_len) state.slowlog.pop_front();
}

Server::DispatchResult Server::Dispatch(const CommandSpec& spec, ClientState& client,
                                        std::vector<std::string>& args, ReplyWriter& reply,
                                        bool locked) {
  DispatchResult result;
  KeyPositionList positions;
  if (!KeyPositions(spec, args, positions, reply)) return result;
  const int here = env_.CurrentExecutor().index();
  if (positions.empty()) {
    LockPlan plan;
    const bool whole = !locked && (spec.flags & kCmdWholeShards) != 0;
    if (whole) {
      for (int i = 0; i < shards_.size(); i++) plan.push_back(ShardLocks{i, {}});
      LockAll(plan, true);
    }
    RunResult run = RunHere(spec, args, reply, client.db, &client);
    if (whole) UnlockAll(plan, true);
    client.durability.Merge(run.durability);
    result.close = run.close;
    return result;
  }
  LockPlan plan;
  for (int position : positions) AddLock(plan, args[static_cast<size_t>(position)]);
  FinishPlan(plan);
  const bool one_shard = plan.size() == 1;
  const bool may_block = !locked && (spec.flags & kCmdBlocking) != 0;
  auto parked = [&](const Ctx::BlockRequest& request, const BlockedPtr& blocked) {
    result.blocked = blocked;
    result.deadline = request.deadline;
    result.on_timeout = request.on_timeout;
  };
  if (!one_shard || plan.front().shard == here) {
    // Multi-shard commands run here and reach the owners with Ctx::On; a local one runs here too.
    if (!locked) LockAll(plan, false);
    RunResult run = RunHere(spec, args, reply, client.db, nullptr, may_block);
    if (run.block) {  // parked before the locks go: no change of the keys can be missed
      BlockedPtr blocked = NewBlocked(spec, args, client, here, one_shard,
                                      one_shard ? plan.front().ids : LockIds{});
      ParkEverywhere(blocked, run.block->keys);
      parked(*run.block, blocked);
    }
    if (!locked) UnlockAll(plan, false);
    client.durability.Merge(run.durability);
    result.close = run.close;
    return result;
  }
  // Every key on one other shard: the whole command runs there, one message each way.
  struct Remote {
    std::string out;
    std::optional<Ctx::BlockRequest> block;
    BlockedPtr blocked;
    DurabilityNeeds durability;
  };
  const int owner = plan.front().shard;
  Result<Remote> remote = shards_.RunOn<Remote>(
      owner,
      [this, &spec, &args, &plan, &client, locked, may_block, here](Shard&) -> Result<Remote> {
        Remote done;
        ReplyWriter writer(done.out, client.protocol);
        const LockIds& ids = plan.front().ids;
        if (!locked) local().locks.Lock(ids);
        RunResult run = RunHere(spec, args, writer, client.db, nullptr, may_block);
        if (run.block) {
          done.blocked = NewBlocked(spec, args, client, here, true, ids);
          Park(done.blocked, run.block->keys);
          done.block = std::move(run.block);
        }
        done.durability = std::move(run.durability);
        if (!locked) {
          local().locks.Unlock(ids);
          ServeBlocked();
        }
        return done;
      },
      /*interruptible=*/false);  // the work references this stack
  TK_ASSERT(remote.has_value());
  client.durability.Merge(remote->durability);
  reply.out() += remote->out;
  if (remote->block) parked(*remote->block, remote->blocked);
  return result;
}

AfterReply Server::Execute(ClientState& client, std::vector<std::string>& args, std::string& out) {
  const size_t reply_start = out.size();
  const ClientState::ReplyMode mode_before = client.reply_mode;
  AfterReply after = ExecuteCommand(client, args, out);
  // CLIENT REPLY OFF / SKIP: the reply is made (the command ran) and dropped.
  using Mode = ClientState::ReplyMode;
  if (client.reply_mode == Mode::kOff || client.reply_mode == Mode::kSkip) {
    out.resize(reply_start);
    if (client.reply_mode == Mode::kSkip) client.reply_mode = Mode::kSkipNext;
  } else if (mode_before == Mode::kSkipNext) {
    out.resize(reply_start);
    if (client.reply_mode == Mode::kSkipNext) client.reply_mode = Mode::kOn;
  }
  return client.killed ? AfterReply::kClose : after;
}

Status Server::AwaitDurable(ClientState& client) {
  if (client.durability.empty()) return Status::Ok();
  DurabilityNeeds needs = std::move(client.durability);
  client.durability = DurabilityNeeds();
  const int here = env_.CurrentExecutor().index();
  for (size_t i = 0; i < needs.lsn.size(); i++) {
    const uint64_t lsn = needs.lsn[i];
    if (lsn == 0) continue;
    const int shard = static_cast<int>(i);
    if (shard == here) {
      TK_RETURN_IF_ERROR(shards_.local().engine().AwaitDurable(lsn));
      continue;
    }
    // Uninterruptible: a wait for a group commit is short, and the work captures nothing of this
    // stack.
    Result<bool> done = shards_.RunOn<bool>(
        shard,
        [lsn](Shard& owner) -> Result<bool> {
          TK_RETURN_IF_ERROR_R(owner.engine().AwaitDurable(lsn));
          return true;
        },
        /*interruptible=*/false);
    if (!done) return done.error();
  }
  return Status::Ok();
}

void Server::Prefetch(const ClientState& client, const std::vector<std::string>& current,
                      const std::vector<std::string>& next) {
  if (client.in_multi) return;
  const int here = env_.CurrentExecutor().index();
  auto hint = [&](const std::vector<std::string>& command, bool deep) {
    if (command.size() < 2) return;
    const std::string& key = command[1];
    if (shards_.size() > 1 && shards_.OwnerOf(key) != here) return;
    shards_.local().store().Prefetch(client.db, key, deep);
  };
  hint(current, /*deep=*/true);
  hint(next, /*deep=*/false);
}

AfterReply Server::BeforeReply(ClientState& client, std::string& out) {
  Status durable = AwaitDurable(client);
  if (durable.ok()) return AfterReply::kKeepOpen;
  out.clear();
  if (durable.code() != StatusCode::kCancelled) {
    env_.CurrentExecutor().log().Warn("client {}: replies withheld: {}", client.peer,
                                      durable.ToString());
    ReplyWriter(out, client.protocol).Error("ERR " + durable.message());
  }
  return AfterReply::kClose;
}

AfterReply Server::ExecuteCommand(ClientState& client, std::vector<std::string>& args,
                                  std::string& out) {
  ExecutorState& state = local();
  state.commands_processed++;
  const TimePoint now = CommandStart(state);
  client.last_interaction = now;
  ReplyWriter reply(out, client.protocol);
  Resolved resolved = Resolve(args, reply);
  if (resolved.spec == nullptr) {
    if (client.in_multi) client.multi_failed = true;
    return AfterReply::kKeepOpen;
  }
  const CommandSpec& spec = *resolved.spec;
  client.last_command = FullName(spec, resolved.parent);
  // Redis checks the default user live: a client that connected while a password was required
  // is let in once the default user no longer needs one.
  if (!client.authenticated && (spec.flags & kCmdNoAuth) == 0 &&
      !AclOf(state).DefaultNeedsNoAuth()) {
    reply.Error("NOAUTH Authentication required.");
    if (client.in_multi) client.multi_failed = true;
    return AfterReply::kKeepOpen;
  }
  // ACL (server/acl.h): inside MULTI the check happens at queue time and fails the transaction.
  if (std::optional<std::string> denied =
          AclCheckClient(state, env_, client, spec, resolved.parent, args)) {
    reply.Error(*denied);
    if (client.in_multi) client.multi_failed = true;
    return AfterReply::kKeepOpen;
  }
  if (client.protocol == 2 && client.subscriptions() > 0 &&
      !AllowedWhileSubscribed(spec, client, reply)) {
    return AfterReply::kKeepOpen;
  }
  if (monitor_count_.load(std::memory_order_relaxed) > 0 &&
      (spec.flags & (kCmdSkipMonitor | kCmdAdmin)) == 0) {
    FeedMonitors(client, args);
  }
  if (spec.handler == nullptr) {  // MULTI, EXEC, DISCARD, WATCH, UNWATCH, RESET
    if (!client.in_multi || !EqualsIgnoreCase(spec.name, "unwatch")) {
      return Transactional(spec, client, args, reply) ? AfterReply::kClose : AfterReply::kKeepOpen;
    }
  }
  if (client.in_multi) {
    if ((spec.flags & kCmdNoMulti) != 0) {
      reply.Error("ERR Command not allowed inside a transaction");
      client.multi_failed = true;
      return AfterReply::kKeepOpen;
    }
    KeyPositionList positions;
    if (!KeyPositions(spec, args, positions, reply)) {
      client.multi_failed = true;
      return AfterReply::kKeepOpen;
    }
    client.queued.push_back(std::move(args));
    reply.SimpleString("QUEUED");
    return AfterReply::kKeepOpen;
  }
  const TimePoint start = WaitWhilePaused(spec, now);
  DispatchResult result = TimedDispatch(spec, resolved.parent, client, args, reply, false, start);
  if (result.blocked) WaitBlocked(spec, client, args, reply, std::move(result));
  return result.close ? AfterReply::kClose : AfterReply::kKeepOpen;
}

bool Server::AllowedWhileSubscribed(const CommandSpec& spec, const ClientState& client,
                                    ReplyWriter& reply) {
  (void)client;
  for (std::string_view allowed : {"subscribe", "unsubscribe", "psubscribe", "punsubscribe",
                                   "ssubscribe", "sunsubscribe", "ping", "quit", "reset"}) {
    if (spec.name == allowed) return true;
  }
  reply.Error("ERR Can't execute '" + std::string(spec.name) +
              "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
              "this context");
  return false;
}

TimePoint Server::CommandStart(ExecutorState& state) {
  if (state.last_end_switches == env_.CurrentExecutor().switches()) return state.last_end;
  return env_.Now();
}

TimePoint Server::WaitWhilePaused(const CommandSpec& spec, TimePoint now) {
  ExecutorState& state = local();
  // Bounded by the pause's end (CLIENT UNPAUSE shortens it; the poll sees that within 10 ms).
  while (now < state.paused_until && (state.pause_all || (spec.flags & kCmdWrite) != 0)) {
    const Duration left = state.paused_until - now;
    Status slept = env_.CurrentExecutor().Sleep(std::min<Duration>(left, milliseconds(10)));
    now = env_.Now();
    if (!slept.ok()) break;
  }
  return now;
}

bool Server::Transactional(const CommandSpec& spec, ClientState& client,
                           std::vector<std::string>& args, ReplyWriter& reply) {
  const std::string_view name = spec.name;
  if (name == "multi") {
    if (client.in_multi) {
      reply.Error("ERR MULTI calls can not be nested");
      return false;
    }
    client.in_multi = true;
    reply.SimpleString("OK");
  } else if (name == "exec") {
    Exec(client, reply);
  } else if (name == "discard") {
    if (!client.in_multi) {
      reply.Error("ERR DISCARD without MULTI");
      return false;
    }
    client.in_multi = client.multi_failed = false;
    client.queued.clear();
    Unwatch(client);
    reply.SimpleString("OK");
  } else if (name == "watch") {
    if (client.in_multi) {
      reply.Error("ERR WATCH inside MULTI is not allowed");
      return false;
    }
    Watch(client, args);
    reply.SimpleString("OK");
  } else if (name == "unwatch") {
    Unwatch(client);
    reply.SimpleString("OK");
  } else if (name == "reset") {
    client.in_multi = client.multi_failed = false;
    client.queued.clear();
    Unwatch(client);
    client.db = 0;
    client.protocol = 2;
    client.name.clear();
    client.user = "default";
    client.authenticated = AclOf(local()).DefaultNeedsNoAuth();
    client.reply_mode = ClientState::ReplyMode::kOn;
    client.no_evict = false;
    UnsubscribeAll(client);
    reply.SimpleString("RESET");
  } else {
    TK_ASSERT_MSG(false, "a command without a handler that is not transactional");
  }
  return false;
}

void Server::Exec(ClientState& client, ReplyWriter& reply) {
  if (!client.in_multi) {
    reply.Error("ERR EXEC without MULTI");
    return;
  }
  std::vector<std::vector<std::string>> queued = std::move(client.queued);
  client.queued.clear();
  client.in_multi = false;
  if (client.multi_failed) {
    client.multi_failed = false;
    Unwatch(client);
    reply.Error("EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  // Lock every key of the queue and every watched key, once, in shard order.
  LockPlan plan;
  std::vector<const CommandSpec*> specs;
  std::vector<const CommandSpec*> parents;
  bool whole = false;
  std::string scratch;
  ReplyWriter ignored(scratch);
  for (std::vector<std::string>& args : queued) {
    const Resolved resolved = Resolve(args, ignored);  // resolved once already at MULTI time
    const CommandSpec* spec = resolved.spec;
    TK_ASSERT(spec != nullptr);
    specs.push_back(spec);
    parents.push_back(resolved.parent);
    whole = whole || (spec->flags & kCmdWholeShards) != 0;
    KeyPositionList positions;
    if (!KeyPositions(*spec, args, positions, ignored)) continue;
    for (int position : positions) AddLock(plan, args[static_cast<size_t>(position)]);
  }
  for (const auto& [db, key] : client.watched) AddLock(plan, key);
  if (whole) {
    plan.clear();
    for (int i = 0; i < shards_.size(); i++) plan.push_back(ShardLocks{i, {}});
  } else {
    FinishPlan(plan);
  }
  LockAll(plan, whole);
  if (client.watch_flag && client.watch_flag->load()) {
    reply.NullArray();
  } else {
    reply.ArrayHeader(static_cast<int64_t>(queued.size()));
    for (size_t i = 0; i < queued.size(); i++) {
      if (specs[i]->handler == nullptr) {  // UNWATCH queued inside MULTI
        reply.SimpleString("OK");
        continue;
      }
      if (std::optional<std::string> denied =
              AclCheckAtExec(local(), env_, client, *specs[i], parents[i], queued[i])) {
        reply.Error(*denied);
        continue;
      }
      (void)TimedDispatch(*specs[i], nullptr, client, queued[i], reply, /*locked=*/true, env_.Now());
    }
  }
  UnlockAll(plan, whole);
  Unwatch(client);
}

void Server::Watch(ClientState& client, const std::vector<std::string>& args) {
  if (!client.watch_flag) client.watch_flag = std::make_shared<std::atomic<bool>>(false);
  for (size_t i = 1; i < args.size(); i++) {
    std::pair<int, std::string> entry{client.db, args[i]};
    if (std::find(client.watched.begin(), client.watched.end(), entry) != client.watched.end()) {
      continue;
    }
    client.watched.push_back(entry);
    WatchFlag flag = client.watch_flag;
    std::string id = LockId(client.db, args[i]);
    Result<bool> done = shards_.RunOn<bool>(
        shards_.OwnerOf(args[i]),
        [this, id, flag](Shard&) -> Result<bool> {
          local().watches[id].push_back(flag);
          return true;
        },
        /*interruptible=*/false);
    TK_ASSERT(done.has_value());
  }
}

void Server::Unwatch(ClientState& client) {
  if (!client.watch_flag) return;
  WatchFlag flag = std::move(client.watch_flag);
  for (const auto& [db, key] : client.watched) {
    std::string id = LockId(db, key);
    Result<bool> done = shards_.RunOn<bool>(
        shards_.OwnerOf(key),
        [this, id, flag](Shard&) -> Result<bool> {
          auto& watches = local().watches;
          auto it = watches.find(id);
          if (it == watches.end()) return true;  // the key changed: the entry is gone
          std::erase(it->second, flag);
          if (it->second.empty()) watches.erase(it);
          return true;
        },
        /*interruptible=*/false);
    TK_ASSERT(done.has_value());
  }
  client.watched.clear();
}

void Server::KeyChanged(int db, std::string_view key, int notify, std::string_view event) {
  ExecutorState& state = local();
  if (!state.blocked.empty()) {
    std::string id = LockId(db, key);
    if (state.blocked.contains(id)) state.ready.push_back(std::move(id));
  }
  if (!state.watches.empty()) {
    auto it = state.watches.find(LockId(db, key));
    if (it != state.watches.end()) {
      for (const WatchFlag& flag : it->second) flag->store(true);
      state.watches.erase(it);
    }
  }
  const int flags = state.config.notify_keyspace_flags();
  if ((flags & notify) == 0) return;
  if ((flags & kNotifyKeyspace) != 0) {
    PublishAsync("__keyspace@" + std::to_string(db) + "__:" + std::string(key), std::string(event));
  }
  if ((flags & kNotifyKeyevent) != 0) {
    PublishAsync("__keyevent@" + std::to_string(db) + "__:" + std::string(event), std::string(key));
  }
}

void Server::DbChanged(int db) {
  ExecutorState& state = local();
  for (auto it = state.watches.begin(); it != state.watches.end();) {
    const std::string& id = it->first;
    const int id_db = (static_cast<unsigned char>(id[0]) << 8) | static_cast<unsigned char>(id[1]);
    if (db >= 0 && id_db != db) {
      ++it;
      continue;
    }
    for (const WatchFlag& flag : it->second) flag->store(true);
    it = state.watches.erase(it);
  }
}

}  // namespace tierkv::server
