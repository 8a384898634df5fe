#include "sim/sim_net.h"

#include <algorithm>
#include <deque>

#include "core/assert.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace tierkv::sim {
namespace {

struct Chunk {
  TimePoint due;
  std::vector<std::byte> bytes;
  bool fin = false;
};

struct Reader {
  Fiber* fiber = nullptr;
  Executor* executor = nullptr;
  SimNode* node = nullptr;
  uint64_t generation = 0;

  void Set(SimEnv& env) {
    executor = &env.CurrentExecutor();
    fiber = executor->current();
    node = &env.node();
    generation = node->generation();
  }
  void Wake() {
    if (fiber && node->generation() == generation && node->running()) executor->Unpark(fiber);
    fiber = nullptr;
  }
};

struct Pipe {
  std::string from, to;
  std::deque<Chunk> inflight;
  bool pump_scheduled = false;
  TimePoint blocked_since = TimePoint::max();
  std::string buffer;  // delivered, unread bytes
  size_t read_pos = 0;
  bool fin = false;
  Reader reader;
};

struct Connection {
  Pipe pipes[2];  // pipes[s] carries bytes written by side s
  bool reset = false;
  bool closed[2] = {false, false};
};

void ResetConnection(const std::shared_ptr<Connection>& conn) {
  conn->reset = true;
  for (Pipe& pipe : conn->pipes) {
    pipe.inflight.clear();
    pipe.reader.Wake();
  }
}

void SchedulePump(SimNetwork& net, const std::shared_ptr<Connection>& conn, int side, TimePoint at);

void Pump(SimNetwork& net, const std::shared_ptr<Connection>& conn, int side) {
  World& world = net.world();
  Pipe& pipe = conn->pipes[side];
  pipe.pump_scheduled = false;
  while (!pipe.inflight.empty() && pipe.inflight.front().due <= world.Now()) {
    if (conn->reset) return;
    if (net.Blocked(pipe.from, pipe.to)) {
      if (pipe.blocked_since == TimePoint::max()) pipe.blocked_since = world.Now();
      if (world.Now() - pipe.blocked_since >= SimNetwork::kPartitionResetAfter) {
        ResetConnection(conn);
        return;
      }
      SchedulePump(net, conn, side, world.Now() + SimNetwork::kRetransmitInterval);
      return;
    }
    pipe.blocked_since = TimePoint::max();
    Chunk& chunk = pipe.inflight.front();
    if (chunk.fin) {
      pipe.fin = true;
    } else {
      pipe.buffer.append(reinterpret_cast<const char*>(chunk.bytes.data()), chunk.bytes.size());
    }
    pipe.inflight.pop_front();
    pipe.reader.Wake();
  }
  if (!pipe.inflight.empty()) SchedulePump(net, conn, side, pipe.inflight.front().due);
}

void SchedulePump(SimNetwork& net, const std::shared_ptr<Connection>& conn, int side, TimePoint at) {
  Pipe& pipe = conn->pipes[side];
  if (pipe.pump_scheduled) return;
  pipe.pump_scheduled = true;
  net.world().Schedule(at, EventLabel(EventKind::kNetDeliver, 0, side),
                       [&net, conn, side] { Pump(net, conn, side); });
}

void Send(SimNetwork& net, const std::shared_ptr<Connection>& conn, int side, Chunk chunk) {
  Pipe& pipe = conn->pipes[side];
  World& world = net.world();
  chunk.due = world.Now() + net.Latency(pipe.from, pipe.to);
  if (!pipe.inflight.empty() && chunk.due < pipe.inflight.back().due) {
    chunk.due = pipe.inflight.back().due;
  }
  pipe.inflight.push_back(std::move(chunk));
  SchedulePump(net, conn, side, pipe.inflight.front().due);
}

class SimSocket final : public Socket {
 public:
  SimSocket(SimEnv& env, std::shared_ptr<Connection> conn, int side, std::string peer)
      : env_(env), conn_(std::move(conn)), side_(side), peer_(std::move(peer)) {}
  ~SimSocket() override {
    if (env_.node().running()) {
      Close();
    } else if (!conn_->closed[side_]) {
      conn_->closed[side_] = true;  // the node crashed: the peer sees a reset
      std::shared_ptr<Connection> conn = conn_;
      env_.world().ScheduleAfter(env_.world().network().Latency(env_.NodeName(), Peer().from),
                                 EventLabel(EventKind::kNetDeliver, env_.node().index()),
                                 [conn] { ResetConnection(conn); });
    }
  }

