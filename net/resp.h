// RESP2 requests in, RESP2 replies out.
//
// RequestParser turns the bytes a client sent into commands (vectors of byte strings), one at a
// time and incrementally: it may be handed any prefix of the stream, consumes what it can, and
// keeps the half-read command between calls. It accepts exactly what Redis 7.0 accepts
// (src/networking.c, processMultibulkBuffer and processInlineBuffer) and reports exactly Redis's
// protocol error texts, so clients and their test suites see no difference:
//   - multibulk: `*<count>\r\n` then <count> times `$<len>\r\n<len bytes>\r\n`. A count <= 0 is
//     skipped (no command, no reply). Counts and lengths are parsed like Redis's string2ll (no
//     sign other than '-', no leading zeros, no spaces). As in Redis, the two bytes after a bulk
//     payload are skipped without being checked.
//   - inline: anything not starting with '*', up to '\n' (a '\r' before it is dropped), split
//     like Redis's sdssplitargs: blanks separate arguments; "double quotes" understand \n \r \t
//     \b \a \xHH and \<any>; 'single quotes' understand \'; a closing quote must be followed by
//     a blank or the end of the line. An empty line is skipped.
// After a protocol error the parser is finished: the connection replies with error() and closes,
// as Redis does.
//
// Deliberate difference from Redis: Redis searches for line ends with strchr, so a NUL byte before
// the line end makes it wait for more input (until the size limit). Here lines are found with
// memchr; an inline line is cut at its first NUL (what sdssplitargs does with the line), and a
// NUL in a count line is simply an invalid count.
//
// ReplyWriter appends RESP2 replies to a std::string, so a connection can answer a whole pipeline
// with one socket write.
//
// Rejected: parsing straight into a socket-owned ring buffer (the parser would then own I/O
// policy); a zero-copy parser returning string_views into the buffer (commands outlive the read
// buffer once they are forwarded to other shards, so they are copied once here anyway).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"

namespace tierkv::net {

enum class ParseStatus {
  kNeedMore,  // every complete part was consumed; call again with more bytes
  kCommand,   // command() holds a complete command
  kError,     // protocol error: reply with error() and close the connection
};

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  // Bytes taken from the front of the input (with every status, including kNeedMore when a
  // header or a complete argument of an unfinished command was read). The caller drops them
  // before the next call.
  size_t consumed = 0;
};

class RequestParser {
 public:
  RequestParser() = default;

  // Parses from `input`: the bytes not consumed by earlier calls followed by any new ones.
  // Skips empty commands. Returns at the first complete command, at a protocol error, or when
  // `input` holds no further complete part. Never suspends.
  ParseResult Parse(std::string_view input);

  // After kCommand: the command's arguments (at least one). The caller may move them out; they
  // stay valid until the next Parse. A caller that swaps its own vector in for them lends the
  // parser that vector's strings: the next command's arguments are assigned into them, so a
  // pipeline of commands reuses the same buffers instead of allocating each argument.
  std::vector<std::string>& command() { return command_; }
  // After kError: Redis's error text without the leading '-' and the CRLF, e.g.
  // "ERR Protocol error: invalid bulk length".
  const std::string& error() const { return error_; }
  bool failed() const { return failed_; }

  // Redis's proto-max-bulk-len: a longer bulk string is "invalid bulk length" (default 512 MB).
  void set_max_bulk_length(int64_t bytes) { max_bulk_length_ = bytes; }

  // How many bytes beyond `buffered` (the unconsumed input) the current bulk payload still needs;
  // 0 when the parser is not inside a bulk payload. A read-size hint for big arguments.
  size_t BulkBytesWanted(size_t buffered) const;

 private:
  // Each parses from input[pos], advances pos past what it consumed, and returns kCommand when a
  // command is complete (possibly empty: a blank line, `*0`), kNeedMore, or kError.
  ParseStatus ParseInline(std::string_view input, size_t& pos);
  ParseStatus ParseMultibulk(std::string_view input, size_t& pos);
  ParseStatus Fail(std::string message);

  int64_t max_bulk_length_ = limits::kProtoMaxBulkLen;

  // Multibulk arguments still to read; > 0 exactly while a multibulk command is half-read.
  int64_t args_remaining_ = 0;
  // Length of the bulk argument being read; -1 before its `$<len>` header.
  int64_t bulk_length_ = -1;
  // The command being assembled (its first args_done_ entries; any after them are strings lent
  // for reuse), or the last one returned.
  std::vector<std::string> command_;
  size_t args_done_ = 0;
  bool failed_ = false;
  std::string error_;
};

// Splits an inline command line like Redis's sdssplitargs. Returns false on unbalanced quotes (or
// a closing quote followed by a non-blank). Exposed for tests and for the future config parser.
[[nodiscard]] bool SplitInlineArgs(std::string_view line, std::vector<std::string>& args);

// Appends replies to a string in the client's protocol: RESP2, or RESP3 after HELLO 3. The types
// RESP2 lacks are written as Redis 7.0 writes them to a RESP2 client (networking.c): null as a
// null bulk (or null array), a double as a bulk string of "%.17g" ("inf", "-inf"), a map as an
// array of 2n elements, a set or push message as an array, a boolean as 1 or 0, a verbatim string
// as a bulk string. Never suspends; the caller writes the string to the socket.
class ReplyWriter {
 public:
  explicit ReplyWriter(std::string& out, int protocol = 2) : out_(out), protocol_(protocol) {}

  int protocol() const { return protocol_; }
  // HELLO switches the protocol before writing its own reply.
  void set_protocol(int protocol) { protocol_ = protocol; }
  bool resp3() const { return protocol_ >= 3; }

  // "+OK\r\n". `text` is chosen by the server and must not contain '\r' or '\n'.
  void SimpleString(std::string_view text);
  // "-ERR message\r\n". `text` starts with the error code ("ERR", "WRONGTYPE"...). As in Redis, any
  // '\r' or '\n' (they may come from user input) is replaced by a space.
  void Error(std::string_view text);
  // ":42\r\n"
  void Integer(int64_t value);
  // "$5\r\nhello\r\n"; binary-safe.
  void Bulk(std::string_view data);
  // A missing value: "$-1\r\n" (RESP2), "_\r\n" (RESP3).
  void NullBulk();
  // A missing array (e.g. BLPOP timing out): "*-1\r\n" (RESP2), "_\r\n" (RESP3).
  void NullArray();
  // "*3\r\n"; the caller then writes `count` elements.
  void ArrayHeader(int64_t count);
  // A map of `pairs` key/value pairs: "%2\r\n" (RESP3), "*4\r\n" (RESP2); then 2 x pairs elements.
  void MapHeader(int64_t pairs);
  // A set: "~3\r\n" (RESP3), "*3\r\n" (RESP2).
  void SetHeader(int64_t count);
  // An out-of-band push message (pub/sub): ">3\r\n" (RESP3), "*3\r\n" (RESP2).
  void PushHeader(int64_t count);
  // ",3.5\r\n" (RESP3) or "$3\r\n3.5\r\n" (RESP2), "%.17g" like Redis 7.0; inf as "inf"/"-inf".
  void Double(double value);
  // "#t\r\n" / "#f\r\n" (RESP3), ":1\r\n" / ":0\r\n" (RESP2).
  void Bool(bool value);
  // "=15\r\ntxt:Some string\r\n" (RESP3, `format` is three characters), a bulk string (RESP2).
  void Verbatim(std::string_view format, std::string_view text);

  std::string& out() { return out_; }

 private:
  void Header(char type, int64_t count);

  std::string& out_;
  int protocol_;
};

}  // namespace tierkv::net
