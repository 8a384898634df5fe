// Workload "ping-pong": nodes send each other messages over the network; a receiver appends each
// message to its log with group commit (one DataSync per batch) and acknowledges it only after
// the sync. The checker holds every message a node acknowledged and verifies, whenever that node
// recovers (after each crash and at the end), that its log contains them all.
//
// Node program: executor 0 owns the log (recovery, then a group-commit appender fiber fed by a
// channel) and runs the client; the last executor runs the server, whose connection fibers send
// appends to executor 0 as cross-executor messages and wait for the reply message. A write or
// sync error is fatal for the process (after a failed fsync the data may be gone, "fsyncgate"):
// it acknowledges nothing more and exits; the world restarts it.
// Option workload.ack_before_sync = 1 builds the deliberately broken variant that acknowledges
// before the sync, to show that the checker catches lost writes.
#include <xxhash.h>

#include <cstring>
#include <map>
#include <set>

#include "core/sync.h"
#include "sim/sim_env.h"
#include "tools/sim/workload.h"

namespace tierkv::simtool {
namespace {

constexpr uint16_t kPort = 7000;
constexpr size_t kMaxBatch = 64;
constexpr size_t kHeaderBytes = 12;  // u32 length, u64 xxh64 of the payload

struct Shared {
  std::map<std::string, std::set<std::string>> acked;  // node -> messages it acknowledged
  std::string failure;
  bool traffic = true;
  bool ack_before_sync = false;
  uint64_t sent = 0, acks = 0, recoveries = 0, fatal_exits = 0, torn_tails = 0;
};

std::string Record(const std::string& payload) {
  std::string out(kHeaderBytes, '\0');
  uint32_t length = payload.size();
  uint64_t hash = XXH64(payload.data(), payload.size(), 0);
  std::memcpy(out.data(), &length, 4);
  std::memcpy(out.data() + 4, &hash, 8);
  return out + payload;
}

// Parses records from the start of `log`; returns the payloads and sets `valid` to the length of
// the intact prefix (a torn or unsynced tail ends the log).
std::vector<std::string> ParseLog(const std::string& log, size_t& valid) {
  std::vector<std::string> out;
  valid = 0;
  while (log.size() - valid >= kHeaderBytes) {
    uint32_t length;
    uint64_t hash;
    std::memcpy(&length, log.data() + valid, 4);
    std::memcpy(&hash, log.data() + valid + 4, 8);
    if (length == 0 || length > 4096 || log.size() - valid - kHeaderBytes < length) break;
    std::string payload = log.substr(valid + kHeaderBytes, length);
    if (XXH64(payload.data(), payload.size(), 0) != hash) break;
    out.push_back(std::move(payload));
    valid += kHeaderBytes + length;
  }
  return out;
}

std::span<const std::byte> AsBytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

struct Append {
  std::string payload;
  std::function<void(bool)> reply;  // runs on executor 0
};

class PingPongNode {
 public:
  PingPongNode(Env& env, std::string name, std::vector<std::string> peers, Shared& shared)
      : env_(env), ex0_(env.CurrentExecutor()), name_(std::move(name)), peers_(std::move(peers)),
        shared_(shared), appends_(ex0_, 1024), fatal_(ex0_) {}

  void Run() {
    if (!Recover()) return Exit("recovery failed");
    FiberHandle appender = ex0_.Spawn("appender", [this] { AppendLoop(); });
    int server_executor = env_.ExecutorCount() - 1;
    env_.Post(server_executor, [this] { Serve(); });
    FiberHandle client = ex0_.Spawn("client", [this] { ClientLoop(); });
    (void)fatal_.Wait();
    Exit("fatal I/O error");
  }

 private:
  void Exit(const char* why) {
    shared_.fatal_exits++;
    ex0_.log().Warn("exiting: {}", why);
  }

