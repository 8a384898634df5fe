// sorted sets commands.
#include "server/command.h"

namespace tierkv::server {

void RegisterSortedSetCommands(CommandTable& table) { (void)table; }

}  // namespace tierkv::server
