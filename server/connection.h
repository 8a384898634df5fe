// One client connection: read, parse, execute, reply, until the client leaves.
//
// The loop reads whatever the socket has, runs every complete command in the input (pipelining),
// and answers them all with one socket write, as Redis does with its per-client reply buffer.
// A protocol error is answered and then the connection is closed, like Redis; so is QUIT.
// The connection runs in its own fiber; cancelling that fiber (shutdown) ends it at its next
// socket operation.
#pragma once

#include "core/env.h"
#include "core/log.h"

namespace tierkv::server {

// Serves `socket` until the peer closes it, an I/O error, QUIT, a protocol error, or the calling
// fiber is cancelled. Closes the socket on every path it ends on. Suspends.
void ServeConnection(Socket& socket, const Log& log);

}  // namespace tierkv::server
