// Generic key commands.
#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

// DEL/UNLINK/EXISTS: one call per key on its owner (keys may span shards).
void CountKeys(Ctx& ctx, bool remove) {
  int64_t count = 0;
  for (size_t i = 1; i < ctx.argc(); i++) {
    const std::string& key = ctx.arg(i);
    const int db = ctx.db();
    Server& server = ctx.server();
    auto found = ctx.On<bool>(ctx.OwnerOf(key), [&, db](Shard& shard) -> Result<bool> {
      if (!remove) {
        auto type = shard.store().Type(db, key);
        if (!type) return Err(type.error());
        return *type != tiers::RedisType::kNone;
      }
      auto deleted = shard.store().Delete(db, key);
      if (deleted && *deleted) server.KeyChanged(db, key, kNotifyGeneric, "del");
      return deleted;
    });
    if (!found) return ctx.Error(found.error());
    count += *found ? 1 : 0;
  }
  ctx.reply().Integer(count);
}

void Del(Ctx& ctx) { CountKeys(ctx, true); }
void Exists(Ctx& ctx) { CountKeys(ctx, false); }

void Type(Ctx& ctx) {
  auto type = ctx.store().Type(ctx.db(), ctx.arg(1));
  if (!type) return ctx.Error(type.error());
  ctx.reply().SimpleString(tiers::RedisTypeName(*type));
}

}  // namespace

void RegisterKeyCommands(CommandTable& table) {
  constexpr uint64_t kKeyspace = kAclKeyspace;
  table.Add(MakeCommand("del", -2, kCmdWrite, kKeyspace, {1, -1, 1}, Del, "generic", "1.0.0",
                        "Delete a key"));
  table.Add(MakeCommand("exists", -2, kCmdReadonly | kCmdFast, kKeyspace, {1, -1, 1}, Exists,
                        "generic", "1.0.0", "Determine if a key exists"));
  table.Add(MakeCommand("type", 2, kCmdReadonly | kCmdFast, kKeyspace, {1, 1, 1}, Type, "generic",
                        "1.0.0", "Determine the type stored at key"));
}

}  // namespace tierkv::server
