#include "server/node.h"

#include <fmt/core.h>

#include <memory>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/assert.h"
#include "core/limits.h"
#include "core/sync.h"
#include "net/connection.h"
#include "server/server.h"
#include "server/shards.h"

namespace tierkv::server {
namespace {

// The part of the server that lives on one executor. Every method runs on that executor.
class ShardServer {
 public:
  ShardServer(Env& env, Executor& executor) : env_(env), executor_(executor) {}
  // The command layer, once the data is open (connections accepted before wait for it).
  void set_server(Server* server) {
    server_ = server;
    server_ready_.Set();
  }
  // No check that Stop ran: a crash (simulated) unwinds ServeNode's stack from outside any
  // executor, one executor at a time, without stopping; every other path calls Stop.
  ~ShardServer() = default;
  ShardServer(const ShardServer&) = delete;
  ShardServer& operator=(const ShardServer&) = delete;

  // Listens on `address` (SO_REUSEPORT) and starts accepting. Returns the bound port. Suspends.
  Result<uint16_t> Start(const NetAddress& address) {
    CheckExecutor();
    TK_ASSERT(listener_ == nullptr);
    ListenOptions listen_options;
    listen_options.reuse_port = true;
    listen_options.backlog = limits::kListenBacklog;
    Result<std::unique_ptr<Listener>> listener = env_.Listen(address, listen_options);
    if (!listener) return Err(listener.error());
    listener_ = std::move(*listener);
    local_address_ = listener_->LocalAddress().ToString();
    accept_fiber_ = executor_.Spawn("accept", [this] { AcceptLoop(); });
    return listener_->LocalAddress().port;
  }

  // Stops accepting, ends every connection and waits for all their fibers. Idempotent. Suspends
  // (the calling fiber must not be cancelled: the fibers it joins reference this object).
  Status Stop() {
    CheckExecutor();
    if (listener_ != nullptr) {
      listener_->Close();
      accept_fiber_.Cancel();
      Status joined = accept_fiber_.Join();
      TK_ASSERT_MSG(joined.ok(), "stop of a shard server was cancelled");
      listener_.reset();
    }
    std::vector<FiberHandle> fibers;
    fibers.reserve(connections_.size());
    for (const auto& [id, fiber] : connections_) fibers.push_back(fiber);
    for (FiberHandle& fiber : fibers) fiber.Cancel();
    for (FiberHandle& fiber : fibers) {
      Status joined = fiber.Join();
      TK_ASSERT_MSG(joined.ok(), "stop of a shard server was cancelled");
    }
    TK_ASSERT(connections_.empty());  // each connection fiber removes itself as it ends
    if (!fibers.empty()) executor_.log().Info("closed {} client connections", fibers.size());
    return Status::Ok();
  }

 private:
  void CheckExecutor() {
    TK_ASSERT_MSG(&env_.CurrentExecutor() == &executor_, "ShardServer used from another executor");
  }

  // Accepts until the listener closes or the fiber is cancelled (the server's lifetime).
  void AcceptLoop() {
    while (true) {
      Result<std::unique_ptr<Socket>> accepted = listener_->Accept();
      if (!accepted) {
        StatusCode code = accepted.error().code();
        if (code == StatusCode::kClosed || code == StatusCode::kCancelled) return;
        executor_.log().Warn("accept failed: {}", accepted.error().ToString());
        if (!executor_.Sleep(limits::kAcceptRetryDelay).ok()) return;
        continue;
      }
      Spawn(std::move(*accepted));
    }
  }

  void Spawn(std::unique_ptr<Socket> accepted) {
    const uint64_t id = next_connection_id_++;
    // std::function needs a copyable callable; the fiber's closure is the socket's only owner.
    std::shared_ptr<Socket> socket = std::move(accepted);
    executor_.log().Debug("client {} connected", socket->PeerAddress());
    FiberHandle fiber = executor_.Spawn("client", [this, id, socket] {
      Serve(*socket, id);
      connections_.erase(id);
    });
    connections_.emplace(id, std::move(fiber));
  }

  void Serve(Socket& socket, uint64_t id) {
    if (!server_ready_.Wait().ok()) {
      socket.Close();
      return;
    }
    if (!server_->Admit()) {  // maxclients: Redis's error, then close
      constexpr std::string_view kFull = "-ERR max number of clients reached\r\n";
      (void)socket.Write(std::as_bytes(std::span(kFull.data(), kFull.size())));
      socket.Close();
      return;
    }
    net::Connection connection(socket, executor_);
    std::unique_ptr<ClientState> client = server_->Register(socket.PeerAddress());
    client->local_address = local_address_;
    ClientState& state = *client;
    state.kill = [this, id] {
      if (auto it = connections_.find(id); it != connections_.end()) it->second.Cancel();
    };
    state.push = [this, &connection, &state](std::string bytes) {
      const Config& config = server_->local().config;
      OutputBufferLimit limit = config.output_buffer_limit(
          state.subscriptions() > 0 ? ClientClass::kPubsub : ClientClass::kNormal);
      if (limit.hard_bytes == 0 && limit.soft_bytes == 0) limit.hard_bytes = limits::kMaxPushQueueBytes;
      return connection.Push(std::move(bytes), limit.hard_bytes, limit.soft_bytes,
                             seconds(limit.soft_seconds));
    };
    net::ConnectionOptions options;
    options.idle_timeout = [this, &state]() -> Duration {
      // Redis never times out subscribers and monitors (they only listen).
      if (state.subscriptions() > 0 || state.monitor) return Duration::zero();
      return seconds(server_->local().config.Int("timeout"));
    };
    options.input_limits = [this] {
      const Config& config = server_->local().config;
      return net::ConnectionOptions::InputLimits{
          config.Int("proto-max-bulk-len"),
          static_cast<size_t>(config.Int("client-query-buffer-limit"))};
    };
    options.before_reply = [this, &state](std::string& replies) {
      return server_->BeforeReply(state, replies);
    };
    options.prefetch = [this, &state](const std::vector<std::string>& current,
                                      const std::vector<std::string>& next) {
      server_->Prefetch(state, current, next);
    };
    net::ServeConnection(
        connection,
        [this, &state](std::vector<std::string>& args, std::string& out) {
          return server_->Execute(state, args, out);
        },
        executor_.log(), options);
    connection.Finish();
    server_->Unregister(state);
  }

