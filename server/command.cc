#include "server/command.h"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/assert.h"
#include "core/hash.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

constexpr std::array<std::pair<CommandFlag, std::string_view>, 16> kFlagNames = {{
    {kCmdWrite, "write"},
    {kCmdReadonly, "readonly"},
    {kCmdDenyOom, "denyoom"},
    {kCmdAdmin, "admin"},
    {kCmdPubsub, "pubsub"},
    {kCmdNoScript, "noscript"},
    {kCmdBlocking, "blocking"},
    {kCmdLoading, "loading"},
    {kCmdStale, "stale"},
    {kCmdSkipMonitor, "skip_monitor"},
    {kCmdSkipSlowlog, "skip_slowlog"},
    {kCmdFast, "fast"},
    {kCmdNoAuth, "no_auth"},
    {kCmdNoMulti, "no_multi"},
    {kCmdAllowBusy, "allow_busy"},
    {kCmdMayReplicate, "may_replicate"},
}};

constexpr std::array<AclCategoryName, 21> kAclNames = {{
    {"keyspace", kAclKeyspace}, {"read", kAclRead}, {"write", kAclWrite}, {"set", kAclSet},
    {"sortedset", kAclSortedSet}, {"list", kAclList}, {"hash", kAclHash},
    {"string", kAclString}, {"bitmap", kAclBitmap}, {"hyperloglog", kAclHyperLogLog},
    {"geo", kAclGeo}, {"stream", kAclStream}, {"pubsub", kAclPubsub}, {"admin", kAclAdmin},
    {"fast", kAclFast}, {"slow", kAclSlow}, {"blocking", kAclBlocking},
    {"dangerous", kAclDangerous}, {"connection", kAclConnection},
    {"transaction", kAclTransaction}, {"scripting", kAclScripting},
}};

// Redis formats user strings into error texts with "%s": they end at a NUL byte.
std::string_view AsCString(std::string_view text) { return text.substr(0, text.find('\0')); }

}  // namespace

std::vector<std::string_view> CommandFlagNames(uint32_t flags) {
  std::vector<std::string_view> names;
  for (const auto& [flag, name] : kFlagNames) {
    if ((flags & flag) != 0) names.push_back(name);
  }
  return names;
}

std::span<const AclCategoryName> AclCategoryNames() { return kAclNames; }

uint64_t CommandSpec::Categories() const {
  uint64_t result = categories;
  if ((flags & kCmdWrite) != 0) result |= kAclWrite;
  if ((flags & kCmdReadonly) != 0 && (categories & kAclScripting) == 0) result |= kAclRead;
  if ((flags & kCmdAdmin) != 0) result |= kAclAdmin | kAclDangerous;
  if ((flags & kCmdPubsub) != 0) result |= kAclPubsub;
  if ((flags & kCmdBlocking) != 0) result |= kAclBlocking;
  result |= (flags & kCmdFast) != 0 ? kAclFast : kAclSlow;
  return result;
}

std::optional<std::string> InterCardKeyPositions(const std::vector<std::string>& args,
                                                 KeyPositionList& positions) {
  int64_t numkeys = 0;
  if (args.size() < 2 || !ParseInt64(args[1], numkeys) || numkeys < 1) {
    return "ERR numkeys should be greater than 0";
  }
  if (static_cast<uint64_t>(numkeys) > args.size() - 2) {
    return "ERR Number of keys can't be greater than number of args";
  }
  for (int64_t i = 0; i < numkeys; i++) positions.push_back(static_cast<int>(2 + i));
  return std::nullopt;
}

std::optional<std::string> MPopKeyPositions(const std::vector<std::string>& args,
                                            size_t numkeys_at, KeyPositionList& positions) {
  int64_t numkeys = 0;
  if (args.size() <= numkeys_at || !ParseInt64(args[numkeys_at], numkeys) || numkeys < 1) {
    return "ERR numkeys should be greater than 0";
  }
  if (static_cast<uint64_t>(numkeys) >= args.size() - numkeys_at - 1) return "ERR syntax error";
  for (int64_t i = 1; i <= numkeys; i++) positions.push_back(static_cast<int>(numkeys_at + i));
  return std::nullopt;
}

