// Workload "server-linear": the real node (server/node.h: listeners, connection fibers, the
// command layer, shard threads, storage engines) on a simulated machine, and several clients on
// another one sending real RESP over the simulated network, under server crashes and restarts,
// disk errors, slow I/O and connection resets. Every client records each operation's call and
// return times and its result; the checker then asks, key by key, whether the history is
// linearizable (sim/linearizability.h):
//   registers r0..r3: SET (a fresh integer), GET, INCR;
//   lists l0..l1: MULTI / RPUSH x / LRANGE 0 -1 / EXEC (an append that reads the whole list
//   atomically), and plain LRANGE reads.
// appendfsync is always, so an acknowledged write must survive any crash: a lost write shows up
// as a read that no order can explain. An operation whose connection broke, or that got an error
// reply, has an unknown outcome (it may or may not have happened). After the run every key is
// read once more (the runner has crashed and restarted every node) so the final state is checked
// too. Option workload.appendfsync = no builds the deliberately unsafe variant: writes are
// acknowledged before they are durable, and the checker must catch the losses.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "net/reply.h"
#include "server/config.h"
#include "server/node.h"
#include "sim/linearizability.h"
#include "sim/sim_env.h"
#include "tools/sim/workload.h"

namespace tierkv::simtool {
namespace {

constexpr int kClients = 5;
constexpr int kRegisters = 4;
constexpr int kLists = 2;
constexpr uint16_t kPort = 6379;

struct Shared {
  bool traffic = true;
  bool final_reads_done = false;
  uint64_t next_value = 1;  // values and list elements are unique across client restarts
  std::string appendfsync = "always";
  std::map<std::string, std::vector<sim::Operation>> history;  // by key
  uint64_t acked = 0, unknown = 0, errors = 0, reconnects = 0, server_boots = 0;
  std::string failure;
};

std::string RegisterKey(int i) { return "r" + std::to_string(i); }
std::string ListKey(int i) { return "l" + std::to_string(i); }

std::string Encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  return out;
}

// One client connection speaking RESP. Any failure closes it; the next call reconnects.
class Connection {
 public:
  explicit Connection(sim::SimEnv& env) : env_(env) {}

  // Connects when not connected; false when the server cannot be reached (nothing was sent).
  bool Ready() {
    if (socket_) return true;
    auto connected = env_.Connect({"server", kPort}, DeadlineAfter(env_.Now(), seconds(1)));
    if (!connected) return false;
    socket_ = std::move(*connected);
    return true;
  }

  // Sends `request` (one or more commands) and reads `replies` replies. nullopt on any socket
  // failure or timeout (the outcome of what was sent is then unknown). Call Ready() first.
  std::optional<std::vector<net::Reply>> Call(const std::string& request, size_t replies) {
    TK_ASSERT(socket_ != nullptr);
    const Deadline deadline = DeadlineAfter(env_.Now(), seconds(2));
    if (!socket_->Write(std::as_bytes(std::span(request.data(), request.size())), deadline).ok()) {
      Drop();
      return std::nullopt;
    }
    std::vector<net::Reply> out;
    std::vector<std::byte> buffer(16 * 1024);
    while (out.size() < replies) {  // bounded by the deadline
      size_t pos = 0;
      net::Reply reply;
      net::ReplyParseStatus parsed = net::ParseReply(input_, pos, reply);
      if (parsed == net::ReplyParseStatus::kDone) {
        input_.erase(0, pos);
        out.push_back(std::move(reply));
        continue;
      }
      if (parsed == net::ReplyParseStatus::kError) {
        Drop();
        return std::nullopt;
      }
      Result<size_t> read = socket_->Read(buffer, deadline);
      if (!read || *read == 0) {
        Drop();
        return std::nullopt;
      }
      input_.append(reinterpret_cast<const char*>(buffer.data()), *read);
    }
    return out;
  }

  void Drop() {
    if (socket_) socket_->Close();
    socket_.reset();
    input_.clear();
  }

 private:
  sim::SimEnv& env_;
  std::unique_ptr<Socket> socket_;
  std::string input_;
};

std::string ListText(const net::Reply& reply) {
  std::string text;
  for (const net::Reply& element : reply.elements) text += element.text + "\n";
  return text;
}

class ClientFiber {
 public:
  ClientFiber(sim::SimEnv& env, Shared& shared, int index)
      : env_(env), shared_(shared), index_(index), connection_(env) {}

