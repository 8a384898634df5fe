// The node's configuration: a table of settings, the values in force, and Redis 7.0's ways of
// changing them (redis.conf syntax, `--name value` arguments, CONFIG GET/SET/REWRITE).
//
// Every setting is one row of a static table (kSettings in config.cc): name, type, default,
// bounds or allowed values, whether CONFIG SET may change it, and a one-line description that
// docs/config.md and tierkv.conf repeat. A Config holds one value per row, always valid: every
// way in (file, arguments, CONFIG SET) parses and checks the text with the row's rules before
// storing it, so readers never see a half-applied or out-of-range value.
// The parsing follows Redis 7.0's config.c on purpose (sdssplitargs quoting, memtoull units,
// yes/no, case-insensitive names, the `save` and `client-output-buffer-limit` multi-argument
// forms, CONFIG SET's error texts), because users bring their redis.conf habits and client test
// suites match on the error strings.
// CONFIG SET changes only the values here: the command layer that calls Set reads the new values
// and applies them. Settings the node cannot apply while running (the listener, the storage
// engine's layout and budgets) are marked immutable, and CONFIG SET refuses them with Redis's
// "can't set immutable config".
// Rejected: one struct field per setting with hand-written parse/format code per field (Redis 6's
// config.c before the table rewrite): every new setting then touches five places and the docs
// drift; the table keeps them in one row.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "server/config_syntax.h"
#include "tiers/engine.h"

namespace tierkv::server {

enum class SettingType {
  kString,           // any text (empty allowed)
  kInt,              // a decimal integer within [min, max]
  kBytes,            // an integer with an optional unit (1k 1kb 1m 1mb 1g 1gb) within [min, max]
  kBool,             // yes | no
  kEnum,             // one of `allowed` (case-insensitive)
  kDurationSeconds,  // a decimal number of seconds within [min, max]
  kSpecial,          // a format of its own (bind, save, notify-keyspace-events, ...)
};

std::string_view SettingTypeName(SettingType type);

struct SettingSpec {
  std::string_view name;  // lower case
  SettingType type;
  std::string_view default_value;  // in config-file syntax (units allowed)
  int64_t min = 0;                 // kInt, kBytes, kDurationSeconds
  int64_t max = 0;
  std::span<const std::string_view> allowed;  // kEnum
  bool runtime_mutable = false;               // CONFIG SET may change it
  std::string_view description;
};

// Every setting, in the order of docs/config.md.
std::span<const SettingSpec> AllSettings();
// The row of `name` (case-insensitive), or nullptr.
const SettingSpec* FindSetting(std::string_view name);

// Reads a whole text file through the Env (for LoadFile and Rewrite). NotFound when missing.
// Suspends.
Result<std::string> ReadTextFile(Env& env, const std::string& path);

struct OutputBufferLimit {
  uint64_t hard_bytes = 0;
  uint64_t soft_bytes = 0;
  int64_t soft_seconds = 0;
};
enum class ClientClass { kNormal = 0, kReplica = 1, kPubsub = 2 };

// A value type: copy it to hand a snapshot to other executors. Not thread-safe; one owner (the
// command layer, on one executor) changes it.
class Config {
 public:
  // Every setting at its default.
  Config();

  // Applies the directives of a redis.conf-syntax text (see SplitArgs). `origin` names it in
  // errors. Stops at the first bad line: InvalidArgument with "<origin>:<line>: >>> '<line>':
  // <reason>"; the directives before it stay applied. `include` is refused (NotSupported).
  Status LoadFile(std::string_view text, std::string_view origin);

  // `tierkv-server [config-file] [--name value ...]` as redis-server parses it: a first argument
  // not starting with '-' is the config file, read with `read_file` and applied first; the
  // options are then applied in order, so later ones override earlier ones and the file. An
  // option may take several values (`--save 900 1 300 10`); a value may itself start with "--"
  // when it directly follows its option name. argv[0] is the program name.
  using FileReader = std::function<Result<std::string>(const std::string& path)>;
  Status ApplyArgs(int argc, const char* const* argv, const FileReader& read_file);
  // The config file named by the last ApplyArgs ("" when none): CONFIG REWRITE's target.
  const std::string& config_file() const { return config_file_; }

