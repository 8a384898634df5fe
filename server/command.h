// The command table and what a command's handler sees.
//
// Every command is one CommandSpec row, as in Redis's command table (commands.def): name, arity,
// flags, ACL categories, where its keys are, a handler, and the COMMAND DOCS summary. Each
// command family registers its rows from its own file (cmd_strings.cc, cmd_lists.cc, ...);
// server/server.h's dispatcher looks the name up, checks arity, authentication and ACL, queues
// inside MULTI, locks the keys, and runs the handler where the keys live:
//   - no keys: on the client's executor, with the client's state (Ctx::client);
//   - all keys on one shard (every single-key command): on that shard's executor, in one message
//     there and one back (none when the client is already there); the handler uses Ctx::store();
//   - keys on several shards: on the client's executor while every key is locked on its owner;
//     the handler reaches each shard with Ctx::On (one message pair per call).
// A handler writes exactly one reply (an error included) with Ctx::reply, in the client's
// protocol (RESP2 or RESP3), and reports every key it changed with Ctx::Changed (WATCH,
// keyspace notifications and blocked clients depend on it).
// Rejected: handlers that always run on the client's executor and reach the data with a message
// per storage call: a remote GET would then cost two round trips instead of one; Dragonfly's
// lesson is that the hop count per command is what limits a shard-per-core server.
#pragma once

#include "core/small_vector.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "net/resp.h"
#include "server/config_syntax.h"
#include "server/shards.h"

namespace tierkv::server {

class Server;
struct ClientState;
class Ctx;

// Redis 7.0's command flags (COMMAND INFO prints them by these names).
enum CommandFlag : uint32_t {
  kCmdWrite = 1u << 0,
  kCmdReadonly = 1u << 1,
  kCmdDenyOom = 1u << 2,
  kCmdAdmin = 1u << 3,
  kCmdPubsub = 1u << 4,
  kCmdNoScript = 1u << 5,
  kCmdBlocking = 1u << 6,
  kCmdLoading = 1u << 7,
  kCmdStale = 1u << 8,
  kCmdSkipMonitor = 1u << 9,
  kCmdSkipSlowlog = 1u << 10,
  kCmdFast = 1u << 11,
  kCmdNoAuth = 1u << 12,      // allowed before AUTH (AUTH, HELLO, QUIT...)
  kCmdNoMulti = 1u << 13,     // refused inside MULTI instead of queued
  kCmdAllowBusy = 1u << 14,
  kCmdMayReplicate = 1u << 15,
  // tierkv's own: a keyless command that runs only on its client's executor even inside EXEC
  // (CLIENT, HELLO, SELECT... touch the client's state).
  kCmdClientState = 1u << 16,
  // Locks every shard as a whole while it runs (FLUSHDB, FLUSHALL, SWAPDB).
  kCmdWholeShards = 1u << 17,
};
// "write", "readonly"... for the flags set in `flags`, in COMMAND INFO's order.
std::vector<std::string_view> CommandFlagNames(uint32_t flags);

// ACL categories (Redis 7.0, `ACL CAT`).
enum AclCategory : uint64_t {
  kAclKeyspace = 1ull << 0, kAclRead = 1ull << 1, kAclWrite = 1ull << 2, kAclSet = 1ull << 3,
  kAclSortedSet = 1ull << 4, kAclList = 1ull << 5, kAclHash = 1ull << 6, kAclString = 1ull << 7,
  kAclBitmap = 1ull << 8, kAclHyperLogLog = 1ull << 9, kAclGeo = 1ull << 10,
  kAclStream = 1ull << 11, kAclPubsub = 1ull << 12, kAclAdmin = 1ull << 13, kAclFast = 1ull << 14,
  kAclSlow = 1ull << 15, kAclBlocking = 1ull << 16, kAclDangerous = 1ull << 17,
  kAclConnection = 1ull << 18, kAclTransaction = 1ull << 19, kAclScripting = 1ull << 20,
};
struct AclCategoryName {
  std::string_view name;
  uint64_t bit;
};
std::span<const AclCategoryName> AclCategoryNames();

// Where a command's keys are, Redis's legacy (first, last, step) triple: positions from `first`
// to `last` (negative: counted from the end, -1 the last argument) every `step`. first 0: none.
struct KeySpec {
  int first = 0;
  int last = 0;
  int step = 1;
};
// A command's key positions (argument indexes); inline up to 8, the common case allocates nothing.
using KeyPositionList = boost::container::small_vector<int, 8>;
// For commands whose key positions depend on the arguments (numkeys, STORE destinations):
// appends the positions to `positions`, or returns the error to reply with instead of running
// the command (e.g. "ERR numkeys can't be greater than number of arguments" ... in Redis's words).
using KeysFn = std::optional<std::string> (*)(const std::vector<std::string>& args,
                                              KeyPositionList& positions);

// SINTERCARD / ZINTERCARD numkeys key [key ...] [LIMIT limit]: the keys, or numkeys's error in
// Redis's words.
std::optional<std::string> InterCardKeyPositions(const std::vector<std::string>& args,
                                                 KeyPositionList& positions);
// The keys of the *MPOP commands (LMPOP, BLMPOP, ZMPOP, BZMPOP): `numkeys` at `numkeys_at`, the
// keys after it, then at least the LEFT|RIGHT or MIN|MAX argument. The errors Redis gives before
// it looks at any key: "ERR numkeys should be greater than 0", "ERR syntax error".
std::optional<std::string> MPopKeyPositions(const std::vector<std::string>& args,
                                            size_t numkeys_at, KeyPositionList& positions);

using Handler = void (*)(Ctx& ctx);

struct CommandSpec {
  std::string_view name;  // lower case; a subcommand's own name ("get" of CONFIG GET)
  int arity;              // Redis's convention: N exactly, -N at least N (the name counts)
  uint32_t flags = 0;
  uint64_t categories = 0;  // besides those implied by the flags (see Categories())
  KeySpec keys;
  KeysFn keys_fn = nullptr;  // overrides `keys`
  Handler handler = nullptr;
  std::string_view group;    // COMMAND DOCS: "string", "list", "server"...
  std::string_view summary;  // COMMAND DOCS
  std::string_view since;    // COMMAND DOCS: the Redis version that added it
  // Container commands (CONFIG, CLIENT...): the subcommands, chosen by the second argument.
  std::vector<CommandSpec> subcommands;

