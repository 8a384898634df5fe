#include "net/reply.h"

#include <charconv>

namespace tierkv::net {
namespace {

constexpr int kMaxDepth = 64;  // nesting a server never sends; stops a hostile stream's recursion

// The line starting at pos (without CRLF); false when the input has no CRLF yet.
bool ReadLine(std::string_view input, size_t& pos, std::string_view& line) {
  size_t end = input.find("\r\n", pos);
  if (end == std::string_view::npos) return false;
  line = input.substr(pos, end - pos);
  pos = end + 2;
  return true;
}

bool ToInt(std::string_view text, int64_t& value) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

ReplyParseStatus Parse(std::string_view input, size_t& pos, Reply& out, int depth) {
  if (depth > kMaxDepth) return ReplyParseStatus::kError;
  if (pos >= input.size()) return ReplyParseStatus::kNeedMore;
  const char type = input[pos];
  size_t at = pos + 1;
  std::string_view line;
  if (!ReadLine(input, at, line)) return ReplyParseStatus::kNeedMore;
  using Kind = Reply::Kind;
  out = Reply{};
  auto done = [&] {
    pos = at;
    return ReplyParseStatus::kDone;
  };
  switch (type) {
    case '+': out.kind = Kind::kSimple; out.text = line; return done();
    case '-': out.kind = Kind::kError; out.text = line; return done();
    case ',': out.kind = Kind::kDouble; out.text = line; return done();
    case '(': out.kind = Kind::kBigNumber; out.text = line; return done();
    case '_': out.kind = Kind::kNull; return done();
    case ':':
      out.kind = Kind::kInteger;
      return ToInt(line, out.integer) ? done() : ReplyParseStatus::kError;
    case '#':
      if (line != "t" && line != "f") return ReplyParseStatus::kError;
      out.kind = Kind::kBool;
      out.integer = line == "t" ? 1 : 0;
      return done();
    case '$': case '=': case '!': {
      int64_t length = 0;
      if (!ToInt(line, length) || length < -1) return ReplyParseStatus::kError;
      if (length == -1) {
        out.kind = Kind::kNull;
        return done();
      }
      if (input.size() - at < static_cast<size_t>(length) + 2) return ReplyParseStatus::kNeedMore;
      out.text = input.substr(at, static_cast<size_t>(length));
      at += static_cast<size_t>(length) + 2;
      out.kind = type == '$' ? Kind::kBulk : type == '!' ? Kind::kError : Kind::kVerbatim;
      if (type == '=' && out.text.size() >= 4) out.text.erase(0, 4);  // "txt:"
      return done();
    }
    case '*': case '%': case '~': case '>': {
      int64_t count = 0;
      if (!ToInt(line, count) || count < -1) return ReplyParseStatus::kError;
      if (count == -1) {
        out.kind = Kind::kNull;
        return done();
      }
      out.kind = type == '*' ? Kind::kArray : type == '%' ? Kind::kMap
                 : type == '~' ? Kind::kSet : Kind::kPush;
      const int64_t elements = type == '%' ? count * 2 : count;
      for (int64_t i = 0; i < elements; i++) {
        Reply element;
        ReplyParseStatus status = Parse(input, at, element, depth + 1);
        if (status != ReplyParseStatus::kDone) return status;
        out.elements.push_back(std::move(element));
      }
      return done();
    }
    default:
      return ReplyParseStatus::kError;
  }
}

void Print(const Reply& reply, std::string& out) {
  using Kind = Reply::Kind;
  auto list = [&](std::string_view open, std::string_view close) {
    out += open;
    for (size_t i = 0; i < reply.elements.size(); i++) {
      if (i > 0) out += ", ";
      Print(reply.elements[i], out);
    }
    out += close;
  };
  switch (reply.kind) {
    case Kind::kSimple: case Kind::kBulk: case Kind::kVerbatim: out += reply.text; break;
    case Kind::kError: out += "-" + reply.text; break;
    case Kind::kInteger: out += ":" + std::to_string(reply.integer); break;
    case Kind::kNull: out += "(nil)"; break;
    case Kind::kDouble: out += "," + reply.text; break;
    case Kind::kBigNumber: out += "(" + reply.text; break;
    case Kind::kBool: out += reply.integer ? "#t" : "#f"; break;
    case Kind::kArray: list("[", "]"); break;
    case Kind::kSet: list("~[", "]"); break;
    case Kind::kPush: list(">[", "]"); break;
    case Kind::kMap:
      out += "{";
      for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        if (i > 0) out += ", ";
        Print(reply.elements[i], out);
        out += ": ";
        Print(reply.elements[i + 1], out);
      }
      out += "}";
      break;
  }
}

}  // namespace

ReplyParseStatus ParseReply(std::string_view input, size_t& pos, Reply& out) {
  size_t at = pos;
  ReplyParseStatus status = Parse(input, at, out, 0);
  if (status == ReplyParseStatus::kDone) pos = at;
  return status;
}

std::string Reply::ToString() const {
  std::string out;
  Print(*this, out);
  return out;
}

}  // namespace tierkv::net
