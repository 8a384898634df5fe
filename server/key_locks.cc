#include "server/key_locks.h"

namespace tierkv::server {

std::string LockId(int db, std::string_view key) {
  std::string id;
  id.reserve(key.size() + 2);
  id.push_back(static_cast<char>(db >> 8));
  id.push_back(static_cast<char>(db & 0xff));
  id.append(key);
  return id;
}

}  // namespace tierkv::server
