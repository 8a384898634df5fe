// Bitmap commands through the command harness (tests/server/command_harness.h), against the
// replies and errors of redis-server 7.0 (its tests/unit/bitops.tcl, tests/unit/bitfield.tcl and
// the redis.io examples).
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "tests/server/string_test_helpers.h"

namespace tierkv::server {
namespace {

using namespace std::string_literals;
using namespace string_tests;
using testing::Client;

TEST_CASE("bits: SETBIT and GETBIT") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("SETBIT k 7 1") == ":0");
    CHECK(c("GET k") == "\x01");
    CHECK(c("SETBIT k 7 1") == ":1");
    CHECK(c("SETBIT k 0 1") == ":0");
    CHECK(c("GET k") == "\x81");
    CHECK(c("SETBIT k 7 0") == ":1");
    CHECK(c("GET k") == "\x80");
    CHECK(c("SETBIT k 20 1") == ":0");  // grows with zero bytes
    CHECK(c.Run({"GET", "k"}) == "\x80\x00\x08"s);
    CHECK(c("GETBIT k 0") == ":1");
    CHECK(c("GETBIT k 1") == ":0");
    CHECK(c("GETBIT k 20") == ":1");
    CHECK(c("GETBIT k 100") == ":0");
    CHECK(c("GETBIT missing 0") == ":0");
    CHECK(c("SETBIT z 3 0") == ":0");  // clearing a bit still creates the key
    CHECK(c.Run({"GET", "z"}) == "\0"s);
    // Keeps the expiry.
    CHECK(c("SET t a EX 100") == "OK");
    CHECK(c("SETBIT t 0 1") == ":0");
    CHECK(node.TtlMs("t") > 99'000);
    // Errors.
    const std::string bad_bit = "-ERR bit is not an integer or out of range";
    const std::string bad_offset = "-ERR bit offset is not an integer or out of range";
    CHECK(c("SETBIT k 0 2") == bad_bit);
    CHECK(c("SETBIT k 0 -1") == bad_bit);
    CHECK(c("SETBIT k 0 x") == bad_bit);
    CHECK(c("SETBIT k -1 1") == bad_offset);
    CHECK(c("SETBIT k x 1") == bad_offset);
    CHECK(c("SETBIT k 4294967296 1") == bad_offset);
    CHECK(c("GETBIT k -1") == bad_offset);
    CHECK(c("GETBIT k 4294967296") == bad_offset);
    CHECK(c("GETBIT missing x") == bad_offset);
    node.MakeHash("h");
    CHECK(c("SETBIT h 0 1") == kWrongType);
    CHECK(c("GETBIT h 0") == kWrongType);
    CHECK(c("SETBIT k 0") == Arity("setbit"));
    CHECK(c("GETBIT k") == Arity("getbit"));
  });
}

TEST_CASE("bits: BITCOUNT") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("BITCOUNT missing") == ":0");
    CHECK(c("BITCOUNT missing 0") == ":0");  // Redis 7.0 answers 0 before parsing
    CHECK(c("SET k foobar") == "OK");
    CHECK(c("BITCOUNT k") == ":26");
    CHECK(c("BITCOUNT k 0 0") == ":4");
    CHECK(c("BITCOUNT k 1 1") == ":6");
    CHECK(c("BITCOUNT k 1 1 BYTE") == ":6");
    CHECK(c("BITCOUNT k 5 30 BIT") == ":17");
    CHECK(c("BITCOUNT k 0 -1") == ":26");
    CHECK(c("BITCOUNT k -2 -1") == ":7");
    CHECK(c("BITCOUNT k -1 -2") == ":0");
    CHECK(c("BITCOUNT k 4 2") == ":0");
    CHECK(c("BITCOUNT k 100 200") == ":0");
    CHECK(c("BITCOUNT k -100 100") == ":26");
    CHECK(c("BITCOUNT k 0 -1 bit") == ":26");
    CHECK(c("BITCOUNT k -8 -1 BIT") == ":4");  // "r" = 0x72
    CHECK(c("BITCOUNT k 1 1 BIT") == ":1");
    CHECK(c("BITCOUNT k 2 2 BIT") == ":1");
    CHECK(c("BITCOUNT k 0 0 BIT") == ":0");
    CHECK(c("SET e ") == "OK");
    CHECK(c("BITCOUNT e") == ":0");
    CHECK(c("BITCOUNT e 0 -1 BIT") == ":0");
    // Errors.
    CHECK(c("BITCOUNT k 0") == kSyntax);
    CHECK(c("BITCOUNT k 0 1 BYTE x") == kSyntax);
    CHECK(c("BITCOUNT k 0 1 WORD") == kSyntax);
    CHECK(c("BITCOUNT k x 1") == kNotInteger);
    CHECK(c("BITCOUNT k 0 y") == kNotInteger);
    node.MakeHash("h");
    CHECK(c("BITCOUNT h") == kWrongType);
    CHECK(c("BITCOUNT") == Arity("bitcount"));
  });
}

