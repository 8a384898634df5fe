#include "net/resp.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/assert.h"
#include "core/limits.h"

namespace tierkv::net {
namespace {

// Redis's string2ll rules (util.c): an optional '-', then digits with no leading zero ("0" alone
// is fine, "-0" is not), nothing else, fewer than 21 characters, no overflow.
bool ParseRedisInteger(std::string_view text, int64_t& value) {
  constexpr size_t kMaxChars = 20;  // LONG_STR_SIZE - 1: "-9223372036854775808"
  if (text.empty() || text.size() > kMaxChars) return false;
  if (text == "0") {
    value = 0;
    return true;
  }
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    i = 1;
    if (i == text.size()) return false;
  }
  if (text[i] < '1' || text[i] > '9') return false;
  uint64_t magnitude = 0;
  for (; i < text.size(); i++) {
    if (text[i] < '0' || text[i] > '9') return false;
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (magnitude > kMaxPositive + 1) return false;
    value = magnitude == kMaxPositive + 1 ? std::numeric_limits<int64_t>::min()
                                          : -static_cast<int64_t>(magnitude);
  } else {
    if (magnitude > kMaxPositive) return false;
    value = static_cast<int64_t>(magnitude);
  }
  return true;
}

// isspace() in the C locale, which is what sdssplitargs skips between arguments.
bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  TK_ASSERT(c >= 'A' && c <= 'F');
  return c - 'A' + 10;
}

// Position of the first `c` in `text`, or npos (memchr: NUL bytes are ordinary bytes here).
size_t FindByte(std::string_view text, char c) {
  const void* found = std::memchr(text.data(), c, text.size());
  if (found == nullptr) return std::string_view::npos;
  return static_cast<size_t>(static_cast<const char*>(found) - text.data());
}

// The wire text of an error must not contain line breaks; Redis replaces them with spaces.
char ErrorSafe(char c) { return c == '\r' || c == '\n' ? ' ' : c; }

}  // namespace

// ------------------------------------------------------------------------------------------------
// SplitInlineArgs: a transcription of sdssplitargs (sds.c). `at(i)` returns '\0' past the end,
// standing in for the C string's terminator, so the control flow stays Redis's.

namespace {

// Reads one argument starting at `p` (not a blank). Returns false on unbalanced quotes.
bool ReadInlineArg(std::string_view line, size_t& p, std::string& arg) {
  auto at = [&line](size_t i) -> char { return i < line.size() ? line[i] : '\0'; };
  bool in_double = false;
  bool in_single = false;
  bool done = false;
  while (!done) {  // bounded: every iteration advances p, and p stops at line.size()
    char c = at(p);
    if (in_double) {
      if (c == '\\' && at(p + 1) == 'x' && IsHexDigit(at(p + 2)) && IsHexDigit(at(p + 3))) {
        arg.push_back(static_cast<char>(HexValue(at(p + 2)) * 16 + HexValue(at(p + 3))));
        p += 3;
      } else if (c == '\\' && at(p + 1) != '\0') {
        p++;
        switch (at(p)) {
          case 'n': arg.push_back('\n'); break;
          case 'r': arg.push_back('\r'); break;
          case 't': arg.push_back('\t'); break;
          case 'b': arg.push_back('\b'); break;
          case 'a': arg.push_back('\a'); break;
          default: arg.push_back(at(p)); break;
        }
      } else if (c == '"') {
        // The closing quote must be followed by a blank or the end of the line.
        if (at(p + 1) != '\0' && !IsBlank(at(p + 1))) return false;
        done = true;
      } else if (c == '\0') {
        return false;  // unterminated quotes
      } else {
        arg.push_back(c);
      }
    } else if (in_single) {
      if (c == '\\' && at(p + 1) == '\'') {
        p++;
        arg.push_back('\'');
      } else if (c == '\'') {
        if (at(p + 1) != '\0' && !IsBlank(at(p + 1))) return false;
        done = true;
      } else if (c == '\0') {
        return false;
      } else {
        arg.push_back(c);
      }
    } else {
      switch (c) {
        case ' ':
        case '\n':
        case '\r':
        case '\t':
        case '\0': done = true; break;
        case '"': in_double = true; break;
        case '\'': in_single = true; break;
        default: arg.push_back(c); break;
      }
    }
    if (at(p) != '\0') p++;
  }
  return true;
}

}  // namespace

bool SplitInlineArgs(std::string_view line, std::vector<std::string>& args) {
  line = line.substr(0, FindByte(line, '\0'));  // sdssplitargs sees a C string
  const size_t old_size = args.size();
  size_t p = 0;
  while (true) {  // bounded: each argument consumes at least one byte
    while (p < line.size() && IsBlank(line[p])) p++;
    if (p >= line.size()) return true;
    std::string arg;
    if (!ReadInlineArg(line, p, arg)) {
      args.resize(old_size);
      return false;
    }
    args.push_back(std::move(arg));
  }
}

