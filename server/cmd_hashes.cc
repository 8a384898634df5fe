// hashes commands.
#include "server/command.h"

namespace tierkv::server {

void RegisterHashCommands(CommandTable& table) { (void)table; }

}  // namespace tierkv::server
