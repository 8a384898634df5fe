// One client connection: read, parse, execute, reply, until the client leaves.
//
// The loop reads whatever the socket has, runs every complete command in the input (pipelining),
// and answers them with one socket write, as Redis does with its per-client reply buffer; once
// kReplyFlushBytes of replies are pending it writes them before running the next command, so a
// deep pipeline of large replies holds at most that much (and the socket's back-pressure stops
// the reading). A protocol error is answered and then the connection is closed, like Redis; a
// command can ask for the same (QUIT). What a command does is the handler's business, so the
// node (server/) and the proxy (proxy/) share this loop with different command tables.
// Out-of-band messages (pub/sub, MONITOR) are pushed by other fibers of the same executor through
// Connection::Push; a writer fiber sends them, and every write (replies and pushes) holds the
// connection's write mutex, so messages never interleave inside one another. Pushed bytes not yet
// written are bounded by the caller's limit (client-output-buffer-limit): past it Push refuses and
// the caller ends the connection, so a subscriber that stops reading cannot exhaust memory.
// The connection runs in its own fiber; cancelling that fiber (shutdown, CLIENT KILL) ends it at
// its next socket operation.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/log.h"
#include "core/limits.h"
#include "core/sync.h"
#include "net/resp.h"

namespace tierkv::net {

// What the connection does after the replies of a batch have been written.
enum class AfterReply { kKeepOpen, kClose };

// Runs one command (`args`: the name first, at least one element; the handler may move strings
// out) and appends its reply to `out` (in the protocol the handler's client speaks: the handler
// makes its own ReplyWriter). May suspend.
using CommandHandler = std::function<AfterReply(std::vector<std::string>& args, std::string& out)>;

class Connection {
 public:
  Connection(Socket& socket, Executor& executor) : socket_(socket), executor_(executor) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Socket& socket() { return socket_; }
  Executor& executor() { return executor_; }

  // Writes `data` after everything written or pushed before it. Suspends.
  Status Write(std::string_view data);

  // Queues an out-of-band message for the writer fiber. Refuses (returns false, queues nothing)
  // when the bytes queued and not yet written would then pass `hard_limit` (0: none), or have
  // stayed above `soft_limit` for `soft_limit_time` (Redis's client-output-buffer-limit). Never
  // suspends; call on the connection's executor.
  bool Push(std::string data, size_t hard_limit = 0, size_t soft_limit = 0,
            Duration soft_limit_time = Duration::zero());
  size_t queued_bytes() const { return queued_.size(); }

  // Stops the writer fiber (unsent pushes are dropped). Call when serving has ended. Suspends.
  void Finish();

 private:
  void WriteQueued();

  Socket& socket_;
  Executor& executor_;
  Mutex write_mutex_{executor_};
  std::string queued_;
  bool writer_running_ = false;
  FiberHandle writer_;
  WaitQueue writer_done_{executor_};
  TimePoint over_soft_limit_since_ = TimePoint::max();
};

struct ConnectionOptions {
  // Seconds of silence after which the connection is closed (Redis's `timeout`); asked before
  // each read, 0: never.
  std::function<Duration()> idle_timeout;
  // Called with the replies of a batch before they are written (the server waits there for the
  // durability of what they acknowledge). It may replace them; kClose writes what is left and
  // ends the connection. May suspend.
  std::function<AfterReply(std::string& replies)> before_reply;
  // Redis's proto-max-bulk-len and client-query-buffer-limit, asked before each batch (they are
  // runtime settings); the constants of core/limits.h when unset.
  struct InputLimits {
    int64_t max_bulk_length = limits::kProtoMaxBulkLen;
    size_t query_buffer_limit = limits::kClientQueryBufferLimit;
  };
  std::function<InputLimits()> input_limits;
  // Called just before a command of a pipelined batch runs, with it and the next command (parsed
  // ahead), so that the server can start loading (prefetching) what they will touch. Must not
  // suspend.
  std::function<void(const std::vector<std::string>& current, const std::vector<std::string>& next)>
      prefetch;
};

// Serves the connection until the peer closes it, an I/O error, a handler's kClose, a protocol
// error, the idle timeout, or the calling fiber is cancelled. Closes the socket on every path it
// ends on. Suspends.
void ServeConnection(Connection& connection, const CommandHandler& handler, const Log& log,
                     const ConnectionOptions& options = {});

}  // namespace tierkv::net