  // The categories with those Redis derives from flags (write -> @write, readonly -> @read,
  // admin -> @admin @dangerous, pubsub, fast -> @fast else @slow, blocking).
  uint64_t Categories() const;
};

// A table row in one expression (the families' registration lists).
CommandSpec MakeCommand(std::string_view name, int arity, uint32_t flags, uint64_t categories,
                        KeySpec keys, Handler handler, std::string_view group,
                        std::string_view since, std::string_view summary);

// One row of a family's table of commands (its ACL categories, flags and key spec, as in
// MakeCommand); AddCommands registers rows under one COMMAND DOCS group.
struct CommandRow {
  std::string_view name;
  int arity;
  uint32_t flags;
  uint64_t categories;
  KeySpec keys;
  Handler handler;
  std::string_view since;
  std::string_view summary;
};
class CommandTable;
void AddCommands(CommandTable& table, std::span<const CommandRow> rows, std::string_view group);

class CommandTable {
 public:
  void Add(CommandSpec spec);
  // Case-insensitive; nullptr when unknown. One hash probe (every command looks itself up).
  const CommandSpec* Find(std::string_view name) const;
  std::span<const CommandSpec> all() const { return commands_; }

 private:
  // Transparent (string_view lookups build no string), hashed with the keys' XXH3.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view name) const;
  };
  std::vector<CommandSpec> commands_;
  // lower-case name -> position in commands_
  std::unordered_map<std::string, size_t, NameHash, std::equal_to<>> index_;
  size_t longest_name_ = 0;
};

// The full name Redis prints: "get", or "config|get" for a subcommand.
std::string FullName(const CommandSpec& spec, const CommandSpec* parent);

// Every family's registration (one per cmd_*.cc file).
void RegisterConnectionCommands(CommandTable& table);
void RegisterKeyCommands(CommandTable& table);
// KEYS SCAN RANDOMKEY DBSIZE (cmd_keyspace_walks.cc), called by RegisterKeyCommands.
void RegisterKeyspaceWalkCommands(CommandTable& table);
void RegisterStringCommands(CommandTable& table);
void RegisterBitCommands(CommandTable& table);
void RegisterHashCommands(CommandTable& table);
void RegisterListCommands(CommandTable& table);
void RegisterSetCommands(CommandTable& table);
void RegisterSortedSetCommands(CommandTable& table);
void RegisterServerCommands(CommandTable& table);
void RegisterInfoCommand(CommandTable& table);
void RegisterPubSubCommands(CommandTable& table);
void RegisterAclCommands(CommandTable& table);
// The table with every family.
CommandTable BuildCommandTable();

