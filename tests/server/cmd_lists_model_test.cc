// List commands against a model: random commands on two lists, checked after every one (the
// list commands' own cases are in cmd_lists_test.cc).
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tests/server/command_harness.h"

namespace tierkv::server {
namespace {

using testing::Client;
using testing::WithServer;

using Model = std::vector<std::string>;

std::string Join(const Model& elements) {
  std::string out = "[";
  for (size_t i = 0; i < elements.size(); i++) out += (i == 0 ? "" : ", ") + elements[i];
  return out + "]";
}

// Redis's LRANGE/LTRIM index rules on the model: the kept [start, stop], empty when start > stop.
std::pair<int64_t, int64_t> Clamp(int64_t size, int64_t start, int64_t stop) {
  if (start < 0) start += size;
  if (stop < 0) stop += size;
  if (start < 0) start = 0;
  if (stop >= size) stop = size - 1;
  return {start, stop};
}

}  // namespace

// Random list commands on two lists checked against a vector model after every command (fixed
// seed, bounded): the middle operations' element moves in the store (LINSERT, LREM, LTRIM) and
// the handlers' index rules must agree with Redis's.
TEST_CASE("lists: 400 random commands against a model") {
  WithServer([](Client& c) {
    std::mt19937_64 random(20261126);
    auto below = [&](int64_t n) { return static_cast<int64_t>(random() % static_cast<uint64_t>(n)); };
    const std::vector<std::string> values{"a", "b", "c", "d"};
    auto value = [&] { return values[static_cast<size_t>(below(4))]; };
    Model lists[2];
    const std::string names[2] = {"m0", "m1"};
    for (int step = 0; step < 400; step++) {
      const int which = static_cast<int>(below(2));
      Model& l = lists[which];
      const std::string& key = names[which];
      const int64_t size = static_cast<int64_t>(l.size());
      const int64_t i = below(2 * size + 3) - size - 1;  // in range, or just outside
      const int64_t j = below(2 * size + 3) - size - 1;
      CAPTURE(step);
      switch (below(9)) {
        case 0: {  // LPUSH / RPUSH
          const bool left = below(2) == 0;
          std::vector<std::string> args{left ? "LPUSH" : "RPUSH", key};
          for (int64_t n = 1 + below(3); n > 0; n--) {
            args.push_back(value());
            if (left) l.insert(l.begin(), args.back()); else l.push_back(args.back());
          }
          CHECK(c.Run(args) == ":" + std::to_string(l.size()));
          break;
        }
        case 1: {  // LPOP / RPOP count
          const bool left = below(2) == 0;
          const int64_t count = below(4);
          Model popped;
          for (int64_t n = 0; n < count && !l.empty(); n++) {
            popped.push_back(left ? l.front() : l.back());
            if (left) l.erase(l.begin()); else l.pop_back();
          }
          CHECK(c.Run({left ? "LPOP" : "RPOP", key, std::to_string(count)}) ==
                (size == 0 ? "(nil)" : Join(popped)));
          break;
        }
        case 2: {  // LINSERT
          const bool before = below(2) == 0;
          const std::string pivot = value(), element = value();
          auto at = std::find(l.begin(), l.end(), pivot);
          std::string expected = size == 0 ? ":0" : ":-1";
          if (at != l.end()) {
            l.insert(before ? at : at + 1, element);
            expected = ":" + std::to_string(l.size());
          }
          CHECK(c.Run({"LINSERT", key, before ? "BEFORE" : "AFTER", pivot, element}) == expected);
          break;
        }
        case 3: {  // LREM
          const int64_t count = below(5) - 2;
          const std::string element = value();
          int64_t removed = 0;
          if (count >= 0) {
            for (auto it = l.begin(); it != l.end() && (count == 0 || removed < count);) {
              if (*it == element) { it = l.erase(it); removed++; } else { ++it; }
            }
          } else {
            for (int64_t k = size - 1; k >= 0 && removed < -count; k--) {
              if (l[static_cast<size_t>(k)] == element) { l.erase(l.begin() + k); removed++; }
            }
          }
          CHECK(c.Run({"LREM", key, std::to_string(count), element}) == ":" + std::to_string(removed));
          break;
        }
        case 4: {  // LTRIM
          auto [start, stop] = Clamp(size, i, j);
          l = start > stop ? Model() : Model(l.begin() + start, l.begin() + stop + 1);
          CHECK(c.Run({"LTRIM", key, std::to_string(i), std::to_string(j)}) == "OK");
          break;
        }
        case 5: {  // LSET
          const std::string element = value();
          const int64_t at = i < 0 ? i + size : i;
          std::string expected = "-ERR index out of range";
          if (size == 0) {
            expected = "-ERR no such key";
          } else if (at >= 0 && at < size) {
            l[static_cast<size_t>(at)] = element;
            expected = "OK";
          }
          CHECK(c.Run({"LSET", key, std::to_string(i), element}) == expected);
          break;
        }
        case 6: {  // LINDEX and LRANGE
          const int64_t at = i < 0 ? i + size : i;
          CHECK(c.Run({"LINDEX", key, std::to_string(i)}) ==
                (at >= 0 && at < size ? l[static_cast<size_t>(at)] : "(nil)"));
          auto [start, stop] = Clamp(size, i, j);
          CHECK(c.Run({"LRANGE", key, std::to_string(i), std::to_string(j)}) ==
                (start > stop ? "[]" : Join(Model(l.begin() + start, l.begin() + stop + 1))));
          break;
        }
        case 7: {  // LPOS element RANK r COUNT 0 MAXLEN m
          const std::string element = value();
          int64_t rank = below(5) - 2;
          if (rank == 0) rank = 1;
          const int64_t maxlen = below(size + 2);
          std::vector<std::string> found;
          int64_t matches = 0;
          for (int64_t n = 0; n < size && (maxlen == 0 || n < maxlen); n++) {
            const int64_t at = rank > 0 ? n : size - 1 - n;
            if (l[static_cast<size_t>(at)] != element) continue;
            if (++matches >= (rank > 0 ? rank : -rank)) found.push_back(":" + std::to_string(at));
          }
          CHECK(c.Run({"LPOS", key, element, "RANK", std::to_string(rank), "COUNT", "0", "MAXLEN",
                       std::to_string(maxlen)}) == Join(found));
          break;
        }
        case 8: {  // LMOVE to the other list (or the same one)
          const int to = static_cast<int>(below(2));
          const bool from_left = below(2) == 0, to_left = below(2) == 0;
          std::string expected = "(nil)";
          if (size > 0) {
            expected = from_left ? l.front() : l.back();
            if (from_left) l.erase(l.begin()); else l.pop_back();
            Model& d = lists[to];
            if (to_left) d.insert(d.begin(), expected); else d.push_back(expected);
          }
          CHECK(c.Run({"LMOVE", key, names[to], from_left ? "LEFT" : "RIGHT",
                       to_left ? "LEFT" : "RIGHT"}) == expected);
          break;
        }
      }
      for (int k = 0; k < 2; k++) {
        REQUIRE(c.Run({"LRANGE", names[k], "0", "-1"}) == Join(lists[k]));
        REQUIRE(c.Run({"EXISTS", names[k]}) == (lists[k].empty() ? ":0" : ":1"));
      }
    }
  });
}

}  // namespace tierkv::server
