// The settings table and what Redis 7.0 does with it: loading, CONFIG GET/SET/REWRITE (see
// config.h for the design). The text grammar it reads and writes is in config_syntax.cc.
#include "server/config.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <climits>
#include <map>
#include <optional>
#include <unordered_map>

#include "core/assert.h"
#include "core/limits.h"
#include "server/config_syntax.h"

namespace tierkv::server {
namespace {

constexpr std::array<std::string_view, 3> kAppendFsync = {"everysec", "always", "no"};
constexpr std::array<std::string_view, 1> kAppendOnly = {"yes"};
constexpr std::array<std::string_view, 4> kLogLevels = {"debug", "verbose", "notice", "warning"};
// spdlog's names, which the first tierkv-server flags took, still accepted (not listed in errors).
constexpr std::pair<std::string_view, std::string_view> kLogLevelAliases[] = {
    {"trace", "debug"}, {"info", "notice"}, {"warn", "warning"}};
constexpr int64_t kIntMax = INT_MAX;
constexpr int64_t kInt64Max = INT64_MAX;

// Defaults are in config-file syntax (units allowed); the Config constructor parses them.
constexpr SettingSpec kSettingTable[] = {
    {"bind", SettingType::kSpecial, "127.0.0.1", 0, 0, {}, false,
     "Addresses to listen on (1 to 16, space-separated); tierkv listens on the first only"},
    {"port", SettingType::kInt, "6379", 0, 65535, {}, false, "TCP port for clients"},
    {"timeout", SettingType::kInt, "0", 0, kIntMax, {}, true,
     "Close a connection after this many idle seconds (0: never)"},
    {"threads", SettingType::kInt, "0", 0, limits::kMaxExecutors, {}, false,
     "Shard threads, each with its own slots and storage engine (0: one per core)"},
    {"databases", SettingType::kInt, "16", 1, kIntMax, {}, false,
     "Number of logical databases (SELECT 0 to databases-1)"},
    {"maxclients", SettingType::kInt, "10000", 1, UINT_MAX, {}, true,
     "Most client connections at once; more are refused with Redis's error"},
    {"requirepass", SettingType::kString, "", 0, 0, {}, true,
     "Password of the default user (empty: no password)"},
    {"daemonize", SettingType::kBool, "no", 0, 0, {}, false,
     "Only 'no': run in the foreground under a supervisor"},
    {"loglevel", SettingType::kEnum, "notice", 0, 0, kLogLevels, true,
     "Log verbosity: debug, verbose, notice or warning"},
    {"logfile", SettingType::kString, "", 0, 0, {}, false, "Log file (empty: standard error)"},
    {"dir", SettingType::kString, "./data", 0, 0, {}, false,
     "Data directory; shard i keeps its engine in <dir>/shard-<i>"},
    {"maxmemory", SettingType::kBytes, "0", 0, kInt64Max, {}, false,
     "Memory budget of the storage engines, split evenly over the threads (0: engine defaults)"},
    {"appendfsync", SettingType::kEnum, "everysec", 0, 0, kAppendFsync, false,
     "When a write is durable: always (before the reply), everysec, no (left to the OS)"},
    {"appendonly", SettingType::kEnum, "yes", 0, 0, kAppendOnly, false,
     "Always yes: every write goes to the WAL, tierkv's append-only file (clients such as "
     "redis-benchmark read it)"},
    {"save", SettingType::kSpecial, "3600 1 300 100 60 10000", 0, 0, {}, true,
     "Redis's snapshot points, accepted and stored (tierkv checkpoints on its own)"},
    {"pmem-path", SettingType::kString, "", 0, 0, {}, false,
     "Persistent-memory cache file; shard i uses <pmem-path>-<i> (empty: DRAM only)"},
    {"pmem-size", SettingType::kBytes, "0", 0, kInt64Max, {}, false,
     "Size of the persistent-memory cache, split evenly over the threads"},
    {"pmem-wal-size", SettingType::kBytes, "0", 0, kInt64Max, {}, false,
     "With pmem-path: the WAL ring in persistent memory, split over the threads (0: WAL on SSD)"},
    {"cold-dir", SettingType::kString, "", 0, 0, {}, false,
     "Cold-tier directory; shard i uses <cold-dir>/shard-<i> (empty: no cold tier)"},
    {"cold-after", SettingType::kDurationSeconds, "0", 0, kIntMax, {}, false,
     "Seconds without a read after which a page moves to the cold tier (0: never)"},
    {"notify-keyspace-events", SettingType::kSpecial, "", 0, 0, {}, true,
     "Keyspace notification classes, Redis's letters (e.g. KEA; empty: off)"},
    {"slowlog-log-slower-than", SettingType::kInt, "10000", -1, kInt64Max, {}, true,
     "Log commands slower than this many microseconds (-1: off, 0: all)"},
    {"slowlog-max-len", SettingType::kInt, "128", 0, LONG_MAX, {}, true,
     "Entries kept in the slow log"},
    {"latency-monitor-threshold", SettingType::kInt, "0", 0, kInt64Max, {}, true,
     "Record events (commands) that take at least this many milliseconds (0: off)"},
    {"proto-max-bulk-len", SettingType::kBytes, "512mb", 1024 * 1024, kInt64Max, {}, true,
     "Largest bulk string a client may send"},
    {"client-query-buffer-limit", SettingType::kBytes, "1gb", 1024 * 1024, kInt64Max, {}, true,
     "Most unparsed input kept for one client"},
    {"client-output-buffer-limit", SettingType::kSpecial,
     "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60", 0, 0, {}, true,
     "Per client class: <class> <hard> <soft> <soft-seconds>; a client past a limit is closed"},
    {"hz", SettingType::kInt, "10", 0, kIntMax, {}, true,
     "Background task frequency per second (clamped to 1..500)"},
};

// The multi-argument settings: several values on one line; CONFIG SET splits its value on spaces.
bool IsMultiArg(std::string_view name) {
  return name == "bind" || name == "save" || name == "client-output-buffer-limit";
}

// Keyspace notification classes (Redis 7.0 notify.c).
constexpr std::string_view kNotifyClasses = "g$lshzxetdn";  // one bit each, in this order
constexpr int kNotifyKeyspace = 1 << 11, kNotifyKeyevent = 1 << 12, kNotifyKeyMiss = 1 << 13;
constexpr int kNotifyAll = (1 << 10) - 1;  // g$lshzxetd: A, which leaves out n and m

std::optional<int> NotifyFlags(std::string_view text) {
  int flags = 0;
  for (char c : text) {
    if (c == 'A') {
      flags |= kNotifyAll;
    } else if (c == 'K') {
      flags |= kNotifyKeyspace;
    } else if (c == 'E') {
      flags |= kNotifyKeyevent;
    } else if (c == 'm') {
      flags |= kNotifyKeyMiss;
    } else if (size_t bit = kNotifyClasses.find(c); bit != std::string_view::npos && c != 0) {
      flags |= 1 << bit;
    } else {
      return std::nullopt;
    }
  }
  return flags;
}

std::string NotifyText(int flags) {
  std::string text;
  if ((flags & kNotifyAll) == kNotifyAll) {
    text = "A";
    if (flags & (1 << 10)) text += 'n';
  } else {
    for (size_t bit = 0; bit < kNotifyClasses.size(); bit++) {
      if (flags & (1 << bit)) text += kNotifyClasses[bit];
    }
  }
  if (flags & kNotifyKeyspace) text += 'K';
  if (flags & kNotifyKeyevent) text += 'E';
  if (flags & kNotifyKeyMiss) text += 'm';
  return text;
}

std::optional<int> ClientClassByName(std::string_view name) {
  std::string lower = Lower(name);
  if (lower == "normal") return 0;
  if (lower == "slave" || lower == "replica") return 1;
  if (lower == "pubsub") return 2;
  return std::nullopt;  // "master" is a client type too, but has no output buffer limit
}
constexpr std::string_view kClientClassNames[] = {"normal", "slave", "pubsub"};

const Config& Defaults() {
  static const Config defaults;
  return defaults;
}

}  // namespace

std::string_view SettingTypeName(SettingType type) {
  switch (type) {
    case SettingType::kString: return "string";
    case SettingType::kInt: return "integer";
    case SettingType::kBytes: return "bytes";
    case SettingType::kBool: return "yes/no";
    case SettingType::kEnum: return "enum";
    case SettingType::kDurationSeconds: return "seconds";
    case SettingType::kSpecial: return "special";
  }
  TK_UNREACHABLE();
}

std::span<const SettingSpec> AllSettings() { return kSettingTable; }

const SettingSpec* FindSetting(std::string_view name) {
  // One hash probe: the server reads settings on every command (slowlog, latency thresholds).
  // The table's names are lower case; the server's own lookups use them as they are (no copy).
  static const std::unordered_map<std::string_view, const SettingSpec*> kByName = [] {
    std::unordered_map<std::string_view, const SettingSpec*> by_name;
    for (const SettingSpec& spec : kSettingTable) by_name.emplace(spec.name, &spec);
    return by_name;
  }();
  auto found = kByName.find(name);
  if (found == kByName.end()) found = kByName.find(Lower(name));
  return found == kByName.end() ? nullptr : found->second;
}

Result<std::string> ReadTextFile(Env& env, const std::string& path) {
  auto file = env.OpenFile(path, OpenOptions{.read_only = true});
  if (!file) return Err(file.error());
  auto size = (*file)->Size();
  if (!size) return Err(size.error());
  std::string text(*size, '\0');
  size_t done = 0;
  while (done < text.size()) {
    auto read = (*file)->Read(done, std::as_writable_bytes(std::span(text).subspan(done)));
    if (!read) return Err(read.error());
    if (*read == 0) break;  // shrank under us
    done += *read;
  }
  text.resize(done);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Config

Config::Config() : values_(std::size(kSettingTable)) {
  for (const SettingSpec& spec : kSettingTable) {
    std::vector<std::string> args = IsMultiArg(spec.name) ? SplitOnSpaces(spec.default_value)
                                                          : std::vector<std::string>{
                                                                std::string(spec.default_value)};
    std::string error = Apply(spec, args);
    TK_ASSERT_MSG(error.empty(), "bad default in the settings table");
  }
  slowlog_index_ = IndexOf(*FindSetting("slowlog-log-slower-than"));
  latency_index_ = IndexOf(*FindSetting("latency-monitor-threshold"));
}

size_t Config::IndexOf(const SettingSpec& spec) const {
  size_t index = static_cast<size_t>(&spec - kSettingTable);
  TK_ASSERT(index < values_.size());
  return index;
}

namespace {

// The value of an enum setting in its canonical spelling, or Redis's error.
std::string ParseEnum(const SettingSpec& spec, std::string_view arg, std::string& text) {
  for (std::string_view allowed : spec.allowed) {
    if (EqualsNoCase(allowed, arg)) {
      text = allowed;
      return "";
    }
  }
  for (auto [alias, level] : kLogLevelAliases) {
    if (spec.name == "loglevel" && EqualsNoCase(alias, arg)) {
      text = level;
      return "";
    }
  }
  std::string error = "argument must be one of the following: ";
  for (size_t i = 0; i < spec.allowed.size(); i++) {
    error += (i ? ", " : "") + std::string(spec.allowed[i]);
  }
  return error;
}

// An integer, size or duration within the setting's bounds, or Redis's error.
std::string ParseNumber(const SettingSpec& spec, std::string_view arg, int64_t& number) {
  if (spec.type == SettingType::kBytes) {
    auto bytes = ParseMemory(arg);
    if (!bytes || *bytes > static_cast<uint64_t>(INT64_MAX)) {
      return "argument must be a memory value";
    }
    number = static_cast<int64_t>(*bytes);
  } else {
    auto parsed = ParseInt(arg);
    if (!parsed) return "argument couldn't be parsed into an integer";
    number = *parsed;
  }
  if (number < spec.min || number > spec.max) {
    return fmt::format("argument must be between {} and {} inclusive", spec.min, spec.max);
  }
  if (spec.name == "hz") number = std::clamp<int64_t>(number, 1, 500);  // Redis's updateHZ
  return "";
}

}  // namespace

std::string Config::Apply(const SettingSpec& spec, const std::vector<std::string>& args) {
  Entry& value = values_[IndexOf(spec)];
  std::string_view name = spec.name;
  if (!IsMultiArg(name) && args.size() != 1) return "wrong number of arguments";
  switch (spec.type) {
    case SettingType::kString:
      value.text = args[0];
      return "";
    case SettingType::kBool: {
      std::string lower = Lower(args[0]);
      if (lower != "yes" && lower != "no") return "argument must be 'yes' or 'no'";
      if (name == "daemonize" && lower == "yes") {
        return "daemonize yes is not supported: run tierkv-server in the foreground (under "
               "systemd or another supervisor)";
      }
      value.number = lower == "yes";
      value.text = lower;
      return "";
    }
    case SettingType::kEnum:
      return ParseEnum(spec, args[0], value.text);
    case SettingType::kInt:
    case SettingType::kDurationSeconds:
    case SettingType::kBytes: {
      int64_t number = 0;
      std::string error = ParseNumber(spec, args[0], number);
      if (!error.empty()) return error;
      value.number = number;
      value.text = std::to_string(number);
      return "";
    }
    case SettingType::kSpecial:
      break;
  }
  if (name == "bind") {
    if (args.size() > 16) return "Too many bind addresses specified.";
    if (args.empty() || (args.size() == 1 && args[0].empty())) {
      return "tierkv needs at least one bind address";
    }
    value.text.clear();
    for (const std::string& address : args) value.text += (value.text.empty() ? "" : " ") + address;
    return "";
  }
  if (name == "notify-keyspace-events") {
    auto flags = NotifyFlags(args[0]);
    if (!flags) return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
    notify_flags_ = *flags;
    value.text = NotifyText(*flags);
    return "";
  }
  if (name == "save") return ApplySave(args, value.text);
  if (name == "client-output-buffer-limit") return ApplyOutputLimits(args, value.text);
  TK_UNREACHABLE();
}

std::string Config::ApplySave(const std::vector<std::string>& args, std::string& text) {
  std::vector<std::string> pairs = args;
  if (pairs.size() == 1 && pairs[0].empty()) pairs.clear();  // save "" turns saving off
  if (pairs.size() % 2 != 0) return "Invalid save parameters";
  std::vector<std::pair<int64_t, int64_t>> parsed;
  for (size_t i = 0; i < pairs.size(); i += 2) {
    auto seconds = ParseInt(pairs[i]);
    auto changes = ParseInt(pairs[i + 1]);
    if (!seconds || !changes || *seconds < 1 || *changes < 0) return "Invalid save parameters";
    parsed.emplace_back(*seconds, *changes);
  }
  // In one load, the first `save` line replaces the defaults and later ones add to it; CONFIG
  // SET replaces (Redis 7.0 setConfigSaveOption).
  if (!loading_ || !save_loaded_in_this_load_) save_.clear();
  if (loading_) save_loaded_in_this_load_ = true;
  save_.insert(save_.end(), parsed.begin(), parsed.end());
  text.clear();
  for (auto [seconds, changes] : save_) {
    text += fmt::format("{}{} {}", text.empty() ? "" : " ", seconds, changes);
  }
  return "";
}

std::string Config::ApplyOutputLimits(const std::vector<std::string>& args, std::string& text) {
  // Redis checks every group before changing any (updateClientOutputBufferLimit).
  if (args.size() % 4 != 0) return "Wrong number of arguments in buffer limit configuration.";
  OutputBufferLimit limits[3] = {output_limits_[0], output_limits_[1], output_limits_[2]};
  for (size_t i = 0; i < args.size(); i += 4) {
    auto client_class = ClientClassByName(args[i]);
    if (!client_class) return "Invalid client class specified in buffer limit configuration.";
    auto hard = ParseMemory(args[i + 1]);
    auto soft = ParseMemory(args[i + 2]);
    auto soft_seconds = ParseInt(args[i + 3]);
    if (!hard || !soft || !soft_seconds || *soft_seconds < 0) {
      return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
    }
    limits[*client_class] = {*hard, *soft, *soft_seconds};
  }
  text.clear();
  for (int i = 0; i < 3; i++) {
    output_limits_[i] = limits[i];
    text += fmt::format("{}{} {} {} {}", i ? " " : "", kClientClassNames[i], limits[i].hard_bytes,
                        limits[i].soft_bytes, limits[i].soft_seconds);
  }
  return "";
}

Status Config::ApplyLine(std::string_view raw_line, std::string_view origin, int line_number) {
  std::string_view line = Trim(raw_line);
  if (line.empty() || line.front() == '#') return Status::Ok();
  auto fail = [&](std::string_view reason, StatusCode code = StatusCode::kInvalidArgument) {
    return Status(code, fmt::format("{}:{}: >>> '{}': {}", origin, line_number, line, reason));
  };
  auto args = SplitArgs(line);
  if (!args) return fail("Unbalanced quotes in configuration line");
  if (args->empty()) return Status::Ok();
  std::string name = Lower((*args)[0]);
  if (name == "include") {
    return fail("include is not supported: put every setting in one file",
                StatusCode::kNotSupported);
  }
  const SettingSpec* spec = FindSetting(name);
  if (spec == nullptr) return fail("Bad directive or wrong number of arguments");
  if (!IsMultiArg(spec->name) && args->size() != 2) return fail("wrong number of arguments");
  std::vector<std::string> values(args->begin() + 1, args->end());
  std::string error = Apply(*spec, values);
  if (!error.empty()) return fail(error);
  return Status::Ok();
}

Status Config::LoadFile(std::string_view text, std::string_view origin) {
  loading_ = true;
  save_loaded_in_this_load_ = false;
  Status status = LoadText(text, origin);
  loading_ = false;
  return status;
}

Status Config::LoadText(std::string_view text, std::string_view origin) {
  int line_number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t newline = text.find('\n', start);
    std::string_view line = text.substr(start, newline - start);
    line_number++;
    TK_RETURN_IF_ERROR(ApplyLine(line, origin, line_number));
    if (newline == std::string_view::npos) break;
    start = newline + 1;
  }
  return Status::Ok();
}

Status Config::ApplyArgs(int argc, const char* const* argv, const FileReader& read_file) {
  int next = 1;
  config_file_.clear();
  std::string file_text;
  if (argc > 1 && argv[1][0] != '-') {
    config_file_ = argv[1];
    auto text = read_file(config_file_);
    if (!text) {
      return Status(text.error().code(), fmt::format("can't open config file '{}': {}",
                                                     config_file_, text.error().ToString()));
    }
    file_text = std::move(*text);
    next = 2;
  }
  // Like redis-server: every `--name` starts a new line, every other argument is appended to it
  // quoted, so values keep their spaces and quotes. A name given alone ("--port") takes the next
  // argument as its value even when that one starts with "--".
  std::string options;
  bool option_has_value = true;
  for (int i = next; i < argc; i++) {
    std::string_view arg = argv[i];
    if (option_has_value && arg.starts_with("--")) {
      if (!options.empty()) options += '\n';
      options += arg.substr(2);
      options += ' ';
      auto parts = SplitArgs(arg);
      option_has_value = !(parts && parts->size() == 1);
      if (!option_has_value && EqualsNoCase(arg, "--save") &&
          (i + 1 == argc || std::string_view(argv[i + 1]).starts_with("--"))) {
        options += "\"\"";  // `--save` without values: saving off (Redis 7.0.1)
        option_has_value = true;
      }
    } else if (arg.starts_with("-") && !arg.starts_with("--") && options.empty()) {
      return Status(StatusCode::kInvalidArgument, fmt::format("unknown option '{}'", arg));
    } else {
      if (options.empty()) {
        return Status(StatusCode::kInvalidArgument,
                      fmt::format("'{}' is not an option (options start with --)", arg));
      }
      options += Quote(arg);
      options += ' ';
      option_has_value = true;
    }
  }
  loading_ = true;
  save_loaded_in_this_load_ = false;
  Status status = LoadText(file_text, config_file_);
  if (status.ok()) status = LoadText(options, "command line");
  loading_ = false;
  return status;
}

std::vector<std::pair<std::string, std::string>> Config::Get(
    std::span<const std::string> patterns) const {
  std::vector<bool> matched(values_.size(), false);
  for (const std::string& pattern : patterns) {
    bool glob = pattern.find_first_of("[*?") != std::string::npos;
    for (const SettingSpec& spec : kSettingTable) {
      if (glob ? GlobMatch(pattern, spec.name, true) : EqualsNoCase(pattern, spec.name)) {
        matched[IndexOf(spec)] = true;
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> result;
  for (const SettingSpec& spec : kSettingTable) {
    if (matched[IndexOf(spec)]) result.emplace_back(spec.name, values_[IndexOf(spec)].text);
  }
  return result;
}

std::string Config::Value(std::string_view name) const {
  const SettingSpec* spec = FindSetting(name);
  TK_ASSERT_MSG(spec != nullptr, "unknown setting");
  return values_[IndexOf(*spec)].text;
}

Status Config::Set(std::span<const std::pair<std::string, std::string>> pairs) {
  auto error = [](std::string text) { return Status(StatusCode::kInvalidArgument, text); };
  std::vector<const SettingSpec*> specs;
  // Redis checks every name first (unknown, immutable, duplicate; the first problem wins), then
  // sets them in order and restores all on the first failure.
  for (const auto& [name, value] : pairs) {
    const SettingSpec* spec = FindSetting(name);
    if (spec == nullptr) {
      return error(
          fmt::format("ERR Unknown option or number of arguments for CONFIG SET - '{}'", name));
    }
    if (!spec->runtime_mutable) {
      return error(fmt::format(
          "ERR CONFIG SET failed (possibly related to argument '{}') - can't set immutable "
          "config",
          name));
    }
    if (std::find(specs.begin(), specs.end(), spec) != specs.end()) {
      return error(fmt::format(
          "ERR CONFIG SET failed (possibly related to argument '{}') - duplicate parameter",
          name));
    }
    specs.push_back(spec);
  }
  Config updated = *this;
  for (size_t i = 0; i < pairs.size(); i++) {
    const std::string& value = pairs[i].second;
    std::vector<std::string> args =
        IsMultiArg(specs[i]->name) ? SplitOnSpaces(value) : std::vector<std::string>{value};
    std::string reason = updated.Apply(*specs[i], args);
    if (!reason.empty()) {
      return error(fmt::format("ERR CONFIG SET failed (possibly related to argument '{}') - {}",
                               specs[i]->name, reason));
    }
  }
  *this = std::move(updated);
  return Status::Ok();
}

Status Config::Set(std::string_view name, std::string_view value) {
  std::pair<std::string, std::string> pair{std::string(name), std::string(value)};
  return Set(std::span(&pair, 1));
}

int64_t Config::Int(std::string_view name) const {
  const SettingSpec* spec = FindSetting(name);
  TK_ASSERT(spec != nullptr && (spec->type == SettingType::kInt ||
                                spec->type == SettingType::kBytes ||
                                spec->type == SettingType::kDurationSeconds));
  return values_[IndexOf(*spec)].number;
}

bool Config::Bool(std::string_view name) const {
  const SettingSpec* spec = FindSetting(name);
  TK_ASSERT(spec != nullptr && spec->type == SettingType::kBool);
  return values_[IndexOf(*spec)].number != 0;
}

const std::string& Config::String(std::string_view name) const {
  const SettingSpec* spec = FindSetting(name);
  TK_ASSERT(spec != nullptr &&
            (spec->type == SettingType::kString || spec->type == SettingType::kEnum));
  return values_[IndexOf(*spec)].text;
}

std::vector<std::string> Config::bind_addresses() const { return SplitOnSpaces(Value("bind")); }

// ---------------------------------------------------------------------------------------------
// CONFIG REWRITE (Redis 7.0 rewriteConfig)

std::vector<Config::RewriteLine> Config::RewriteLines(const SettingSpec& spec) const {
  const Entry& value = values_[IndexOf(spec)];
  const Config& defaults = Defaults();
  std::string_view name = spec.name;
  bool force = value.text != defaults.values_[IndexOf(spec)].text;
  switch (spec.type) {
    case SettingType::kString:
      return {{fmt::format("{} {}", name, Quote(value.text)), force}};
    case SettingType::kBytes:
      return {{fmt::format("{} {}", name, FormatMemory(static_cast<uint64_t>(value.number))),
               force}};
    case SettingType::kInt:
    case SettingType::kDurationSeconds:
    case SettingType::kBool:
    case SettingType::kEnum:
      return {{fmt::format("{} {}", name, value.text), force}};
    case SettingType::kSpecial:
      break;
  }
  if (name == "save") {
    // Redis always writes the save lines, so a restart cannot bring the defaults back.
    if (save_.empty()) return {{"save \"\"", true}};
    std::vector<RewriteLine> lines;
    for (auto [seconds, changes] : save_) {
      lines.push_back({fmt::format("save {} {}", seconds, changes), true});
    }
    return lines;
  }
  if (name == "notify-keyspace-events") {
    return {{fmt::format("{} {}", name, Quote(value.text)), notify_flags_ != 0}};
  }
  if (name == "client-output-buffer-limit") {
    // One line per class, forced only for a class that differs from its default.
    std::vector<RewriteLine> lines;
    constexpr std::string_view kRewriteNames[] = {"normal", "replica", "pubsub"};
    for (int i = 0; i < 3; i++) {
      const OutputBufferLimit& limit = output_limits_[i];
      const OutputBufferLimit& initial = defaults.output_limits_[i];
      bool differs = limit.hard_bytes != initial.hard_bytes ||
                     limit.soft_bytes != initial.soft_bytes ||
                     limit.soft_seconds != initial.soft_seconds;
      lines.push_back({fmt::format("{} {} {} {} {}", name, kRewriteNames[i],
                                   FormatMemory(limit.hard_bytes),
                                   FormatMemory(limit.soft_bytes), limit.soft_seconds),
                       differs});
    }
    return lines;
  }
  return {{fmt::format("{} {}", name, value.text), force}};  // bind
}

Status Config::Rewrite(Env& env, const std::string& path) const {
  constexpr std::string_view kSignature = "# Generated by CONFIG REWRITE";
  std::string old_text;
  if (auto text = ReadTextFile(env, path); text) {
    old_text = std::move(*text);
  } else if (text.error().code() != StatusCode::kNotFound) {
    return text.error();
  }
  // Step 1: the old lines, and for each known setting the lines that set it.
  std::vector<std::string> lines;
  std::map<std::string, std::vector<size_t>> setting_lines;
  bool needs_signature = true;
  if (!old_text.empty()) {
    if (old_text.back() == '\n') old_text.pop_back();
    size_t start = 0;
    while (true) {
      size_t newline = old_text.find('\n', start);
      std::string line(Trim(std::string_view(old_text).substr(start, newline - start)));
      if (line.empty() || line.front() == '#') {
        if (line == kSignature) needs_signature = false;
      } else if (auto args = SplitArgs(line); args && !args->empty()) {
        if (const SettingSpec* spec = FindSetting((*args)[0])) {
          setting_lines[std::string(spec->name)].push_back(lines.size());
        }
      }
      lines.push_back(std::move(line));  // unknown and unparsable lines are kept as they are
      if (newline == std::string::npos) break;
      start = newline + 1;
    }
  }
  // Step 2: each setting's lines replace its old lines in order; extra new lines are appended
  // when forced (not at the default); old lines left over are blanked.
  std::vector<std::string> appended;
  for (const SettingSpec& spec : kSettingTable) {
    std::vector<size_t>& old_lines = setting_lines[std::string(spec.name)];
    size_t reused = 0;
    for (RewriteLine& line : RewriteLines(spec)) {
      if (reused < old_lines.size()) {
        lines[old_lines[reused++]] = std::move(line.text);
      } else if (line.force) {
        appended.push_back(std::move(line.text));
      }
    }
    for (; reused < old_lines.size(); reused++) lines[old_lines[reused]].clear();
  }
  if (!appended.empty()) {
    if (needs_signature) lines.emplace_back(kSignature);
    lines.insert(lines.end(), appended.begin(), appended.end());
  }
  // Step 3: join, turning each run of blank lines into one.
  std::string content;
  bool was_empty = false;
  for (const std::string& line : lines) {
    if (line.empty() && was_empty) continue;
    was_empty = line.empty();
    content += line;
    content += '\n';
  }
  // Step 4: replace the file atomically.
  std::string temp_path = path + ".tmp";
  auto file = env.OpenFile(temp_path, OpenOptions{.create = true, .truncate = true});
  if (!file) return file.error();
  TK_RETURN_IF_ERROR((*file)->Write(0, std::as_bytes(std::span(content))));
  TK_RETURN_IF_ERROR((*file)->Sync());
  file->reset();
  TK_RETURN_IF_ERROR(env.RenameFile(temp_path, path));
  return env.SyncDir(DirName(path));
}

// ---------------------------------------------------------------------------------------------

tiers::EngineOptions EngineOptionsForShard(const Config& config, int shard, int shards) {
  TK_ASSERT(shards >= 1 && shard >= 0 && shard < shards);
  auto share = [&](std::string_view name) {
    return static_cast<uint64_t>(config.Int(name)) / static_cast<uint64_t>(shards);
  };
  std::string suffix = fmt::format("shard-{}", shard);
  tiers::EngineOptions options;
  options.dir = JoinPath(config.String("dir"), suffix);
  const std::string& fsync = config.String("appendfsync");
  options.sync = fsync == "always"     ? tiers::SyncMode::kAlways
                 : fsync == "everysec" ? tiers::SyncMode::kEverySec
                                       : tiers::SyncMode::kNo;
  options.memory_bytes = share("maxmemory");
  if (!config.String("pmem-path").empty()) {
    options.pmem_path = fmt::format("{}-{}", config.String("pmem-path"), shard);
    options.pmem_bytes = share("pmem-size");
    options.pmem_wal_bytes = share("pmem-wal-size");
  }
  if (!config.String("cold-dir").empty()) {
    options.cold_dir = JoinPath(config.String("cold-dir"), suffix);
    options.cold_after = seconds(config.Int("cold-after"));
  }
  return options;
}

}  // namespace tierkv::server