CommandSpec MakeCommand(std::string_view name, int arity, uint32_t flags, uint64_t categories,
                        KeySpec keys, Handler handler, std::string_view group,
                        std::string_view since, std::string_view summary) {
  CommandSpec spec;
  spec.name = name;
  spec.arity = arity;
  spec.flags = flags;
  spec.categories = categories;
  spec.keys = keys;
  spec.handler = handler;
  spec.group = group;
  spec.since = since;
  spec.summary = summary;
  return spec;
}

void AddCommands(CommandTable& table, std::span<const CommandRow> rows, std::string_view group) {
  for (const CommandRow& row : rows) {
    table.Add(MakeCommand(row.name, row.arity, row.flags, row.categories, row.keys, row.handler,
                          group, row.since, row.summary));
  }
}

size_t CommandTable::NameHash::operator()(std::string_view name) const { return Xxh3(name); }

void CommandTable::Add(CommandSpec spec) {
  const bool added = index_.emplace(ToLower(spec.name), commands_.size()).second;
  TK_ASSERT_MSG(added, "command registered twice");
  longest_name_ = std::max(longest_name_, spec.name.size());
  commands_.push_back(std::move(spec));
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  // Lower-cased on the stack (every command looks itself up); a name longer than every
  // command's is no command.
  constexpr size_t kMaxName = 64;
  if (name.size() > longest_name_ || name.size() > kMaxName) return nullptr;
  char lower[kMaxName];
  for (size_t i = 0; i < name.size(); i++) {
    const char c = name[i];
    lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  auto found = index_.find(std::string_view(lower, name.size()));
  return found == index_.end() ? nullptr : &commands_[found->second];
}

std::string FullName(const CommandSpec& spec, const CommandSpec* parent) {
  if (parent == nullptr) return std::string(spec.name);
  return std::string(parent->name) + "|" + std::string(spec.name);
}

CommandTable BuildCommandTable() {
  CommandTable table;
  RegisterConnectionCommands(table);
  RegisterKeyCommands(table);
  RegisterStringCommands(table);
  RegisterBitCommands(table);
  RegisterHashCommands(table);
  RegisterListCommands(table);
  RegisterSetCommands(table);
  RegisterSortedSetCommands(table);
  RegisterServerCommands(table);
  RegisterInfoCommand(table);
  RegisterPubSubCommands(table);
  RegisterAclCommands(table);
  return table;
}

// --- Ctx ---

Env& Ctx::env() { return server_.env(); }
ShardSet& Ctx::shards() { return server_.shards(); }
Shard& Ctx::shard() { return server_.shards().local(); }
uint64_t Ctx::UnsyncedOf(Shard& shard) { return shard.engine().unsynced_lsn(); }

void Ctx::Changed(std::string_view key, int notify, std::string_view event) {
  server_.KeyChanged(db_, key, notify, event);
}

void Ctx::Block(std::vector<std::string> keys, Deadline deadline, TimeoutReply on_timeout) {
  TK_ASSERT_MSG(may_block_, "Block outside a context that may block");
  TK_ASSERT(!keys.empty());
  block_request_ = BlockRequest{std::move(keys), deadline, on_timeout};
}

std::optional<Deadline> Ctx::BlockingDeadline(size_t i) {
  double seconds_value = 0;
  // Redis: getTimeoutFromObjectOrReply parses a long double; NaN and inf are refused.
  if (!ParseDouble(args_[i], seconds_value) || std::isinf(seconds_value)) {
    reply_.Error("ERR timeout is not a float or out of range");
    return std::nullopt;
  }
  if (seconds_value < 0) {
    reply_.Error("ERR timeout is negative");
    return std::nullopt;
  }
  if (seconds_value == 0) return kNoDeadline;
  constexpr double kMaxSeconds = 1e12;  // beyond any deadline the clock can express
  if (seconds_value > kMaxSeconds) {
    reply_.Error("ERR timeout is out of range");
    return std::nullopt;
  }
  return DeadlineAfter(env().Now(), std::chrono::duration_cast<Duration>(
                                        std::chrono::duration<double>(seconds_value)));
}

void Ctx::Error(const Status& status) {
  TK_ASSERT(!status.ok());
  const std::string& message = status.message();
  size_t code_end = message.find(' ');
  bool has_code = code_end != std::string::npos && code_end > 0;
  for (size_t i = 0; has_code && i < code_end; i++) {
    has_code = message[i] >= 'A' && message[i] <= 'Z';
  }
  if (has_code) {
    reply_.Error(message);
  } else {
    reply_.Error("ERR " + status.ToString());
  }
}

bool Ctx::Check(const Status& status) {
  if (status.ok()) return true;
  Error(status);
  return false;
}

void Ctx::WrongArity() {
  reply_.Error("ERR wrong number of arguments for '" + std::string(spec_.name) + "' command");
}

std::optional<int64_t> Ctx::Int(size_t i) {
  int64_t value = 0;
  if (!ParseInt64(args_[i], value)) {
    reply_.Error("ERR value is not an integer or out of range");
    return std::nullopt;
  }
  return value;
}

std::optional<double> Ctx::Float(size_t i) {
  double value = 0;
  if (!ParseDouble(args_[i], value)) {
    reply_.Error("ERR value is not a valid float");
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> Ctx::IntInRange(size_t i, int64_t min, int64_t max, std::string_view error) {
  std::optional<int64_t> value = Int(i);
  if (!value) return std::nullopt;
  if (*value < min || *value > max) {
    reply_.Error(error);
    return std::nullopt;
  }
  return value;
}

bool Ctx::Is(size_t i, std::string_view keyword) const {
  return i < args_.size() && EqualsIgnoreCase(args_[i], keyword);
}

// --- helpers ---

bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return EqualsNoCase(a, b); }

std::string ToLower(std::string_view text) { return Lower(text); }

bool ParseInt64(std::string_view text, int64_t& value) {
  // Redis's string2ll: optional '-', digits, no leading zero (except "0"), no overflow.
  if (text.empty() || text.size() > 20) return false;
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    i = 1;
    if (text.size() == 1) return false;
  }
  if (text[i] == '0' && text.size() > i + 1) return false;
  if (text[i] == '0') {
    if (negative) return false;
    value = 0;
    return true;
  }
  uint64_t magnitude = 0;
  for (; i < text.size(); i++) {
    if (text[i] < '0' || text[i] > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (magnitude > (UINT64_MAX - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  if (negative) {
    if (magnitude > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    value = static_cast<int64_t>(0 - magnitude);
  } else {
    if (magnitude > static_cast<uint64_t>(INT64_MAX)) return false;
    value = static_cast<int64_t>(magnitude);
  }
  return true;
}

std::optional<uint64_t> ParseScanCursor(std::string_view text) {
  const bool negative = text.starts_with('-');
  const bool sign = negative || text.starts_with('+');
  std::string_view digits = text.substr(sign ? 1 : 0);
  if (sign && digits.empty()) return std::nullopt;
  uint64_t cursor = 0;
  for (char c : digits) {
    const auto digit = static_cast<uint64_t>(c - '0');
    if (c < '0' || c > '9' || cursor > (UINT64_MAX - digit) / 10) return std::nullopt;
    cursor = cursor * 10 + digit;
  }
  return negative ? 0 - cursor : cursor;
}

bool ParseDouble(std::string_view text, double& value) {
  // Redis: strtod over the whole string; no leading space; NaN refused.
  if (text.empty() || text.size() > 5000) return false;
  if (text[0] == ' ' || text[0] == '\t' || text[0] == '\n' || text[0] == '\r' ||
      text[0] == '\v' || text[0] == '\f') {
    return false;
  }
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const double parsed = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || std::isnan(parsed)) return false;
  if (errno == ERANGE && (parsed == HUGE_VAL || parsed == -HUGE_VAL || parsed == 0)) {
    // Redis accepts underflow to 0 but not overflow of a finite text.
    if (parsed != 0) return false;
  }
  value = parsed;
  return true;
}

std::string FormatDouble(double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  int n = std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return std::string(buffer, static_cast<size_t>(n));
}

std::string UnknownCommandError(const std::vector<std::string>& args) {
  TK_ASSERT(!args.empty());
  constexpr size_t kMaxShownBytes = 128;  // Redis's "%.128s" and its 128-byte argument list
  std::string listed;
  for (size_t i = 1; i < args.size() && listed.size() < kMaxShownBytes; i++) {
    const size_t room = kMaxShownBytes - listed.size();
    listed += '\'';
    listed += AsCString(args[i]).substr(0, room);
    listed += "' ";
  }
  return "ERR unknown command '" + std::string(AsCString(args[0]).substr(0, kMaxShownBytes)) +
         "', with args beginning with: " + listed;
}

}  // namespace tierkv::server
