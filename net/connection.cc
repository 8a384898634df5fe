#include "net/connection.h"

#include <algorithm>
#include <span>
#include <string>

#include "core/limits.h"
#include "net/input_buffer.h"

namespace tierkv::net {
namespace {

std::span<const std::byte> Bytes(std::string_view data) {
  return std::as_bytes(std::span(data.data(), data.size()));
}

// A parsed command waiting to run, and what parsing after it found.
struct Lookahead {
  std::vector<std::string> command;  // valid when `ready`
  bool ready = false;
  bool error = false;                // a protocol error follows it (parser.error())
};

// Runs complete commands from `input`, appending the replies to `output`, until the input holds
// no complete command (more_input = false), kReplyFlushBytes of replies are pending
// (more_input = true: run the rest before reading), or a command or protocol error closes.
// With a prefetch hook, the command after the one about to run is parsed first and shown to the
// hook (kept in `ahead` across calls). The command vectors are swapped, never cleared: the
// parser assigns the next command's arguments into the strings it gets back (no allocation per
// argument in a pipeline).
AfterReply ProcessInput(InputBuffer& input, RequestParser& parser, const CommandHandler& handler,
                        const ConnectionOptions& options, Lookahead& ahead,
                        std::vector<std::string>& current, std::string& output, const Log& log,
                        const std::string& peer, bool& more_input) {
  more_input = false;
  auto protocol_error = [&] {
    log.Debug("protocol error from {}: {}", peer, parser.error());
    ReplyWriter(output).Error(parser.error());
    return AfterReply::kClose;
  };
  // Parses one command into `into` (kCommand), or reports kNeedMore / kError.
  auto parse = [&](std::vector<std::string>& into) {
    ParseResult parsed = parser.Parse(input.readable());
    input.Consume(parsed.consumed);
    if (parsed.status == ParseStatus::kCommand) into.swap(parser.command());
    return parsed.status;
  };
  while (output.size() < limits::kReplyFlushBytes) {
    if (ahead.ready) {
      current.swap(ahead.command);
      ahead.ready = false;
    } else if (ahead.error) {
      return protocol_error();
    } else {
      switch (parse(current)) {
        case ParseStatus::kNeedMore: return AfterReply::kKeepOpen;
        case ParseStatus::kError: return protocol_error();
        case ParseStatus::kCommand: break;
      }
    }
    if (options.prefetch) {
      switch (parse(ahead.command)) {
        case ParseStatus::kNeedMore: break;
        case ParseStatus::kError: ahead.error = true; break;
        case ParseStatus::kCommand:
          ahead.ready = true;
          options.prefetch(current, ahead.command);
          break;
      }
    }
    if (handler(current, output) == AfterReply::kClose) return AfterReply::kClose;
  }
  more_input = true;
  return AfterReply::kKeepOpen;
}

}  // namespace

Connection::~Connection() {
  TK_ASSERT_MSG(!writer_running_ || executor_.shutting_down(), "Connection not finished");
}

Status Connection::Write(std::string_view data) {
  Status locked = write_mutex_.Lock();
  if (!locked.ok()) return locked;
  Status written = socket_.Write(Bytes(data));
  write_mutex_.Unlock();
  return written;
}

bool Connection::Push(std::string data, size_t hard_limit, size_t soft_limit,
                      Duration soft_limit_time) {
  const size_t after = queued_.size() + data.size();
  if (hard_limit != 0 && after > hard_limit) return false;
  if (soft_limit != 0 && after > soft_limit) {
    const TimePoint now = executor_.Now();
    if (over_soft_limit_since_ == TimePoint::max()) over_soft_limit_since_ = now;
    if (now - over_soft_limit_since_ > soft_limit_time) return false;
  } else {
    over_soft_limit_since_ = TimePoint::max();
  }
  queued_ += data;
  if (!writer_running_) {
    writer_running_ = true;
    // A previous writer has returned: it clears writer_running_ as its last step.
    writer_ = executor_.Spawn("push-writer", [this] { WriteQueued(); });
  }
  return true;
}

void Connection::WriteQueued() {
  while (!queued_.empty()) {  // bounded: each pass writes what was queued before it
    Status locked = write_mutex_.Lock();
    if (!locked.ok()) break;
    std::string sending;
    sending.swap(queued_);
    Status written = socket_.Write(Bytes(sending));
    write_mutex_.Unlock();
    if (!written.ok()) {
      queued_.clear();
      break;
    }
  }
  writer_running_ = false;
  writer_done_.NotifyAll();
}

void Connection::Finish() {
  if (!writer_.valid()) return;
  writer_.Cancel();
  // Uninterruptible: the calling fiber may itself be cancelled (CLIENT KILL, shutdown), and the
  // writer uses this object until it returns. Bounded: the cancelled writer returns at its next
  // park.
  while (writer_running_) {
    WakeReason reason = writer_done_.Wait(kNoDeadline, /*interruptible=*/false);
    TK_ASSERT(reason == WakeReason::kWoken);
  }
  writer_ = FiberHandle();
  queued_.clear();
}

void ServeConnection(Connection& connection, const CommandHandler& handler, const Log& log,
                     const ConnectionOptions& options) {
  Socket& socket = connection.socket();
  const std::string peer = socket.PeerAddress();
  InputBuffer input;
  RequestParser parser;
  Lookahead ahead;
  std::vector<std::string> current;
  std::string output;
  bool more_input = false;
  while (true) {  // one pass per socket read or per flushed part of a batch
    if (!more_input) {
      // Read at least a chunk. Inside a big bulk argument, ask for up to as much again as is
      // buffered: the buffer grows geometrically with the bytes that actually arrived, never to
      // a length the client merely announced (a header alone must not reserve 512 MB).
      const size_t chunk = limits::kSocketReadChunkBytes;
      size_t wanted = std::clamp(parser.BulkBytesWanted(input.size()), chunk,
                                 std::max(chunk, input.size()));
      Deadline deadline = kNoDeadline;
      if (options.idle_timeout) {
        Duration idle = options.idle_timeout();
        if (idle > Duration::zero()) deadline = DeadlineAfter(connection.executor().Now(), idle);
      }
      Result<size_t> read = socket.Read(input.PrepareWrite(wanted), deadline);
      if (!read) {
        log.Debug("connection {} ended: {}", peer, read.error().ToString());
        break;
      }
      if (*read == 0) break;  // the client closed its side
      input.Commit(*read);
    }
    ConnectionOptions::InputLimits input_limits;
    if (options.input_limits) input_limits = options.input_limits();
    parser.set_max_bulk_length(input_limits.max_bulk_length);
    AfterReply after =
        ProcessInput(input, parser, handler, options, ahead, current, output, log, peer, more_input);
    if (options.before_reply && options.before_reply(output) == AfterReply::kClose) {
      after = AfterReply::kClose;
    }
    if (!output.empty()) {
      // Replies go out in a burst after every connection ready in this turn has run its
      // commands, as Redis writes its replies before it sleeps: a send wakes the peer, and a peer
      // woken once per burst instead of once per connection costs the sender (who pays for the
      // wake-up inside send) far less.
      Executor& executor = connection.executor();
      if (executor.HasReady()) executor.Yield();
      Status written = connection.Write(output);
      output.clear();
      if (!written.ok()) {
        log.Debug("connection {} ended: {}", peer, written.ToString());
        break;
      }
      // A huge reply (a big ECHO) must not pin its memory for the connection's lifetime.
      if (output.capacity() > limits::kMaxInlineRequestBytes) output.shrink_to_fit();
    }
    if (after == AfterReply::kClose) break;
    // What is left is one unfinished command. Redis's client-query-buffer-limit: a client that
    // sends more than this without completing a command is dropped, without a reply.
    if (input.size() > input_limits.query_buffer_limit) {
      log.Warn("closing client {} that reached the query buffer limit ({} bytes)", peer,
               input.size());
      break;
    }
  }
  socket.Close();
}

}  // namespace tierkv::net