TEST_CASE("bits: BITPOS") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("BITPOS missing 1") == ":-1");
    CHECK(c("BITPOS missing 0") == ":0");
    CHECK(c.Run({"SET", "k", "\xff\xf0\x00"s}) == "OK");
    CHECK(c("BITPOS k 0") == ":12");
    CHECK(c("BITPOS k 1") == ":0");
    CHECK(c.Run({"SET", "k", "\x00\xff\xf0"s}) == "OK");
    CHECK(c("BITPOS k 1 0") == ":8");
    CHECK(c("BITPOS k 1 2") == ":16");
    CHECK(c("BITPOS k 1 2 -1 BYTE") == ":16");
    CHECK(c("BITPOS k 1 7 15 BIT") == ":8");
    CHECK(c("BITPOS k 1 9 15 bit") == ":9");
    CHECK(c("BITPOS k 0 8 15 BIT") == ":-1");
    CHECK(c("BITPOS k 0 8 20 BIT") == ":20");
    CHECK(c("BITPOS k 1 -1") == ":16");
    CHECK(c("BITPOS k 1 5 10") == ":-1");  // an empty range
    CHECK(c.Run({"SET", "z", "\x00\x00\x00"s}) == "OK");
    CHECK(c("BITPOS z 1") == ":-1");
    CHECK(c("BITPOS z 1 7 -3 BIT") == ":-1");
    CHECK(c("BITPOS z 0") == ":0");
    CHECK(c.Run({"SET", "ones", "\xff\xff\xff"s}) == "OK");
    // A clear bit is found past the string only when no end was given.
    CHECK(c("BITPOS ones 0") == ":24");
    CHECK(c("BITPOS ones 0 1") == ":24");
    CHECK(c("BITPOS ones 0 0 -1") == ":-1");
    CHECK(c("BITPOS ones 0 0 -1 BIT") == ":-1");
    CHECK(c("SET e ") == "OK");
    CHECK(c("BITPOS e 0") == ":-1");
    CHECK(c("BITPOS e 1") == ":-1");
    // Errors.
    CHECK(c("BITPOS k 2") == "-ERR The bit argument must be 1 or 0.");
    CHECK(c("BITPOS missing 2") == "-ERR The bit argument must be 1 or 0.");
    CHECK(c("BITPOS k x") == kNotInteger);
    CHECK(c("BITPOS k 1 x") == kNotInteger);
    CHECK(c("BITPOS k 1 0 x") == kNotInteger);
    CHECK(c("BITPOS k 1 0 1 WORD") == kSyntax);
    CHECK(c("BITPOS k 1 0 1 BIT x") == kSyntax);
    node.MakeHash("h");
    CHECK(c("BITPOS h 1") == kWrongType);
    CHECK(c("BITPOS k") == Arity("bitpos"));
  });
}

