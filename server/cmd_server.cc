// Server commands.
#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

void CommandCount(Ctx& ctx) {
  ctx.reply().Integer(static_cast<int64_t>(ctx.server().table().all().size()));
}

}  // namespace

void RegisterServerCommands(CommandTable& table) {
  CommandSpec command = MakeCommand("command", -1, kCmdLoading | kCmdStale, kAclConnection, {},
                                    nullptr, "server", "2.8.13",
                                    "Get array of Redis command details");
  command.subcommands.push_back(MakeCommand("count", 2, kCmdLoading | kCmdStale, kAclConnection,
                                            {}, CommandCount, "server", "2.8.13",
                                            "Get total number of Redis commands"));
  table.Add(std::move(command));
}

}  // namespace tierkv::server
