// The Redis types' record encodings (tiers/types.h describes the layout; docs/format.md the
// bytes): big-endian integers, the metadata, subkey, score, garbage and expiry keys, the
// order-preserving score bytes, and the metadata record's header in its full and compact forms.
#include <cstring>

#include "tiers/types_internal.h"

namespace tierkv::tiers {

using types_internal::GetBE;
using types_internal::MetaKey;
using types_internal::PutBE;

void types_internal::PutBE(std::string& out, uint64_t value, int bytes) {
  char be[8];
  for (int i = 0; i < bytes; i++) be[i] = static_cast<char>(value >> (8 * (bytes - 1 - i)));
  out.append(be, static_cast<size_t>(bytes));
}
uint64_t types_internal::GetBE(std::string_view in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; i++) value = (value << 8) | static_cast<uint8_t>(in[offset + i]);
  return value;
}

namespace {

std::string KeyPrefix(char tag, int db, std::string_view key) {
  std::string out(1, tag);
  PutBE(out, KeySlot(key), 2);
  out.push_back(static_cast<char>(db));
  return out;
}

}  // namespace

void types_internal::WriteMetaKey(char* out, int db, std::string_view key) {
  const uint16_t slot = KeySlot(key);
  out[0] = 'M';
  out[1] = static_cast<char>(slot >> 8);
  out[2] = static_cast<char>(slot & 0xff);
  out[3] = static_cast<char>(db);
  if (!key.empty()) std::memcpy(out + 4, key.data(), key.size());
}

std::string types_internal::MetaKey(int db, std::string_view key) {
  // One allocation of the final size (the hot path of every command: built byte by byte it
  // showed in profiles).
  std::string out(4 + key.size(), '\0');
  WriteMetaKey(out.data(), db, key);
  return out;
}

types_internal::StackMetaKey::StackMetaKey(int db, std::string_view key) {
  if (key.size() + 4 <= sizeof(inline_)) {
    WriteMetaKey(inline_, db, key);
    view_ = std::string_view(inline_, key.size() + 4);
  } else {
    heap_ = MetaKey(db, key);
    view_ = heap_;
  }
}

std::string types_internal::SubPrefix(int db, std::string_view key, uint64_t version) {
  std::string out = KeyPrefix('S', db, key);
  PutBE(out, key.size(), 4);
  out += key;
  PutBE(out, version, 8);
  return out;
}


std::string types_internal::ScorePrefix(int db, std::string_view key, uint64_t version) {
  std::string out = SubPrefix(db, key, version);
  out[0] = 'Z';
  return out;
}


std::string types_internal::ScoreBytes(double score) {
  if (score == 0) score = 0;
  uint64_t bits;
  std::memcpy(&bits, &score, 8);
  bits = (bits & (uint64_t{1} << 63)) ? ~bits : bits | (uint64_t{1} << 63);
  std::string out;
  PutBE(out, bits, 8);
  return out;
}

double types_internal::ScoreFrom(std::string_view bytes) {
  uint64_t bits = GetBE(bytes, 0, 8);
  bits = (bits & (uint64_t{1} << 63)) ? bits & ~(uint64_t{1} << 63) : ~bits;
  double score;
  std::memcpy(&score, &bits, 8);
  return score;
}


std::string types_internal::GarbageKey(uint64_t version, int db, std::string_view key) {
  std::string out(1, 'G');
  PutBE(out, version, 8);
  PutBE(out, KeySlot(key), 2);
  out.push_back(static_cast<char>(db));
  PutBE(out, key.size(), 4);
  out += key;
  return out;
}

std::string types_internal::ExpiryKey(int64_t expire_ms, int db, std::string_view key) {
  std::string out(1, 'E');
  PutBE(out, static_cast<uint64_t>(expire_ms), 8);
  PutBE(out, KeySlot(key), 2);
  out.push_back(static_cast<char>(db));
  out += key;
  return out;
}

types_internal::EncodedHeader types_internal::MetaHeader(const Metadata& meta) {
  EncodedHeader out;
  auto put = [&out](uint64_t field) {
    for (int i = 7; i >= 0; i--) out.bytes[out.size++] = static_cast<char>(field >> (8 * i));
  };
  if (meta.type == RedisType::kString) {
    out.bytes[out.size++] = meta.expire_ms == 0 ? kCompactString : kCompactStringExpiring;
    if (meta.expire_ms != 0) put(static_cast<uint64_t>(meta.expire_ms));
    return out;
  }
  out.bytes[out.size++] = static_cast<char>(meta.type);
  for (uint64_t field : {static_cast<uint64_t>(meta.expire_ms), meta.version, meta.size, meta.head,
                         meta.tail}) {
    put(field);
  }
  return out;
}

Result<Metadata> types_internal::DecodeMeta(std::string_view in, bool with_value) {
  auto malformed = [] { return Err(StatusCode::kCorruption, "malformed key metadata"); };
  if (in.empty()) return malformed();
  Metadata meta;
  size_t header = kMetaHeader;
  if (in[0] == kCompactString || in[0] == kCompactStringExpiring) {
    meta.type = RedisType::kString;
    header = in[0] == kCompactString ? 1 : kCompactExpiringHeader;
    if (in.size() < header) return malformed();
    if (header > 1) meta.expire_ms = static_cast<int64_t>(GetBE(in, 1, 8));
    meta.size = in.size() - header;  // the value's length (of a whole record)
  } else {
    if (in.size() < kMetaHeader || in[0] < 1 || in[0] > 5) return malformed();
    meta.type = static_cast<RedisType>(in[0]);
    meta.expire_ms = static_cast<int64_t>(GetBE(in, 1, 8));
    meta.version = GetBE(in, 9, 8);
    meta.size = GetBE(in, 17, 8);
    meta.head = GetBE(in, 25, 8);
    meta.tail = GetBE(in, 33, 8);
  }
  if (with_value) meta.value.assign(in.substr(header));
  return meta;
}

bool types_internal::IsCollection(RedisType type) { return type != RedisType::kString && type != RedisType::kNone; }

}  // namespace tierkv::tiers