// ------------------------------------------------------------------------------------------------
// RequestParser

// A lent argument buffer bigger than this is replaced, not reused: a connection that once sent a
// large value does not keep its buffer for every later command.
constexpr size_t kMaxReusedArgBytes = 4096;

ParseResult RequestParser::Parse(std::string_view input) {
  if (failed_) return {ParseStatus::kError, 0};
  if (args_remaining_ == 0) args_done_ = 0;  // the last command was handed out (or none began)
  size_t pos = 0;
  while (pos < input.size()) {  // bounded: each pass consumes bytes or returns
    const size_t before = pos;
    ParseStatus status = args_remaining_ > 0 || input[pos] == '*' ? ParseMultibulk(input, pos)
                                                                  : ParseInline(input, pos);
    if (status != ParseStatus::kCommand) return {status, pos};
    TK_ASSERT(pos > before);
    if (args_done_ > 0) {
      command_.resize(args_done_);  // drops lent strings this command did not need
      return {ParseStatus::kCommand, pos};
    }
    // An empty command (`*0`, `*-1`, a blank line) produces no reply: go on.
  }
  return {ParseStatus::kNeedMore, pos};
}

ParseStatus RequestParser::ParseInline(std::string_view input, size_t& pos) {
  std::string_view rest = input.substr(pos);
  size_t newline = FindByte(rest, '\n');
  if (newline == std::string_view::npos) {
    if (rest.size() > limits::kMaxInlineRequestBytes) {
      return Fail("ERR Protocol error: too big inline request");
    }
    return ParseStatus::kNeedMore;
  }
  size_t line_length = newline;
  if (line_length > 0 && rest[line_length - 1] == '\r') line_length--;
  command_.clear();
  if (!SplitInlineArgs(rest.substr(0, line_length), command_)) {
    return Fail("ERR Protocol error: unbalanced quotes in request");
  }
  args_done_ = command_.size();
  pos += newline + 1;
  return ParseStatus::kCommand;  // possibly empty: the caller skips it
}

ParseStatus RequestParser::ParseMultibulk(std::string_view input, size_t& pos) {
  if (args_remaining_ == 0) {
    TK_ASSERT(args_done_ == 0 && bulk_length_ == -1);
    std::string_view rest = input.substr(pos);
    TK_ASSERT(!rest.empty() && rest[0] == '*');
    size_t cr = FindByte(rest, '\r');
    if (cr == std::string_view::npos) {
      if (rest.size() > limits::kMaxInlineRequestBytes) {
        return Fail("ERR Protocol error: too big mbulk count string");
      }
      return ParseStatus::kNeedMore;
    }
    if (cr + 1 == rest.size()) return ParseStatus::kNeedMore;  // the '\n' has not arrived
    int64_t count = 0;
    if (!ParseRedisInteger(rest.substr(1, cr - 1), count) || count > limits::kMaxMultibulkLength) {
      return Fail("ERR Protocol error: invalid multibulk length");
    }
    pos += cr + 2;
    if (count <= 0) return ParseStatus::kCommand;  // empty: skipped by the caller
    args_remaining_ = count;
    // Reserve for small commands only: a header alone must not make us allocate much.
    command_.reserve(static_cast<size_t>(std::min<int64_t>(count, limits::kMaxMultibulkReserve)));
  }
  while (args_remaining_ > 0) {  // bounded by the count checked above
    std::string_view rest = input.substr(pos);
    if (bulk_length_ < 0) {
      size_t cr = FindByte(rest, '\r');
      if (cr == std::string_view::npos) {
        if (rest.size() > limits::kMaxInlineRequestBytes) {
          return Fail("ERR Protocol error: too big bulk count string");
        }
        return ParseStatus::kNeedMore;
      }
      if (cr + 1 == rest.size()) return ParseStatus::kNeedMore;
      if (rest[0] != '$') {
        return Fail(std::string("ERR Protocol error: expected '$', got '") + ErrorSafe(rest[0]) +
                    "'");
      }
      int64_t length = 0;
      if (!ParseRedisInteger(rest.substr(1, cr - 1), length) || length < 0 ||
          length > max_bulk_length_) {
        return Fail("ERR Protocol error: invalid bulk length");
      }
      pos += cr + 2;
      bulk_length_ = length;
      continue;
    }
    const size_t needed = static_cast<size_t>(bulk_length_) + 2;  // payload + CRLF (unchecked)
    if (rest.size() < needed) return ParseStatus::kNeedMore;
    const std::string_view arg = rest.substr(0, static_cast<size_t>(bulk_length_));
    if (args_done_ < command_.size() && command_[args_done_].capacity() <= kMaxReusedArgBytes) {
      command_[args_done_].assign(arg);
    } else if (args_done_ < command_.size()) {
      command_[args_done_] = std::string(arg);  // a big lent buffer is not kept around
    } else {
      command_.emplace_back(arg);
    }
    args_done_++;
    pos += needed;
    bulk_length_ = -1;
    args_remaining_--;
  }
  return ParseStatus::kCommand;
}