// Keyspace notification classes: the bits of Config::notify_keyspace_flags() (config.cc, the
// letters "g$lshzxetdn" in order, then K, E, m).
enum NotifyClass : int {
  kNotifyGeneric = 1 << 0,  // g
  kNotifyString = 1 << 1,   // $
  kNotifyList = 1 << 2,     // l
  kNotifySet = 1 << 3,      // s
  kNotifyHash = 1 << 4,     // h
  kNotifyZSet = 1 << 5,     // z
  kNotifyExpired = 1 << 6,  // x
  kNotifyEvicted = 1 << 7,  // e
  kNotifyStream = 1 << 8,   // t
  kNotifyNew = 1 << 10,     // n
  kNotifyKeyspace = 1 << 11,  // K: publish on __keyspace@<db>__:<key>
  kNotifyKeyevent = 1 << 12,  // E: publish on __keyevent@<db>__:<event>
};

// What a client must wait for before it is shown a reply: per shard, the LSN of the newest write
// that was not yet durable when one of its commands ran there (it may have read or made it).
// Writes are applied at once and made durable by group commit (tiers::Engine::WriteUnsynced);
// Server::AwaitDurable waits for these before the replies go out, once per pipeline.
struct DurabilityNeeds {
  boost::container::small_vector<uint64_t, 4> lsn;  // by shard index; 0: nothing

  // After work ran on `shard`: `unsynced` is its engine's unsynced_lsn() (0: all durable).
  void Note(int shard, uint64_t unsynced) {
    if (unsynced == 0) return;
    const auto index = static_cast<size_t>(shard);
    if (lsn.size() <= index) lsn.resize(index + 1, 0);
    lsn[index] = std::max(lsn[index], unsynced);
  }
  void Merge(const DurabilityNeeds& other) {
    for (size_t i = 0; i < other.lsn.size(); i++) Note(static_cast<int>(i), other.lsn[i]);
  }
  bool empty() const { return lsn.empty(); }
};

// What a handler runs with. Lives for one command on the executor running the handler.
class Ctx {
 public:
  Ctx(Server& server, const CommandSpec& spec, std::vector<std::string>& args,
      net::ReplyWriter& reply, int db, ClientState* client)
      : server_(server), spec_(spec), args_(args), reply_(reply), db_(db), client_(client) {}

  const CommandSpec& spec() const { return spec_; }
  size_t argc() const { return args_.size(); }
  const std::string& arg(size_t i) const { return args_[i]; }
  std::vector<std::string>& args() { return args_; }
  net::ReplyWriter& reply() { return reply_; }
  bool resp3() const { return reply_.resp3(); }
  int db() const { return db_; }
  Server& server() { return server_; }
  Env& env();
  // The client, when the handler runs on its executor (commands without keys); else nullptr.
  ClientState* client() { return client_; }

  // --- data ---
  // The shard of the executor running the handler; a single-shard command's keys are all here.
  Shard& shard();
  tiers::TypedStore& store() { return shard().store(); }
  ShardSet& shards();
  int OwnerOf(std::string_view key) { return shards().OwnerOf(key); }
  int shard_count() { return shards().size(); }
  // Runs fn on shard `index` (directly when it is this executor's) and returns its result. For
  // handlers whose keys span shards (their keys are locked on every owner meanwhile) and for
  // commands that visit every shard (DBSIZE, KEYS, SCAN). Uninterruptible: the keys stay locked
  // until it returns.
  template <typename T>
  Result<T> On(int index, std::function<Result<T>(Shard&)> fn) {
    uint64_t unsynced = 0;
    Result<T> result = shards().RunOn<T>(
        index,
        [&](Shard& shard) -> Result<T> {
          Result<T> done = fn(shard);
          unsynced = UnsyncedOf(shard);
          return done;
        },
        /*interruptible=*/false);
    durability_.Note(index, unsynced);
    return result;
  }
  // What the client must wait for before this command's reply (see DurabilityNeeds).
  DurabilityNeeds& durability() { return durability_; }

  // Reports that `key` (in this command's db) changed: invalidates WATCHes, publishes the
  // keyspace notification `event` of class `notify` (0: none), and wakes clients blocked on it.
  // Must run on the key's owner (inside On for multi-shard handlers: use Server::KeyChanged).
  void Changed(std::string_view key, int notify, std::string_view event);