  Result<size_t> Read(std::span<std::byte> buf, Deadline deadline) override {
    Pipe& in = conn_->pipes[1 - side_];
    while (true) {
      if (conn_->closed[side_]) return Err(StatusCode::kClosed, "read on closed socket");
      if (conn_->reset) return Err(StatusCode::kConnectionReset, "read from " + peer_ + ": Connection reset by peer");
      if (in.read_pos < in.buffer.size()) {
        size_t n = std::min(buf.size(), in.buffer.size() - in.read_pos);
        std::memcpy(buf.data(), in.buffer.data() + in.read_pos, n);
        in.read_pos += n;
        if (in.read_pos == in.buffer.size()) {
          in.buffer.clear();
          in.read_pos = 0;
        }
        return n;
      }
      if (in.fin) return 0;
      TK_ASSERT_MSG(in.reader.fiber == nullptr, "two fibers reading one socket");
      in.reader.Set(env_);
      WakeReason reason = env_.CurrentExecutor().Park(deadline);
      in.reader.fiber = nullptr;
      if (reason != WakeReason::kWoken) return Err(WakeStatus(reason, "read from " + peer_));
    }
  }

  Status Write(std::span<const std::byte> data, Deadline) override {
    if (conn_->closed[side_]) return Status(StatusCode::kClosed, "write on closed socket");
    if (conn_->reset) return Status(StatusCode::kConnectionReset, "write to " + peer_ + ": Connection reset by peer");
    World& world = env_.world();
    SimNetwork& net = world.network();
    if (world.InjectFault(world.faults().net_reset_probability, world.net_reset_budget())) {
      std::shared_ptr<Connection> conn = conn_;
      world.ScheduleAfter(net.Latency(env_.NodeName(), Peer().to),
                          EventLabel(EventKind::kNetDeliver, env_.node().index()),
                          [conn] { ResetConnection(conn); });
      return Status::Ok();  // the bytes left; the reset arrives later
    }
    if (data.empty()) return Status::Ok();
    Send(net, conn_, side_, Chunk{TimePoint(), {data.begin(), data.end()}, false});
    return Status::Ok();
  }

  void Close() override {
    if (conn_->closed[side_]) return;
    conn_->closed[side_] = true;
    conn_->pipes[1 - side_].reader.Wake();
    if (!conn_->reset) Send(env_.world().network(), conn_, side_, Chunk{TimePoint(), {}, true});
  }

  void Reset() override {
    if (conn_->closed[side_]) return;
    conn_->closed[side_] = true;
    conn_->pipes[1 - side_].reader.Wake();
    std::shared_ptr<Connection> conn = conn_;
    env_.world().ScheduleAfter(env_.world().network().Latency(env_.NodeName(), Peer().to),
                               EventLabel(EventKind::kNetDeliver, env_.node().index()),
                               [conn] { ResetConnection(conn); });
  }

  std::string PeerAddress() const override { return peer_; }

 private:
  const Pipe& Peer() const { return conn_->pipes[side_]; }

  SimEnv& env_;
  std::shared_ptr<Connection> conn_;
  int side_;
  std::string peer_;
};

}  // namespace

struct ListenerState {
  std::string host;
  uint16_t port = 0;
  bool reuse_port = false;
  SimEnv* env = nullptr;
  std::deque<std::unique_ptr<Socket>> pending;
  Reader acceptor;
  bool closed = false;
};

namespace {

class SimListener final : public Listener {
 public:
  SimListener(SimEnv& env, std::shared_ptr<ListenerState> state)
      : env_(env), state_(std::move(state)) {}
  ~SimListener() override {
    Close();
    env_.world().network().RemoveListener(state_.get());
  }

  Result<std::unique_ptr<Socket>> Accept(Deadline deadline) override {
    while (true) {
      if (state_->closed) return Err(StatusCode::kClosed, "listener closed");
      if (!state_->pending.empty()) {
        std::unique_ptr<Socket> socket = std::move(state_->pending.front());
        state_->pending.pop_front();
        return socket;
      }
      state_->acceptor.Set(env_);
      WakeReason reason = env_.CurrentExecutor().Park(deadline);
      state_->acceptor.fiber = nullptr;
      if (reason != WakeReason::kWoken) return Err(WakeStatus(reason, "accept"));
    }
  }

  NetAddress LocalAddress() const override { return {state_->host, state_->port}; }

  void Close() override {
    if (state_->closed) return;
    state_->closed = true;
    state_->pending.clear();
    state_->acceptor.Wake();
  }

 private:
  SimEnv& env_;
  std::shared_ptr<ListenerState> state_;
};

}  // namespace

