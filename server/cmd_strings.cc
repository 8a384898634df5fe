// String commands.
#include "server/command.h"

namespace tierkv::server {
namespace {

void Get(Ctx& ctx) {
  auto value = ctx.store().Get(ctx.db(), ctx.arg(1));
  if (!value) return ctx.Error(value.error());
  if (!*value) return ctx.reply().NullBulk();
  ctx.reply().Bulk(**value);
}

void Set(Ctx& ctx) {
  if (ctx.argc() != 3) return ctx.SyntaxError();  // the options come with the string family
  if (!ctx.Check(ctx.store().Set(ctx.db(), ctx.arg(1), ctx.arg(2)))) return;
  ctx.Changed(ctx.arg(1), kNotifyString, "set");
  ctx.Ok();
}

}  // namespace

void RegisterStringCommands(CommandTable& table) {
  constexpr uint64_t kString = kAclString;
  table.Add(MakeCommand("get", 2, kCmdReadonly | kCmdFast, kString, {1, 1, 1}, Get, "string",
                        "1.0.0", "Get the value of a key"));
  table.Add(MakeCommand("set", -3, kCmdWrite | kCmdDenyOom, kString, {1, 1, 1}, Set, "string",
                        "1.0.0", "Set the string value of a key"));
}

}  // namespace tierkv::server
