// lists commands.
#include "server/command.h"

namespace tierkv::server {

void RegisterListCommands(CommandTable& table) { (void)table; }

}  // namespace tierkv::server