Duration SimNetwork::Latency(const std::string& from, const std::string& to) {
  auto [it, inserted] = link_latency_.try_emplace({from, to}, Duration(0));
  const FaultOptions& faults = world_.faults();
  if (inserted) {
    it->second = faults.link_latency_min +
                 Duration(world_.prng().Uniform(
                     (faults.link_latency_max - faults.link_latency_min).count() + 1));
  }
  return it->second + Duration(world_.prng().Uniform(it->second.count() / 4 + 1));
}

void SimNetwork::Partition(const std::string& a, const std::string& b, bool two_way) {
  blocked_.insert({a, b});
  if (two_way) blocked_.insert({b, a});
}

void SimNetwork::Heal(const std::string& a, const std::string& b) {
  blocked_.erase({a, b});
  blocked_.erase({b, a});
}

void SimNetwork::AddListener(std::shared_ptr<ListenerState> listener) {
  listeners_.push_back(std::move(listener));
}

void SimNetwork::RemoveListener(const ListenerState* listener) {
  std::erase_if(listeners_, [&](const auto& l) { return l.get() == listener; });
}

bool SimNetwork::PortInUse(const std::string& host, uint16_t port, bool reuse_port) const {
  for (const auto& l : listeners_) {
    if (l->host == host && l->port == port && !(reuse_port && l->reuse_port)) return true;
  }
  return false;
}

std::shared_ptr<ListenerState> SimNetwork::PickListener(const std::string& host, uint16_t port) {
  std::vector<std::shared_ptr<ListenerState>> matches;
  for (const auto& l : listeners_) {
    if (l->host == host && l->port == port && !l->closed && l->env->node().running()) {
      matches.push_back(l);
    }
  }
  if (matches.empty()) return nullptr;
  return matches[world_.prng().Uniform(matches.size())];
}

namespace {

std::string HostOf(SimEnv& env, const std::string& host) {
  if (host.empty() || host == "localhost" || host == "127.0.0.1" || host == "0.0.0.0") {
    return env.NodeName();
  }
  return host;
}

}  // namespace

Result<std::unique_ptr<Listener>> SimEnv::Listen(const NetAddress& address,
                                                 const ListenOptions& options) {
  SimNetwork& net = world_.network();
  auto state = std::make_shared<ListenerState>();
  state->host = HostOf(*this, address.host);
  state->port = address.port;
  state->reuse_port = options.reuse_port;
  state->env = this;
  if (state->port == 0) {
    state->port = 40000;
    while (net.PortInUse(state->host, state->port, false)) state->port++;
  }
  if (net.PortInUse(state->host, state->port, options.reuse_port)) {
    return Err(StatusCode::kBusy, "listen on " + address.ToString() + ": Address already in use");
  }
  net.AddListener(state);
  return std::make_unique<SimListener>(*this, state);
}

Result<std::unique_ptr<Socket>> SimEnv::Connect(const NetAddress& address, Deadline deadline) {
  SimNetwork& net = world_.network();
  std::string from = NodeName();
  std::string to = HostOf(*this, address.host);
  Executor& executor = CurrentExecutor();
  if (net.Blocked(from, to) || net.Blocked(to, from)) {
    TimePoint give_up = std::min(deadline, executor.Now() + SimNetwork::kConnectTimeout);
    TK_RETURN_IF_ERROR_R(executor.SleepUntil(give_up));
    if (give_up == deadline) return Err(StatusCode::kTimedOut, "connect to " + address.ToString() + " timed out");
    return Err(StatusCode::kUnreachable, "connect to " + address.ToString() + ": No route to host");
  }
  uint16_t port = address.port;
  SimEnv* self = this;
  auto conn = Await<std::shared_ptr<Connection>>(
      net.Latency(from, to), EventKind::kNetConnect,
      [&net, from, to, port, self]() -> Result<std::shared_ptr<Connection>> {
        std::shared_ptr<ListenerState> listener = net.PickListener(to, port);
        if (!listener) {
          return Err(StatusCode::kConnectionRefused,
                     "connect to " + to + ":" + std::to_string(port) + ": Connection refused");
        }
        auto conn = std::make_shared<Connection>();
        conn->pipes[0].from = from;
        conn->pipes[0].to = to;
        conn->pipes[1].from = to;
        conn->pipes[1].to = from;
        listener->pending.push_back(std::make_unique<SimSocket>(
            *listener->env, conn, 1, from + ":" + std::to_string(30000 + self->RandomU64() % 30000)));
        listener->acceptor.Wake();
        return conn;
      },
      deadline);
  if (!conn) return Err(conn.error());
  // The SYN-ACK travels back before connect returns.
  TK_RETURN_IF_ERROR_R(executor.SleepUntil(std::min(deadline, executor.Now() + net.Latency(to, from))));
  return std::make_unique<SimSocket>(*this, *conn, 0, to + ":" + std::to_string(port));
}

}  // namespace tierkv::sim
