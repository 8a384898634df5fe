// RESP replies as a client reads them: parsed into a tree, and printed in a short text form that
// tests compare against (the command tests' Run harness, the simulator's clients, the proxy).
//
// Text form (ToString): simple strings and bulk strings as their text; errors as "-" + text;
// integers as ":" + digits; nulls as "(nil)"; arrays as "[a, b]"; maps as "{k: v}"; sets as
// "~[a, b]"; push messages as ">[...]"; doubles as "," + the server's text; booleans as "#t"/"#f";
// verbatim strings as their text without the format; big numbers as "(" + digits.
// Rejected: redis-cli's quoting ("\"v\"", "(integer) 5"): longer test lines with no more
// information.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tierkv::net {

struct Reply {
  enum class Kind {
    kSimple, kError, kInteger, kBulk, kNull, kArray, kMap, kSet, kPush, kDouble, kBool,
    kVerbatim, kBigNumber,
  };
  Kind kind = Kind::kNull;
  std::string text;               // simple, error, bulk, double, verbatim, big number
  int64_t integer = 0;            // integer; bool as 0/1
  std::vector<Reply> elements;    // array, set, push; map as key, value, key, value...

  bool is_error() const { return kind == Kind::kError; }
  std::string ToString() const;
};

enum class ReplyParseStatus { kNeedMore, kDone, kError };

// Parses one reply from input[pos...]. kDone: `out` holds it and pos is past it. kNeedMore: the
// input ends inside the reply (pos unchanged). kError: not RESP (pos unchanged).
ReplyParseStatus ParseReply(std::string_view input, size_t& pos, Reply& out);

}  // namespace tierkv::net