  void Run() {
    Executor& ex = env_.CurrentExecutor();
    while (shared_.traffic) {
      if (!ex.Sleep(milliseconds(1 + env_.RandomU64() % 20)).ok()) return;
      if (!shared_.traffic) return;
      if (env_.RandomU64() % 3 == 0) {
        ListOp(ListKey(static_cast<int>(env_.RandomU64() % kLists)));
      } else {
        RegisterOp(RegisterKey(static_cast<int>(env_.RandomU64() % kRegisters)));
      }
    }
  }

  // Reads every key once, retrying until it gets an answer (bounded by `attempts`).
  bool FinalReads(int attempts) {
    for (int i = 0; i < kRegisters; i++) {
      if (!Retry(attempts, [&] { return Record(RegisterKey(i), "get", {"GET", RegisterKey(i)}); })) return false;
    }
    for (int i = 0; i < kLists; i++) {
      if (!Retry(attempts, [&] { return Record(ListKey(i), "read", {"LRANGE", ListKey(i), "0", "-1"}); })) return false;
    }
    return true;
  }

 private:
  template <typename Fn>
  bool Retry(int attempts, Fn fn) {
    for (int a = 0; a < attempts; a++) {
      if (fn()) return true;
      (void)env_.CurrentExecutor().Sleep(milliseconds(100));
    }
    return false;
  }

  void RegisterOp(const std::string& key) {
    const uint64_t choice = env_.RandomU64() % 20;
    if (choice < 8) {
      Record(key, "get", {"GET", key});
    } else if (choice < 15) {
      const std::string value = std::to_string(shared_.next_value++ * 1000);
      Record(key, "set:" + value, {"SET", key, value});
    } else {
      Record(key, "incr", {"INCR", key});
    }
  }

  void ListOp(const std::string& key) {
    if (env_.RandomU64() % 2 == 0) {
      Record(key, "read", {"LRANGE", key, "0", "-1"});
      return;
    }
    if (!connection_.Ready()) return;  // nothing sent: no operation
    const std::string element = "c" + std::to_string(index_) + "-" + std::to_string(shared_.next_value++);
    const size_t index = Begin(key, "append:" + element);
    std::string request = Encode({"MULTI"}) + Encode({"RPUSH", key, element}) +
                          Encode({"LRANGE", key, "0", "-1"}) + Encode({"EXEC"});
    auto replies = connection_.Call(request, 4);
    // Applied and read only when EXEC ran both: an error from RPUSH (a write refused) leaves the
    // append's outcome unknown.
    if (replies && (*replies)[3].kind == net::Reply::Kind::kArray &&
        (*replies)[3].elements.size() == 2 && !(*replies)[3].elements[0].is_error() &&
        !(*replies)[3].elements[1].is_error()) {
      Finish(key, index, ListText((*replies)[3].elements[1]));
    } else {
      Unknown(replies.has_value());
    }
  }

  // The operation is in the history from its call on, with an unknown outcome: if this client
  // crashes before the reply, that is what it stays.
  size_t Begin(const std::string& key, std::string input) {
    std::vector<sim::Operation>& ops = shared_.history[key];
    ops.push_back(sim::Operation{index_, env_.Now(), std::nullopt, std::move(input), "", false});
    return ops.size() - 1;
  }
  void Finish(const std::string& key, size_t index, std::string output) {
    sim::Operation& op = shared_.history[key][index];
    op.returned = env_.Now();
    op.output = std::move(output);
    op.output_known = true;
    shared_.acked++;
  }

  // Runs one command and records it; false when its outcome is unknown.
  bool Record(const std::string& key, std::string input, const std::vector<std::string>& args) {
    const bool read = input == "get" || input == "read";
    const std::string kind = input;
    if (!connection_.Ready()) return false;  // nothing sent: no operation
    const size_t index = Begin(key, std::move(input));
    auto replies = connection_.Call(Encode(args), 1);
    if (!replies || (*replies)[0].is_error()) {
      Unknown(replies.has_value());
      // A read whose outcome is unknown constrains nothing: as an unknown operation it may be
      // placed anywhere, which the checker allows; a failed write may or may not have happened.
      (void)read;
      return false;
    }
    const net::Reply& reply = (*replies)[0];
    std::string output;
    if (kind == "read") {
      output = ListText(reply);
    } else if (reply.kind == net::Reply::Kind::kInteger) {
      output = std::to_string(reply.integer);
    } else if (reply.kind == net::Reply::Kind::kNull) {
      output = "";
    } else if (kind == "get") {
      output = "=" + reply.text;
    } else {
      output = reply.text;
    }
    Finish(key, index, std::move(output));
    return true;
  }