TEST_CASE("bits: BITOP across shards") {
  WithNode(
      [](Client& c, Node&) {
        CHECK(c("MSET key1 foobar key2 abcdef") == "OK");
        CHECK(c("BITOP AND dest key1 key2") == ":6");
        CHECK(c("GET dest") == "`bc`ab");
        CHECK(c("BITOP OR dest key1 key2") == ":6");
        CHECK(c("GET dest") == "goofev");
        CHECK(c("BITOP XOR dest key1 key2") == ":6");
        CHECK(c.Run({"GET", "dest"}) == "\x07\x0d\x0c\x06\x04\x14"s);
        CHECK(c.Run({"SET", "b", "\x0f\xf0"s}) == "OK");
        CHECK(c("BITOP NOT dest b") == ":2");
        CHECK(c.Run({"GET", "dest"}) == "\xf0\x0f"s);
        // Shorter strings and missing keys are padded with zeros.
        CHECK(c.Run({"SET", "short", "\xff"s}) == "OK");
        CHECK(c("BITOP AND dest b short") == ":2");
        CHECK(c.Run({"GET", "dest"}) == "\x0f\x00"s);
        CHECK(c("BITOP OR dest short b missing") == ":2");
        CHECK(c.Run({"GET", "dest"}) == "\xff\xf0"s);
        CHECK(c("BITOP AND dest b missing") == ":2");
        CHECK(c.Run({"GET", "dest"}) == "\x00\x00"s);
        CHECK(c("BITOP AND dest dest b") == ":2");   // the destination as a source
        CHECK(c("BITOP NOT dest missing") == ":0");  // an empty result deletes it
        CHECK(c("EXISTS dest") == ":0");
        CHECK(c("SET t v EX 100") == "OK");
        CHECK(c("BITOP or t key1") == ":6");
        CHECK(c("GET t") == "foobar");
        // Errors.
        CHECK(c("BITOP NAND dest key1") == kSyntax);
        CHECK(c("BITOP NOT dest key1 key2") ==
              "-ERR BITOP NOT must be called with a single source key.");
        CHECK(c("BITOP AND dest") == Arity("bitop"));
      },
      4);
}

TEST_CASE("bits: BITOP against another type") {
  WithNode(
      [](Client& c, Node& node) {
        node.MakeHash("h");
        CHECK(c("SET s abc") == "OK");
        CHECK(c("BITOP AND d s h") == kWrongType);
        CHECK(c("EXISTS d") == ":0");
        CHECK(c("BITOP OR h s") == ":3");  // a destination of another type is replaced
        CHECK(c("GET h") == "abc");
        CHECK(node.TtlMs("h") == kNoExpiry);
      },
      4);
}

