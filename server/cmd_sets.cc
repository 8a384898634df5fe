// sets commands.
#include "server/command.h"

namespace tierkv::server {

void RegisterSetCommands(CommandTable& table) { (void)table; }

}  // namespace tierkv::server