  bool Recover() {
    if (!env_.CreateDir("/data").ok()) return false;
    auto file = env_.OpenFile("/data/log", {.create = true});
    if (!file) return false;
    log_ = std::move(*file);
    if (!env_.SyncDir("/data").ok()) return false;  // the log's name must be durable before acks
    auto size = log_->Size();
    if (!size) return false;
    std::string contents(*size, '\0');
    auto n = log_->Read(0, std::as_writable_bytes(std::span(contents.data(), contents.size())));
    if (!n || *n != *size) return false;
    size_t valid = 0;
    std::vector<std::string> messages = ParseLog(contents, valid);
    if (valid < contents.size()) shared_.torn_tails++;
    // Do not trust the file itself: if the previous run died after a failed fsync, what it read
    // back may be page-cache contents that never reached the disk and never will (Linux drops
    // the dirty pages after a writeback error, "fsyncgate"). Rewrite the intact prefix to a new
    // file, sync it, and atomically replace the log. The simulator found this: without the
    // rewrite, acknowledged messages behind such a hole were lost in a later crash.
    if (!RewriteLog(contents.substr(0, valid))) return false;
    log_size_ = valid;
    std::set<std::string> present(messages.begin(), messages.end());
    shared_.recoveries++;
    for (const std::string& message : shared_.acked[name_]) {
      if (!present.contains(message) && shared_.failure.empty()) {
        shared_.failure = "node " + name_ + " lost acknowledged message " + message +
                          " (log has " + std::to_string(present.size()) + " messages)";
      }
    }
    ex0_.log().Info("recovered {} messages", present.size());
    return true;
  }

  bool RewriteLog(const std::string& contents) {
    log_.reset();
    auto fresh = env_.OpenFile("/data/log.tmp", {.create = true, .truncate = true});
    if (!fresh) return false;
    if (!(*fresh)->Write(0, AsBytes(contents)).ok() || !(*fresh)->DataSync().ok()) return false;
    if (!env_.RenameFile("/data/log.tmp", "/data/log").ok() || !env_.SyncDir("/data").ok()) {
      return false;
    }
    log_ = std::move(*fresh);
    return true;
  }

  void AppendLoop() {
    while (true) {
      auto first = appends_.Receive();
      if (!first) return;
      std::vector<Append> batch;
      batch.push_back(std::move(*first));
      while (batch.size() < kMaxBatch && appends_.size() > 0) batch.push_back(*appends_.Receive());
      std::string bytes;
      for (const Append& append : batch) bytes += Record(append.payload);
      bool ok = log_->Write(log_size_, AsBytes(bytes)).ok() && log_->DataSync().ok();
      if (ok) log_size_ += bytes.size();
      for (Append& append : batch) append.reply(ok);
      if (!ok) {
        fatal_.Set();
        return;
      }
    }
  }

  void Serve() {
    Executor& ex = env_.CurrentExecutor();
    auto listener = env_.Listen({name_, kPort}, {});
    if (!listener) return;
    while (true) {
      auto socket = (*listener)->Accept();
      if (!socket) return;
      std::shared_ptr<Socket> conn = std::move(*socket);
      ex.Spawn("conn", [this, conn] { ServeConnection(*conn); });
    }
  }

  void ServeConnection(Socket& conn) {
    Executor& ex = env_.CurrentExecutor();
    std::string buffer;
    std::vector<std::byte> chunk(512);
    while (true) {
      size_t newline = buffer.find('\n');
      if (newline == std::string::npos) {
        auto n = conn.Read(chunk);
        if (!n || *n == 0) return;
        buffer.append(reinterpret_cast<const char*>(chunk.data()), *n);
        continue;
      }
      std::string id = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      auto done = std::make_shared<Event>(ex);
      auto ok = std::make_shared<bool>(false);
      int here = ex.index();
      env_.Post(0, [this, id, done, ok, here] {
        Append append{id, [this, done, ok, here](bool success) {
                        env_.Post(here, [done, ok, success] {
                          *ok = success;
                          done->Set();
                        });
                      }};
        if (shared_.ack_before_sync) {
          append.reply(true);
          append.reply = [](bool) {};
        }
        if (!appends_.TrySend(std::move(append))) {
          env_.Post(here, [done] { done->Set(); });
        }
      });
      if (!done->Wait().ok()) return;
      std::string reply = (*ok ? "ACK " : "NAK ") + id + "\n";
      if (!conn.Write(AsBytes(reply)).ok()) return;
    }
  }

