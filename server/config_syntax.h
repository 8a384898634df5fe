// The text grammar of redis.conf and of CONFIG GET/SET/REWRITE, as Redis 7.0 spells it: pure
// functions from text to values and back, with no knowledge of the settings table.
//
// config.cc decides what each setting means; these functions only read and write the words, so
// they can be tested and reused (the command layer, a future proxy) without a Config. Each one
// follows the Redis function named in its comment on purpose: users bring redis.conf files and
// client test suites that depend on Redis's exact quoting, units and number forms.
// Rejected: keeping them as private helpers of config.cc; that file then mixed three concerns
// (the table, the grammar, REWRITE) and outgrew the ~800-line guideline (STYLE.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tierkv::server {

// `text` in ASCII lower case (setting names, units, yes/no, enum values).
std::string Lower(std::string_view text);

// Whether `a` and `b` are equal ignoring ASCII case (Redis's strcasecmp on names).
bool EqualsNoCase(std::string_view a, std::string_view b);

// `text` without leading and trailing spaces, tabs, CRs and LFs (a view into `text`).
std::string_view Trim(std::string_view text);

// Redis's string2ll: an optional '-', then digits without leading zeros and without '+', no
// overflow of int64_t. nullopt otherwise.
std::optional<int64_t> ParseInt(std::string_view text);

// Redis's sdscatrepr: `text` double-quoted with \\ \" \n \r \t \a \b and \xHH escapes, so that
// SplitArgs reads it back as the same single argument (CONFIG REWRITE, command-line values).
std::string Quote(std::string_view text);

// Redis's rewriteConfigFormatMemory: `bytes` with the largest binary unit (gb, mb, kb) that
// divides it exactly, else plain digits; 0 is "0".
std::string FormatMemory(uint64_t bytes);

// CONFIG SET's split of a multi-argument setting's value, as Redis's sdssplitlen on " ": every
// single space separates, so "a  b" gives "a", "", "b"; an empty value gives no parts.
std::vector<std::string> SplitOnSpaces(std::string_view value);

// Redis's glob match (stringmatchlen): * ? [abc] [^a-z] and \ escapes.
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase);

// Splits a line into arguments as Redis's sdssplitargs does: spaces separate; "..." with \n \r \t
// \b \a \xHH \<any> escapes; '...' with only \' ; a closing quote must be followed by a space or
// the end. nullopt on unbalanced quotes.
std::optional<std::vector<std::string>> SplitArgs(std::string_view line);

// Redis's memtoull: digits then an optional unit b k kb m mb g gb (case-insensitive; k = 1000,
// kb = 1024). nullopt when malformed, negative or overflowing.
std::optional<uint64_t> ParseMemory(std::string_view text);

}  // namespace tierkv::server
