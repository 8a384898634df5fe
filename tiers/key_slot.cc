// KeySlot: the Redis Cluster slot of a key, CRC16 (XMODEM) of the key or its {hashtag} mod 16384.
#include <array>
#include <cstdint>
#include <string_view>

#include "tiers/types.h"

namespace tierkv::tiers {

namespace {

// tables[0][b]: the CRC16 (XMODEM) of byte b; tables[k][b]: of byte b followed by k zero bytes
// (the CRC is linear, so eight bytes' contributions are looked up independently and XORed).
using Crc16Table = std::array<std::array<uint16_t, 256>, 8>;
const Crc16Table& Crc16Tables() {
  static constexpr Crc16Table kTables = [] {
    Crc16Table tables{};
    for (int byte = 0; byte < 256; byte++) {
      auto crc = static_cast<uint16_t>(byte << 8);
      for (int bit = 0; bit < 8; bit++) {
        crc = static_cast<uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
      }
      tables[0][static_cast<size_t>(byte)] = crc;
    }
    for (size_t k = 1; k < 8; k++) {
      for (size_t byte = 0; byte < 256; byte++) {
        const uint16_t prev = tables[k - 1][byte];  // advanced by one zero byte
        tables[k][byte] = static_cast<uint16_t>(((prev & 0xff) << 8) ^ tables[0][prev >> 8]);
      }
    }
    return tables;
  }();
  return kTables;
}

}  // namespace

uint16_t KeySlot(std::string_view key) {
  // Hash only the {hashtag} when the key has a non-empty one (Redis Cluster rule).
  size_t open = key.find('{');
  if (open != std::string_view::npos) {
    size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  // CRC16-CCITT (XMODEM), as Redis's crc16.c, through tables built at compile time, eight bytes
  // per step ("slicing by 8": every command hashes its key up to three times, and a byte at a
  // time is one dependent table load per byte, 5% of a pipelined SET).
  const auto& tables = Crc16Tables();
  uint16_t crc = 0;
  size_t at = 0;
  for (; at + 8 <= key.size(); at += 8) {
    const auto* b = reinterpret_cast<const uint8_t*>(key.data() + at);
    crc = static_cast<uint16_t>(tables[7][(crc >> 8) ^ b[0]] ^ tables[6][(crc & 0xff) ^ b[1]] ^
                                tables[5][b[2]] ^ tables[4][b[3]] ^ tables[3][b[4]] ^
                                tables[2][b[5]] ^ tables[1][b[6]] ^ tables[0][b[7]]);
  }
  for (; at < key.size(); at++) {
    crc = static_cast<uint16_t>((crc << 8) ^
                                tables[0][((crc >> 8) ^ static_cast<uint8_t>(key[at])) & 0xff]);
  }
  return crc & 16383;
}

}  // namespace tierkv::tiers