  void ClientLoop() {
    uint64_t nonce = env_.RandomU64() % 1000000;
    for (uint64_t seq = 0; shared_.traffic; seq++) {
      if (!ex0_.Sleep(milliseconds(5 + env_.RandomU64() % 40)).ok()) return;
      const std::string& peer = peers_[env_.RandomU64() % peers_.size()];
      std::string id = name_ + ">" + peer + ":" + std::to_string(nonce) + ":" + std::to_string(seq);
      auto conn = Connection(peer);
      if (!conn) continue;
      shared_.sent++;
      if (!conn->Write(AsBytes(id + "\n")).ok()) {
        connections_.erase(peer);
        continue;
      }
      std::string reply;
      std::vector<std::byte> chunk(128);
      Deadline deadline = DeadlineAfter(ex0_.Now(), seconds(2));
      while (reply.find('\n') == std::string::npos) {
        auto n = conn->Read(chunk, deadline);
        if (!n || *n == 0) break;
        reply.append(reinterpret_cast<const char*>(chunk.data()), *n);
      }
      if (reply == "ACK " + id + "\n") {
        shared_.acked[peer].insert(id);
        shared_.acks++;
      } else {
        connections_.erase(peer);  // timed out, reset or NAK: start afresh
      }
    }
  }

  Socket* Connection(const std::string& peer) {
    auto it = connections_.find(peer);
    if (it != connections_.end()) return it->second.get();
    auto socket = env_.Connect({peer, kPort}, DeadlineAfter(ex0_.Now(), seconds(1)));
    if (!socket) return nullptr;
    return (connections_[peer] = std::move(*socket)).get();
  }

  Env& env_;
  Executor& ex0_;
  std::string name_;
  std::vector<std::string> peers_;
  Shared& shared_;
  std::unique_ptr<File> log_;
  uint64_t log_size_ = 0;
  Channel<Append> appends_;
  Event fatal_;
  std::map<std::string, std::unique_ptr<Socket>> connections_;
};

class PingPong final : public Workload {
 public:
  explicit PingPong(const ScenarioSpec& spec) : spec_(spec) {
    auto it = spec.workload_options.find("ack_before_sync");
    shared_.ack_before_sync = it != spec.workload_options.end() && it->second == "1";
  }

  void Setup(sim::World& world) override {
    std::vector<std::string> names;
    for (int i = 0; i < spec_.nodes; i++) names.push_back("n" + std::to_string(i + 1));
    for (const std::string& name : names) {
      std::vector<std::string> peers;
      for (const std::string& other : names) {
        if (other != name) peers.push_back(other);
      }
      if (peers.empty()) peers.push_back(name);
      world.AddNode(sim::NodeSpec{name, spec_.executors, [this, name, peers](sim::SimEnv& env) {
                                    PingPongNode node(env, name, peers, shared_);
                                    node.Run();
                                    // The process exited (fatal error): restart it soon.
                                    sim::World& w = env.world();
                                    w.ScheduleAfter(milliseconds(200), 0, [&w, name] { w.Restart(name); });
                                  }});
    }
  }

  void StopTraffic() override { shared_.traffic = false; }
  std::string Check() override {
    if (shared_.acks == 0 && shared_.failure.empty()) return "no message was acknowledged";
    return shared_.failure;
  }
  std::string EarlyFailure() const override { return shared_.failure; }
  std::string Stats() const override {
    return "sent=" + std::to_string(shared_.sent) + " acked=" + std::to_string(shared_.acks) +
           " recoveries=" + std::to_string(shared_.recoveries) +
           " fatal_exits=" + std::to_string(shared_.fatal_exits) +
           " torn_tails=" + std::to_string(shared_.torn_tails);
  }

 private:
  ScenarioSpec spec_;
  Shared shared_;
};

}  // namespace

std::unique_ptr<Workload> MakePingPong(const ScenarioSpec& spec) {
  return std::make_unique<PingPong>(spec);
}

}  // namespace tierkv::simtool
