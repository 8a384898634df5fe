// The command table of the first server cut: connection-level commands that touch no data.
//
// ExecuteCommand looks a command up by name (case-insensitively, as Redis does), checks its arity
// with Redis's rule (arity N > 0: exactly N arguments including the name; arity -N: at least N)
// and runs it, appending the reply. Unknown commands and wrong arities get Redis 7.0's exact
// error texts (server.c, processCommand), because client libraries and test suites match on them.
// Commands that need data (GET, SET...) will come in their own files, one per command family,
// registered in the same table.
#pragma once

#include <string>
#include <vector>

#include "net/connection.h"
#include "net/resp.h"

namespace tierkv::server {

using net::AfterReply;

// Runs `args` (the name first; at least one element) and appends its reply to `reply`. Never
// suspends. The command may move strings out of `args`. Fits net::CommandHandler.
AfterReply ExecuteCommand(std::vector<std::string>& args, net::ReplyWriter& reply);

// Redis 7.0's reply text for an unknown command (exposed for tests):
//   ERR unknown command 'foo', with args beginning with: 'a' 'b'
// with a trailing space after each argument, the name cut at 128 bytes, arguments appended while
// the list is shorter than 128 bytes (the last one cut to fit), each cut at a NUL byte (Redis
// formats them with %s).
std::string UnknownCommandError(const std::vector<std::string>& args);

}  // namespace tierkv::server