  void Unknown(bool got_error_reply) {
    if (got_error_reply) {
      shared_.errors++;
    } else {
      shared_.unknown++;
      shared_.reconnects++;
    }
  }

  sim::SimEnv& env_;
  Shared& shared_;
  int index_;
  Connection connection_;
};

// Registers: state "" (no key) or "=" + value; SET -> "OK", GET -> the state, INCR -> the new
// integer (the values are always integers, so INCR never fails).
sim::Model RegisterModel() {
  sim::Model model;
  model.step = [](const std::string& state, const sim::Operation& op,
                  bool check) -> std::optional<std::string> {
    if (op.input.starts_with("set:")) {
      if (check && op.output != "OK") return std::nullopt;
      return "=" + op.input.substr(4);
    }
    if (op.input == "incr") {
      const int64_t current = state.empty() ? 0 : std::stoll(state.substr(1));
      const std::string next = std::to_string(current + 1);
      if (check && op.output != next) return std::nullopt;
      return "=" + next;
    }
    if (check && op.output != state) return std::nullopt;  // get
    return state;
  };
  model.describe = [](const sim::Operation& op) {
    // A list result is shown by its length and last elements.
    std::string shown = op.output;
    if (std::count(shown.begin(), shown.end(), '\n') > 3) {
      const size_t lines = static_cast<size_t>(std::count(shown.begin(), shown.end(), '\n'));
      size_t cut = shown.size() - 1;
      for (int i = 0; i < 3; i++) cut = shown.rfind('\n', cut - 1);
      shown = fmt::format("{} elements, ...{}", lines, shown.substr(cut + 1));
    }
    for (char& c : shown) c = c == '\n' ? ' ' : c;
    return fmt::format("client {} {} -> {} [{:.6f}s..{}]", op.client, op.input,
                       !op.returned ? "?" : !op.output_known ? "(unseen)" : "'" + shown + "'",
                       ToSeconds(op.call.time_since_epoch()),
                       op.returned ? fmt::format("{:.6f}s", ToSeconds(op.returned->time_since_epoch())) : "?");
  };
  return model;
}

// Lists: the state is the elements, one per line; an append returns the list after it.
sim::Model ListModel() {
  sim::Model model;
  model.step = [](const std::string& state, const sim::Operation& op,
                  bool check) -> std::optional<std::string> {
    if (op.input.starts_with("append:")) {
      std::string next = state + op.input.substr(7) + "\n";
      if (check && op.output != next) return std::nullopt;
      return next;
    }
    if (check && op.output != state) return std::nullopt;
    return state;
  };
  model.describe = RegisterModel().describe;
  return model;
}

class ServerLinear final : public Workload {
 public:
  explicit ServerLinear(const ScenarioSpec& spec) : spec_(spec) {
    auto it = spec.workload_options.find("appendfsync");
    if (it != spec.workload_options.end()) shared_.appendfsync = it->second;
  }

  void Setup(sim::World& world) override {
    world.AddNode(sim::NodeSpec{"server", spec_.executors, [this](sim::SimEnv& env) {
                                  RunServer(env);
                                }});
    world.AddNode(sim::NodeSpec{"clients", 1, [this](sim::SimEnv& env) { RunClients(env); }});
  }

  void StopTraffic() override { shared_.traffic = false; }

  std::string Check() override {
    if (!shared_.failure.empty()) return shared_.failure;
    if (!shared_.final_reads_done) return "the final reads did not complete";
    if (shared_.acked == 0) return "no operation was acknowledged";
    for (auto& [key, operations] : shared_.history) {
      // A read whose outcome is unknown constrains nothing (it changes no state): drop it.
      std::erase_if(operations, [](const sim::Operation& op) {
        return !op.returned && (op.input == "get" || op.input == "read");
      });
      const bool list = key[0] == 'l';
      if (list) BoundUnknownAppends(operations);
      const sim::Model model = list ? ListModel() : RegisterModel();
      sim::LinearizabilityResult result = sim::CheckLinearizable(model, operations);
      if (!result.linearizable) {
        if (std::getenv("TIERKV_DUMP_HISTORY") != nullptr) {  // debugging aid: every operation
          for (const sim::Operation& op : operations) {
            std::string full = op.output;
            for (char& c : full) c = c == '\n' ? ' ' : c;
            std::fprintf(stderr, "%s FULL %s\n", model.describe(op).c_str(), full.c_str());
          }
        }
        return "key " + key + " (" + std::to_string(operations.size()) + " operations): " +
               result.explanation;
      }
    }
    return "";
  }