  Env& env_;
  Executor& executor_;
  Server* server_ = nullptr;
  std::string local_address_;
  Event server_ready_{executor_};
  std::unique_ptr<Listener> listener_;
  FiberHandle accept_fiber_;
  uint64_t next_connection_id_ = 1;
  std::unordered_map<uint64_t, FiberHandle> connections_;  // live connection fibers by id
};

std::vector<int> ExecutorRange(int first, int end) {
  std::vector<int> indexes;
  for (int i = first; i < end; i++) indexes.push_back(i);
  return indexes;
}

}  // namespace

Status ServeNode(Env& env, const NodeOptions& options) {
  Executor& home = env.CurrentExecutor();
  TK_ASSERT_MSG(home.index() == 0 && home.InFiber(), "ServeNode runs in a fiber on executor 0");
  const int count = env.ExecutorCount();
  std::unique_ptr<ShardSet> data;
  auto close_data = [&] {
    if (!data) return Status::Ok();
    Status closed = data->Close();
    if (!closed.ok()) home.log().Error("closing the data failed: {}", closed.ToString());
    return closed;
  };
  std::vector<std::unique_ptr<ShardServer>> shards;
  for (int i = 0; i < count; i++) {
    shards.push_back(std::make_unique<ShardServer>(env, env.GetExecutor(i)));
  }
  auto start = [&shards](const NetAddress& address, int index) -> Status {
    Result<uint16_t> port = shards[index]->Start(address);
    return port ? Status::Ok() : port.error();
  };
  auto stop_all = [&] {
    Status stopped = RunOnExecutors(env, ExecutorRange(0, count),
                                    [&shards](int index) { return shards[index]->Stop(); });
    TK_ASSERT(stopped.ok());
  };

  // Executor 0 first: it turns port 0 into a real port that the others then share.
  NetAddress address{options.bind, options.port};
  Result<uint16_t> port = shards[0]->Start(address);
  if (!port) return port.error();
  address.port = *port;
  Status started = RunOnExecutors(env, ExecutorRange(1, count),
                                  [&](int index) { return start(address, index); });
  if (!started.ok()) {
    stop_all();
    return started;
  }
  // The data is opened once the port is ours: a second server started on a port this one holds
  // fails before it touches the files; one on another port but the same directory fails on the
  // engines' directory locks.
  auto opened = ShardSet::Open(env, [&](int shard) {
    if (options.engine_options) return options.engine_options(shard, count);
    tiers::EngineOptions engine = EngineOptionsForShard(options.config, shard, count);
    engine.dir = JoinPath(options.dir, fmt::format("shard-{}", shard));
    return engine;
  });
  if (!opened) {
    stop_all();
    return Status(opened.error().code(), "data in " + options.dir + ": " + opened.error().message());
  }
  data = std::move(*opened);
  home.log().Info("opened the data of {} shards in {}", count, options.dir);
  Server server(env, *data, options.config);
  server.Start();
  Status ready = RunOnExecutors(env, ExecutorRange(0, count), [&](int index) {
    shards[index]->set_server(&server);
    return Status::Ok();
  });
  TK_ASSERT(ready.ok());
  home.log().Info("ready to accept connections on {} ({} executors, dir {})", address.ToString(),
                  count, options.dir);
  if (options.on_listening) options.on_listening(address.port);

  // Fail-stop on lost durability: an engine that cannot write its WAL refuses every write until
  // it is reopened, so the node shuts down and its supervisor restarts it (Redis exits the same
  // way when an fsync fails under appendfsync always).
  Status engine_failure;
  bool serving = true;
  FiberHandle watchdog = home.Spawn("engine-watchdog", [&] {
    while (serving && home.Sleep(milliseconds(100)).ok()) {
      for (int i = 0; i < count && engine_failure.ok(); i++) {
        Result<Status> failure = data->RunOn<Status>(
            i, [](Shard& shard) -> Result<Status> { return shard.engine().failure(); }, false);
        if (failure && !failure->ok()) {
          engine_failure = Status(failure->code(), fmt::format("the storage engine of shard {} stopped accepting writes: {}", i, failure->message()));
          home.log().Error("{}; shutting down so that a restart recovers it", engine_failure.ToString());
          env.RequestStop();
        }
      }
    }
  });
  Status stop = env.WaitForStopRequest();
  serving = false;
  watchdog.Cancel();
  (void)watchdog.Join();
  home.log().Info("shutting down: {}", stop.ok() ? "stop requested" : stop.ToString());
  stop_all();
  server.Stop();
  Status closed = close_data();
  home.log().Info("server stopped");
  return engine_failure.ok() ? closed : engine_failure;
}

}  // namespace tierkv::server