  // CONFIG GET: name/value pairs of every setting matching any of the patterns (Redis glob,
  // case-insensitive), each at most once, in table order.
  std::vector<std::pair<std::string, std::string>> Get(
      std::span<const std::string> patterns) const;
  // The CONFIG GET text of one setting; asserts the name exists.
  std::string Value(std::string_view name) const;

  // CONFIG SET of name/value pairs, all or nothing. On failure nothing changes and the Status
  // message is Redis 7.0's error reply without the leading '-', e.g.
  //   ERR Unknown option or number of arguments for CONFIG SET - 'foo'
  //   ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a
  //   memory value
  Status Set(std::span<const std::pair<std::string, std::string>> pairs);
  Status Set(std::string_view name, std::string_view value);

  // CONFIG REWRITE: rewrites `path` as Redis does: comments, blank lines and unknown lines are
  // kept; the first line of each setting gets its current value, further lines of it are blanked;
  // settings that differ from their default and have no line yet are appended after a
  // "# Generated by CONFIG REWRITE" line. Written to `<path>.tmp`, synced, renamed over `path`,
  // then the directory is synced. A missing file is created. Suspends.
  Status Rewrite(Env& env, const std::string& path) const;

  // Typed reads. Each asserts the setting exists and has the matching type.
  int64_t Int(std::string_view name) const;  // kInt, kBytes, kDurationSeconds
  bool Bool(std::string_view name) const;
  const std::string& String(std::string_view name) const;  // kString, kEnum (canonical lower case)

  std::vector<std::string> bind_addresses() const;  // 1..16 addresses
  // Redis's `save` pairs (seconds, changes); empty when saving is off.
  const std::vector<std::pair<int64_t, int64_t>>& save() const { return save_; }
  int notify_keyspace_flags() const { return notify_flags_; }
  // Read on every command (the slow log and latency monitor): an index, not a lookup by name.
  int64_t slowlog_log_slower_than() const { return values_[slowlog_index_].number; }
  int64_t latency_monitor_threshold() const { return values_[latency_index_].number; }
  OutputBufferLimit output_buffer_limit(ClientClass client_class) const {
    return output_limits_[static_cast<int>(client_class)];
  }

 private:
  struct Entry {
    std::string text;    // CONFIG GET form
    int64_t number = 0;  // kInt, kBytes, kDurationSeconds; kBool as 0/1
  };
  // Parses and checks `args` for `spec` and stores the result. On error returns the reason in
  // Redis's words ("argument must be a memory value") and leaves the value as it was, except
  // that `save` lines accumulate across one load (loading_).
  std::string Apply(const SettingSpec& spec, const std::vector<std::string>& args);
  std::string ApplySave(const std::vector<std::string>& args, std::string& text);
  std::string ApplyOutputLimits(const std::vector<std::string>& args, std::string& text);
  Status ApplyLine(std::string_view line, std::string_view origin, int line_number);
  Status LoadText(std::string_view text, std::string_view origin);
  // The lines CONFIG REWRITE writes for `spec`; `force`: append it even where the file has no
  // line for the setting (the value differs from the default).
  struct RewriteLine {
    std::string text;
    bool force = false;
  };
  std::vector<RewriteLine> RewriteLines(const SettingSpec& spec) const;
  size_t IndexOf(const SettingSpec& spec) const;

  std::vector<Entry> values_;  // one per AllSettings() row
  std::vector<std::pair<int64_t, int64_t>> save_;
  bool loading_ = false;  // inside LoadFile/ApplyArgs (changes how `save` lines combine)
  bool save_loaded_in_this_load_ = false;
  int notify_flags_ = 0;
  size_t slowlog_index_ = 0;
  size_t latency_index_ = 0;
  OutputBufferLimit output_limits_[3];
  std::string config_file_;
};

// The storage engine's options for shard `shard` of `shards` (DESIGN §3): each shard gets its own
// directory `<dir>/shard-<i>`, `<pmem-path>-<i>`, `<cold-dir>/shard-<i>`, and an even share of
// maxmemory, pmem-size and pmem-wal-size. maxmemory 0 keeps the engine's default budgets.
tiers::EngineOptions EngineOptionsForShard(const Config& config, int shard, int shards);

}  // namespace tierkv::server