ParseStatus RequestParser::Fail(std::string message) {
  failed_ = true;
  error_ = std::move(message);
  command_.clear();
  args_done_ = 0;
  args_remaining_ = 0;
  bulk_length_ = -1;
  return ParseStatus::kError;
}

size_t RequestParser::BulkBytesWanted(size_t buffered) const {
  if (args_remaining_ == 0 || bulk_length_ < 0) return 0;
  const size_t needed = static_cast<size_t>(bulk_length_) + 2;
  return needed > buffered ? needed - buffered : 0;
}

// ------------------------------------------------------------------------------------------------
// ReplyWriter

namespace {

void AppendDecimal(std::string& out, int64_t value) {
  char digits[24];
  auto [end, error] = std::to_chars(digits, digits + sizeof(digits), value);
  TK_ASSERT(error == std::errc());
  out.append(digits, end);
}

}  // namespace

void ReplyWriter::SimpleString(std::string_view text) {
  TK_ASSERT_MSG(text.find_first_of("\r\n") == std::string_view::npos,
                "simple string reply with a line break");
  out_ += '+';
  out_ += text;
  out_ += "\r\n";
}

void ReplyWriter::Error(std::string_view text) {
  TK_ASSERT_MSG(!text.empty() && text[0] != '-', "error reply needs a code and no '-'");
  out_ += '-';
  const size_t start = out_.size();
  out_ += text;
  std::replace_if(
      out_.begin() + static_cast<std::ptrdiff_t>(start), out_.end(),
      [](char c) { return c == '\r' || c == '\n'; }, ' ');
  out_ += "\r\n";
}

void ReplyWriter::Integer(int64_t value) {
  out_ += ':';
  AppendDecimal(out_, value);
  out_ += "\r\n";
}

void ReplyWriter::Bulk(std::string_view data) {
  out_ += '$';
  AppendDecimal(out_, static_cast<int64_t>(data.size()));
  out_ += "\r\n";
  out_ += data;
  out_ += "\r\n";
}

void ReplyWriter::NullBulk() { out_ += resp3() ? "_\r\n" : "$-1\r\n"; }

void ReplyWriter::NullArray() { out_ += resp3() ? "_\r\n" : "*-1\r\n"; }

void ReplyWriter::Header(char type, int64_t count) {
  TK_ASSERT(count >= 0);
  out_ += type;
  AppendDecimal(out_, count);
  out_ += "\r\n";
}

void ReplyWriter::ArrayHeader(int64_t count) {
  TK_ASSERT(count >= -1);
  out_ += '*';
  AppendDecimal(out_, count);
  out_ += "\r\n";
}

void ReplyWriter::MapHeader(int64_t pairs) {
  if (resp3()) return Header('%', pairs);
  Header('*', 2 * pairs);
}

void ReplyWriter::SetHeader(int64_t count) { Header(resp3() ? '~' : '*', count); }

void ReplyWriter::PushHeader(int64_t count) { Header(resp3() ? '>' : '*', count); }

void ReplyWriter::Double(double value) {
  std::string text;
  if (std::isinf(value)) {
    text = value > 0 ? "inf" : "-inf";
  } else {
    char buffer[64];
    int length = std::snprintf(buffer, sizeof(buffer), "%.17g", value);  // as Redis 7.0
    text.assign(buffer, static_cast<size_t>(length));
  }
  if (!resp3()) return Bulk(text);
  out_ += ',';
  out_ += text;
  out_ += "\r\n";
}

void ReplyWriter::Bool(bool value) {
  if (resp3()) {
    out_ += value ? "#t\r\n" : "#f\r\n";
  } else {
    Integer(value ? 1 : 0);
  }
}

void ReplyWriter::Verbatim(std::string_view format, std::string_view text) {
  TK_ASSERT(format.size() == 3);
  if (!resp3()) return Bulk(text);
  out_ += '=';
  AppendDecimal(out_, static_cast<int64_t>(text.size() + 4));
  out_ += "\r\n";
  out_ += format;
  out_ += ':';
  out_ += text;
  out_ += "\r\n";
}

}  // namespace tierkv::net
