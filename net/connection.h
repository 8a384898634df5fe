// One client connection: read, parse, execute, reply, until the client leaves.
//
// The loop reads whatever the socket has, runs every complete command in the input (pipelining),
// and answers them all with one socket write, as Redis does with its per-client reply buffer.
// A protocol error is answered and then the connection is closed, like Redis; a command can ask
// for the same (QUIT). What a command does is the handler's business, so the node (server/) and
// the proxy (proxy/) share this loop with different command tables.
// The connection runs in its own fiber; cancelling that fiber (shutdown) ends it at its next
// socket operation.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/log.h"
#include "net/resp.h"

namespace tierkv::net {

// What the connection does after the replies of a batch have been written.
enum class AfterReply { kKeepOpen, kClose };

// Runs one command (`args`: the name first, at least one element; the handler may move strings
// out) and appends its reply to `out` (in the protocol the handler's client speaks: the handler
// makes its own ReplyWriter). May suspend.
using CommandHandler = std::function<AfterReply(std::vector<std::string>& args, std::string& out)>;

// Serves `socket` until the peer closes it, an I/O error, a handler's kClose, a protocol error, or
// the calling fiber is cancelled. Closes the socket on every path it ends on. Suspends.
void ServeConnection(Socket& socket, const CommandHandler& handler, const Log& log);

}  // namespace tierkv::net