TEST_CASE("bits: BITFIELD") {
  WithNode([](Client& c, Node& node) {
    CHECK(c("BITFIELD k INCRBY i5 100 1 GET u4 0") == "[:1, :0]");
    CHECK(c("BITFIELD s SET i8 0 -100") == "[:0]");
    CHECK(c("BITFIELD s SET i8 0 101") == "[:-100]");
    CHECK(c("BITFIELD s GET i8 0") == "[:101]");
    CHECK(c("BITFIELD u SET u8 0 255") == "[:0]");
    CHECK(c("BITFIELD u SET u8 0 100") == "[:255]");
    CHECK(c("BITFIELD u GET u8 0") == "[:100]");
    CHECK(c("BITFIELD h SET u8 #0 65 SET u8 #1 66 SET u8 #2 67") == "[:0, :0, :0]");
    CHECK(c("GET h") == "ABC");
    CHECK(c("BITFIELD h GET u8 #1 GET i16 #1 GET u4 #3") == "[:66, :17152, :2]");
    CHECK(c("BITFIELD i SET u8 #0 10 INCRBY u8 #0 100 INCRBY u8 #0 100") == "[:0, :110, :210]");
    CHECK(c("BITFIELD chain SET u8 0 255 INCRBY u8 0 100 GET u8 0") == "[:0, :99, :99]");
    // Overflow modes.
    CHECK(c("BITFIELD w SET u8 0 100 INCRBY u8 0 257 GET u8 0 INCRBY u8 0 255") ==
          "[:0, :101, :101, :100]");
    CHECK(c("BITFIELD w overflow sat INCRBY u8 0 257 INCRBY u8 0 -255") == "[:255, :0]");
    CHECK(c("BITFIELD sw SET i8 0 100 OVERFLOW wrap INCRBY i8 0 257 INCRBY i8 0 255") ==
          "[:0, :101, :100]");
    CHECK(c("BITFIELD sw OVERFLOW SAT INCRBY i8 0 257 INCRBY i8 0 -255") == "[:127, :-128]");
    CHECK(c("BITFIELD f SET u2 0 3 OVERFLOW FAIL INCRBY u2 0 1 GET u2 0") == "[:0, (nil), :3]");
    CHECK(c("BITFIELD f OVERFLOW FAIL SET i4 8 8 SET i4 8 7 SET u2 0 4") == "[(nil), :0, (nil)]");
    CHECK(c("BITFIELD f OVERFLOW SAT SET i4 8 100 SET u2 0 -1 GET i4 8") == "[:7, :3, :7]");
    CHECK(c("BITFIELD f OVERFLOW WRAP SET u2 0 5 GET u2 0") == "[:3, :1]");
    CHECK(c("BITFIELD doc incrby u2 100 1 OVERFLOW SAT incrby u2 102 1") == "[:1, :1]");
    CHECK(c("BITFIELD doc incrby u2 100 1 OVERFLOW SAT incrby u2 102 1") == "[:2, :2]");
    CHECK(c("BITFIELD doc incrby u2 100 1 OVERFLOW SAT incrby u2 102 1") == "[:3, :3]");
    CHECK(c("BITFIELD doc incrby u2 100 1 OVERFLOW SAT incrby u2 102 1") == "[:0, :3]");
    // 64-bit fields.
    CHECK(c("BITFIELD big SET i64 0 9223372036854775807 INCRBY i64 0 1") ==
          "[:0, :-9223372036854775808]");
    CHECK(c("BITFIELD big OVERFLOW SAT INCRBY i64 0 -1 INCRBY i64 0 -9223372036854775808") ==
          "[:-9223372036854775808, :-9223372036854775808]");
    CHECK(c("BITFIELD big2 SET u63 0 9223372036854775807 OVERFLOW SAT INCRBY u63 0 1") ==
          "[:0, :9223372036854775807]");
    // Reads past the end are zeros; no key, no operation: an empty array.
    CHECK(c("BITFIELD missing GET u8 0 GET i64 1000") == "[:0, :0]");
    CHECK(c("EXISTS missing") == ":0");
    CHECK(c("BITFIELD missing") == "[]");
    CHECK(c("BITFIELD_RO h GET u8 #0 GET u8 #2") == "[:65, :67]");
    CHECK(c("BITFIELD_RO missing") == "[]");
    // A write grows the string to its highest bit even when OVERFLOW FAIL refused it.
    CHECK(c("BITFIELD grow OVERFLOW FAIL SET u2 30 7") == "[(nil)]");
    CHECK(c("STRLEN grow") == ":4");
    // Keeps the expiry.
    CHECK(c("SET t abc EX 100") == "OK");
    CHECK(c("BITFIELD t SET u8 0 66") == "[:97]");
    CHECK(c("GET t") == "Bbc");
    CHECK(node.TtlMs("t") > 99'000);
    // Errors.
    const std::string bad_type =
        "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
        "but i64 is.";
    CHECK(c("BITFIELD k GET u64 0") == bad_type);
    CHECK(c("BITFIELD k GET i65 0") == bad_type);
    CHECK(c("BITFIELD k GET i0 0") == bad_type);
    CHECK(c("BITFIELD k GET U8 0") == bad_type);
    CHECK(c("BITFIELD k GET x8 0") == bad_type);
    CHECK(c("BITFIELD k GET u8 -1") == "-ERR bit offset is not an integer or out of range");
    CHECK(c("BITFIELD k GET u8 #-1") == "-ERR bit offset is not an integer or out of range");
    CHECK(c("BITFIELD k GET u8 4294967296") == "-ERR bit offset is not an integer or out of range");
    CHECK(c("BITFIELD k SET u8 0 x") == kNotInteger);
    CHECK(c("BITFIELD k OVERFLOW foo GET u8 0") == "-ERR Invalid OVERFLOW type specified");
    CHECK(c("BITFIELD k FOO u8 0") == kSyntax);
    CHECK(c("BITFIELD k GET u8") == kSyntax);
    CHECK(c("BITFIELD k SET u8 0") == kSyntax);
    CHECK(c("BITFIELD k OVERFLOW") == kSyntax);
    CHECK(c("BITFIELD_RO k SET u8 0 1") == "-ERR BITFIELD_RO only supports the GET subcommand");
    CHECK(c("BITFIELD_RO k INCRBY u8 0 1") == "-ERR BITFIELD_RO only supports the GET subcommand");
    node.MakeHash("hash");
    CHECK(c("BITFIELD hash GET u8 0") == kWrongType);
    CHECK(c("BITFIELD hash SET u8 0 1") == kWrongType);
    CHECK(c("BITFIELD_RO hash GET u8 0") == kWrongType);
    CHECK(c("BITFIELD") == Arity("bitfield"));
    CHECK(c("HELLO 3").starts_with("{"));
    CHECK(c.RunRaw({"BITFIELD", "f3", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"}) ==
          "*1\r\n_\r\n");
  });
}

namespace {

// Set bits in text[start..end] (inclusive, clamped), counted one bit at a time.
int64_t NaiveBitCount(const std::string& text, size_t start, size_t end) {
  int64_t count = 0;
  for (size_t i = start; i <= end && i < text.size(); i++) {
    for (int bit = 0; bit < 8; bit++) count += (static_cast<unsigned char>(text[i]) >> bit) & 1;
  }
  return count;
}

}  // namespace

TEST_CASE("bits: cases from Redis's bitops.tcl") {
  WithNode([](Client& c, Node&) {
    CHECK(c("SETBIT foo 0 1") == ":0");
    CHECK(c("BITCOUNT foo 0 4294967296") == ":1");  // github issue #582
    CHECK(c("SET str ab") == "OK");
    CHECK(c("BITCOUNT str 1 -1") == ":3");  // misaligned prefix
    CHECK(c("SET str __PPxxxxxxxxxxxxxxxxRR__") == "OK");
    CHECK(c("BITCOUNT str 2 -3") == ":74");  // misaligned prefix + full words + remainder
    CHECK(c.Run({"SET", "s", "\xaa\x00\xff\x55"s}) == "OK");
    CHECK(c("BITOP NOT s s") == ":4");  // destination and source the same key
    CHECK(c.Run({"GET", "s"}) == "\x55\xff\x00\xaa"s);
    CHECK(c.Run({"SET", "a", "\x01\x02\xff"s}) == "OK");
    CHECK(c("BITOP AND r1 a") == ":3");
    CHECK(c("BITOP XOR r2 a") == ":3");
    CHECK(c("MGET r1 r2") == "[\x01\x02\xff, \x01\x02\xff]");
    CHECK(c("SET e ") == "OK");
    CHECK(c("BITOP NOT dest e") == ":0");
    CHECK(c("GET dest") == "(nil)");
  });
}

TEST_CASE("bits: BITCOUNT and BITPOS against a bit-by-bit model (fixed seed)") {
  WithNode([](Client& c, Node&) {
    std::mt19937_64 random(20260126);
    // BITCOUNT of random strings and ranges.
    for (int round = 0; round < 60; round++) {
      std::string text(random() % 300, '\0');
      for (char& ch : text) ch = static_cast<char>(random() & 0xff);
      REQUIRE(c.Run({"SET", "str", text}) == "OK");
      const size_t length = text.size();
      size_t start = length == 0 ? 0 : random() % length;
      size_t end = length == 0 ? 0 : random() % length;
      if (start > end) std::swap(start, end);
      CHECK(c("BITCOUNT str") == ":" + std::to_string(NaiveBitCount(text, 0, length)));
      if (length > 0) {
        CHECK(c.Run({"BITCOUNT", "str", std::to_string(start), std::to_string(end)}) ==
              ":" + std::to_string(NaiveBitCount(text, start, end)));
      }
    }
    // BITPOS 1 after random SETBITs: the smallest position set so far.
    constexpr int64_t kMaxBit = 4096;
    for (int round = 0; round < 20; round++) {
      REQUIRE(c("DEL ones") == (round == 0 ? ":0" : ":1"));
      int64_t first_one = -1;
      for (int i = 0; i < 10; i++) {
        const int64_t position = static_cast<int64_t>(random() % kMaxBit);
        REQUIRE(c.Run({"SETBIT", "ones", std::to_string(position), "1"}).starts_with(":"));
        if (first_one == -1 || position < first_one) first_one = position;
        CHECK(c("BITPOS ones 1") == ":" + std::to_string(first_one));
      }
    }
    // BITPOS 0 in a string of ones after random clears.
    for (int round = 0; round < 20; round++) {
      REQUIRE(c.Run({"SET", "zeros", std::string(kMaxBit / 8, '\xff')}) == "OK");
      int64_t first_zero = kMaxBit;
      CHECK(c("BITPOS zeros 0") == ":" + std::to_string(kMaxBit));
      for (int i = 0; i < 10; i++) {
        const int64_t position = static_cast<int64_t>(random() % kMaxBit);
        REQUIRE(c.Run({"SETBIT", "zeros", std::to_string(position), "0"}).starts_with(":"));
        first_zero = std::min(first_zero, position);
        CHECK(c("BITPOS zeros 0") == ":" + std::to_string(first_zero));
      }
    }
  });
}

}  // namespace
}  // namespace tierkv::server