  std::string EarlyFailure() const override { return shared_.failure; }

  std::string Stats() const override {
    size_t operations = 0;
    for (const auto& [key, ops] : shared_.history) operations += ops.size();
    return fmt::format("ops={} acked={} unknown={} error_replies={} server_boots={}", operations,
                       shared_.acked, shared_.unknown, shared_.errors, shared_.server_boots);
  }

 private:
  void RunServer(sim::SimEnv& env) {
    shared_.server_boots++;
    if (!env.CreateDir("/data").ok()) return Restart(env);
    server::NodeOptions options;
    options.bind = "server";
    options.port = kPort;
    options.dir = "/data";
    Status set = options.config.LoadFile("appendfsync " + shared_.appendfsync, "scenario");
    TK_ASSERT(set.ok());
    options.engine_options = [this](int shard, int shards) {
      tiers::EngineOptions engine = server::EngineOptionsForShard(server::Config(), shard, shards);
      engine.dir = fmt::format("/data/shard-{}", shard);
      engine.sync = shared_.appendfsync == "always" ? tiers::SyncMode::kAlways : tiers::SyncMode::kNo;
      engine.memtable_bytes = 32 << 10;  // frequent checkpoints: crashes land in them too
      engine.cache_bytes = 64 << 10;
      engine.checkpoint_interval = milliseconds(200);
      return engine;
    };
    Status served = server::ServeNode(env, options);
    if (!served.ok()) env.CurrentExecutor().log().Warn("server stopped: {}", served.ToString());
    Restart(env);
  }

  // A server that could not open its data (an injected I/O error at recovery) or stopped (its
  // WAL failed) is restarted, as a supervisor would; also during the final reads, which disk
  // faults may still hit.
  void Restart(sim::SimEnv& env) {
    sim::World& world = env.world();
    world.ScheduleAfter(milliseconds(200), 0, [&world] { world.Restart("server"); });
  }

  void RunClients(sim::SimEnv& env) {
    if (!shared_.traffic) {  // after the run: the final reads (the runner restarted everything)
      ClientFiber reader(env, shared_, kClients);
      shared_.final_reads_done = reader.FinalReads(50);
      return;
    }
    Executor& ex = env.CurrentExecutor();
    std::vector<std::unique_ptr<ClientFiber>> clients;
    std::vector<FiberHandle> fibers;
    for (int i = 0; i < kClients; i++) {
      clients.push_back(std::make_unique<ClientFiber>(env, shared_, i));
      ClientFiber* client = clients.back().get();
      fibers.push_back(ex.Spawn("client", [client] { client->Run(); }));
    }
    for (FiberHandle& fiber : fibers) (void)fiber.Join();
  }

  // An append whose outcome is unknown either took effect before the first operation whose
  // result shows its (unique) element, or never (no result shows it: then it is the same as an
  // append placed after everything, and is dropped). Bounding it so keeps every valid order and
  // spares the search from trying it at every later point.
  static void BoundUnknownAppends(std::vector<sim::Operation>& operations) {
    std::vector<sim::Operation> kept;
    for (sim::Operation& op : operations) {
      if (op.returned || !op.input.starts_with("append:")) {
        kept.push_back(std::move(op));
        continue;
      }
      const std::string line = op.input.substr(7) + "\n";
      std::optional<TimePoint> first_seen;
      for (const sim::Operation& other : operations) {
        if (!other.returned || !other.output_known) continue;
        const bool shows = other.output.starts_with(line) ||
                           other.output.find("\n" + line) != std::string::npos;
        if (shows && (!first_seen || *other.returned < *first_seen)) first_seen = other.returned;
      }
      if (!first_seen) continue;
      op.returned = first_seen;
      op.output_known = false;
      kept.push_back(std::move(op));
    }
    operations = std::move(kept);
  }

  ScenarioSpec spec_;
  Shared shared_;
};

}  // namespace

std::unique_ptr<Workload> MakeServerLinear(const ScenarioSpec& spec) {
  return std::make_unique<ServerLinear>(spec);
}

}  // namespace tierkv::simtool