  // --- blocking commands (BLPOP, BLMOVE, BZPOPMIN...) ---
  // False inside MULTI/EXEC: a blocking command must then answer as if it had timed out.
  bool may_block() const { return may_block_; }
  enum class TimeoutReply { kNullArray, kNullBulk };
  // Parks the client instead of replying: the handler calls this (and writes nothing) when none
  // of its keys can serve it now. The dispatcher registers the client on `keys` (their owners'
  // FIFO wait lists) before the command's locks are released, so no change is missed, and
  // releases the locks. When one of the keys changes (Ctx::Changed on its owner), waiters are
  // served in the order they blocked: each one's command runs again from the start, with its
  // locks, and answers if it can, or parks again keeping its place. At `deadline` (kNoDeadline:
  // forever) the client gets `on_timeout`'s null. Only valid when may_block().
  void Block(std::vector<std::string> keys, Deadline deadline, TimeoutReply on_timeout);
  // Redis's blocking timeout argument i (seconds, a float, 0: forever) as a deadline; writes
  // "ERR timeout is not a float or out of range" or "ERR timeout is negative" and returns nullopt.
  std::optional<Deadline> BlockingDeadline(size_t i);
  struct BlockRequest {
    std::vector<std::string> keys;
    Deadline deadline = kNoDeadline;
    TimeoutReply on_timeout = TimeoutReply::kNullArray;
  };
  std::optional<BlockRequest>& block_request() { return block_request_; }
  void set_may_block(bool may_block) { may_block_ = may_block; }

  // --- replies ---
  // A failed Status as an error reply: its message when it starts with an error code in capitals
  // (WRONGTYPE ..., ERR ...), else "ERR " + the status.
  void Error(const Status& status);
  // Ok: returns true. Else writes the error reply and returns false.
  bool Check(const Status& status);
  void SyntaxError() { reply_.Error("ERR syntax error"); }
  void WrongArity();
  void Ok() { reply_.SimpleString("OK"); }

  // --- argument parsing: each writes Redis's error and returns nullopt on failure ---
  // "ERR value is not an integer or out of range"
  std::optional<int64_t> Int(size_t i);
  // "ERR value is not a valid float" (also for NaN)
  std::optional<double> Float(size_t i);
  // A positive-or-zero integer within [min, max], else `error` (default Redis's "ERR value is out
  // of range, must be positive").
  std::optional<int64_t> IntInRange(size_t i, int64_t min, int64_t max,
                                    std::string_view error = "ERR value is out of range, must be positive");
  // Case-insensitive comparison of argument i with a keyword.
  bool Is(size_t i, std::string_view keyword) const;

  // Set by a handler (QUIT) to close the connection once the reply is written.
  bool close_after = false;

 private:
  Server& server_;
  const CommandSpec& spec_;
  std::vector<std::string>& args_;
  net::ReplyWriter& reply_;
  int db_;
  ClientState* client_;
  static uint64_t UnsyncedOf(Shard& shard);

  bool may_block_ = false;
  std::optional<BlockRequest> block_request_;
  DurabilityNeeds durability_;
};

// --- helpers shared by the families ---
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string ToLower(std::string_view text);
// Redis's string2ll: no spaces, no '+', no leading zeros, fits int64.
bool ParseInt64(std::string_view text, int64_t& value);
// Redis's parseScanCursorOrReply (strtoul): decimal digits after an optional sign, a negative
// value wrapping around as in C, "" as 0; leading spaces, other characters and overflow refused.
std::optional<uint64_t> ParseScanCursor(std::string_view text);
// Redis's strtold-based float parsing for scores and INCRBYFLOAT: "inf", "-inf", "+inf" accepted;
// NaN, spaces and trailing junk refused.
bool ParseDouble(std::string_view text, double& value);
// Redis's %.17g with "inf"/"-inf" (the text INCRBYFLOAT stores uses %.17Lg trimmed; see cmd_strings).
std::string FormatDouble(double value);
// GlobMatch (Redis's stringmatchlen) is in server/config_syntax.h.

// Redis 7.0's unknown command error:
//   ERR unknown command 'foo', with args beginning with: 'a' 'b'
// with a trailing space after each argument, the name cut at 128 bytes, arguments appended while
// the list is shorter than 128 bytes (the last one cut to fit), each cut at a NUL byte.
std::string UnknownCommandError(const std::vector<std::string>& args);

}  // namespace tierkv::server
