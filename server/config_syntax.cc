// Redis 7.0's config grammar: quoting, splitting, numbers, units and globs (see config_syntax.h).
#include "server/config_syntax.h"

#include <fmt/core.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <utility>

namespace tierkv::server {

namespace {
// ASCII only, as Redis's case-insensitive names (no locale lookup per character).
char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = LowerAscii(c);
  return lower;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::optional<int64_t> ParseInt(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::string_view digits = text.front() == '-' ? text.substr(1) : text;
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
  if (digits.front() == '+') return std::nullopt;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      default:
        if (std::isprint(c)) {
          out += static_cast<char>(c);
        } else {
          out += fmt::format("\\x{:02x}", c);
        }
    }
  }
  return out + "\"";
}

std::string FormatMemory(uint64_t bytes) {
  constexpr uint64_t kGb = 1ULL << 30, kMb = 1ULL << 20, kKb = 1ULL << 10;
  if (bytes != 0 && bytes % kGb == 0) return fmt::format("{}gb", bytes / kGb);
  if (bytes != 0 && bytes % kMb == 0) return fmt::format("{}mb", bytes / kMb);
  if (bytes != 0 && bytes % kKb == 0) return fmt::format("{}kb", bytes / kKb);
  return fmt::format("{}", bytes);
}

std::vector<std::string> SplitOnSpaces(std::string_view value) {
  std::vector<std::string> parts;
  if (value.empty()) return parts;
  size_t start = 0;
  while (true) {
    size_t space = value.find(' ', start);
    parts.emplace_back(value.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return parts;
}

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  auto fold = [nocase](char c) {
    return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
  };
  size_t p = 0, s = 0;
  while (p < pattern.size() && s < text.size()) {
    char c = pattern[p];
    if (c == '*') {
      while (p + 1 < pattern.size() && pattern[p + 1] == '*') p++;
      if (p + 1 == pattern.size()) return true;
      for (size_t from = s; from <= text.size(); from++) {
        if (GlobMatch(pattern.substr(p + 1), text.substr(from), nocase)) return true;
      }
      return false;
    }
    if (c == '?') {
      p++, s++;
      continue;
    }
    if (c == '[') {
      p++;
      bool negate = p < pattern.size() && pattern[p] == '^';
      if (negate) p++;
      bool match = false;
      while (p < pattern.size() && pattern[p] != ']') {
        if (pattern[p] == '\\' && p + 1 < pattern.size()) {
          p++;
          if (fold(pattern[p]) == fold(text[s])) match = true;
        } else if (p + 2 < pattern.size() && pattern[p + 1] == '-') {
          char low = fold(pattern[p]), high = fold(pattern[p + 2]);
          if (low > high) std::swap(low, high);
          char t = fold(text[s]);
          if (t >= low && t <= high) match = true;
          p += 2;
        } else if (fold(pattern[p]) == fold(text[s])) {
          match = true;
        }
        p++;
      }
      if (p == pattern.size()) p--;  // Redis: an unterminated class ends at the pattern's end
      if (negate) match = !match;
      if (!match) return false;
      p++, s++;
      continue;
    }
    if (c == '\\' && p + 1 < pattern.size()) c = pattern[++p];
    if (fold(c) != fold(text[s])) return false;
    p++, s++;
  }
  while (p < pattern.size() && pattern[p] == '*') p++;
  return p == pattern.size() && s == text.size();
}

std::optional<std::vector<std::string>> SplitArgs(std::string_view line) {
  std::vector<std::string> args;
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' ||
                                      c == '\v' || c == '\f'; };
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  auto hex_value = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                                                       : std::tolower(c) - 'a' + 10;
  };
  size_t i = 0;
  while (true) {
    while (i < line.size() && is_space(line[i])) i++;
    if (i == line.size()) return args;
    std::string current;
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      bool end = i >= line.size();
      char c = end ? '\0' : line[i];
      if (in_double) {
        if (end) return std::nullopt;  // unterminated quotes
        if (c == '\\' && i + 3 < line.size() && line[i + 1] == 'x' && hex(line[i + 2]) &&
            hex(line[i + 3])) {
          current += static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3]));
          i += 3;
        } else if (c == '\\' && i + 1 < line.size()) {
          i++;
          switch (line[i]) {
            case 'n': current += '\n'; break;
            case 'r': current += '\r'; break;
            case 't': current += '\t'; break;
            case 'b': current += '\b'; break;
            case 'a': current += '\a'; break;
            default: current += line[i];
          }
        } else if (c == '"') {
          // The closing quote must be followed by a space or nothing.
          if (i + 1 < line.size() && !is_space(line[i + 1])) return std::nullopt;
          done = true;
        } else {
          current += c;
        }
      } else if (in_single) {
        if (end) return std::nullopt;
        if (c == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          i++;
          current += '\'';
        } else if (c == '\'') {
          if (i + 1 < line.size() && !is_space(line[i + 1])) return std::nullopt;
          done = true;
        } else {
          current += c;
        }
      } else if (end || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        done = true;
      } else if (c == '"') {
        in_double = true;
      } else if (c == '\'') {
        in_single = true;
      } else {
        current += c;
      }
      if (!end) i++;
    }
    args.push_back(std::move(current));
  }
}

std::optional<uint64_t> ParseMemory(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) digits++;
  if (digits == 0) return std::nullopt;
  std::string unit = Lower(text.substr(digits));
  uint64_t multiplier = 0;
  if (unit.empty() || unit == "b") multiplier = 1;
  else if (unit == "k") multiplier = 1000;
  else if (unit == "kb") multiplier = 1024;
  else if (unit == "m") multiplier = 1000 * 1000;
  else if (unit == "mb") multiplier = 1024 * 1024;
  else if (unit == "g") multiplier = 1000ULL * 1000 * 1000;
  else if (unit == "gb") multiplier = 1024ULL * 1024 * 1024;
  else return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + digits, value);
  if (error != std::errc() || value > UINT64_MAX / multiplier) return std::nullopt;
  return value * multiplier;
}

}  // namespace tierkv::server
