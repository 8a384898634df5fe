#include "net/connection.h"

#include <algorithm>
#include <span>
#include <string>

#include "core/limits.h"
#include "net/input_buffer.h"

namespace tierkv::net {
namespace {

// Runs every complete command in `input`, appending the replies to `output`. Returns
// kClose when the connection must close once the replies are written (QUIT, protocol error).
// Bounded: every pass consumes input or returns.
AfterReply ProcessInput(InputBuffer& input, RequestParser& parser, const CommandHandler& handler,
                        std::string& output, const Log& log, const std::string& peer) {
  while (true) {
    ParseResult parsed = parser.Parse(input.readable());
    input.Consume(parsed.consumed);
    switch (parsed.status) {
      case ParseStatus::kNeedMore: return AfterReply::kKeepOpen;
      case ParseStatus::kError:
        log.Debug("protocol error from {}: {}", peer, parser.error());
        ReplyWriter(output).Error(parser.error());
        return AfterReply::kClose;
      case ParseStatus::kCommand:
        if (handler(parser.command(), output) == AfterReply::kClose) {
          return AfterReply::kClose;
        }
        break;
    }
  }
}

}  // namespace

void ServeConnection(Socket& socket, const CommandHandler& handler, const Log& log) {
  const std::string peer = socket.PeerAddress();
  InputBuffer input;
  RequestParser parser;
  std::string output;
  while (true) {  // one pass per socket read; ends with the connection
    // Read at least a chunk. Inside a big bulk argument, ask for up to as much again as is
    // buffered: the buffer grows geometrically with the bytes that actually arrived, never to a
    // length the client merely announced (a header alone must not reserve 512 MB).
    const size_t chunk = limits::kSocketReadChunkBytes;
    size_t wanted = std::clamp(parser.BulkBytesWanted(input.size()), chunk,
                               std::max(chunk, input.size()));
    Result<size_t> read = socket.Read(input.PrepareWrite(wanted));
    if (!read) {
      log.Debug("connection {} ended: {}", peer, read.error().ToString());
      break;
    }
    if (*read == 0) break;  // the client closed its side
    input.Commit(*read);

    AfterReply after = ProcessInput(input, parser, handler, output, log, peer);
    if (!output.empty()) {
      Status written = socket.Write(std::as_bytes(std::span(output)));
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
    if (input.size() > limits::kClientQueryBufferLimit) {
      log.Warn("closing client {} that reached the query buffer limit ({} bytes)", peer,
               input.size());
      break;
    }
  }
  socket.Close();
}

}  // namespace tierkv::net
