// Bitmap commands (Redis 7.0's bitops.c): SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
// BITFIELD_RO. A bitmap is a string (cmd_strings.cc says how strings are stored and why edits
// rewrite the value whole); bit 0 is the most significant bit of byte 0. SETBIT and BITFIELD
// write, and signal the key, only when the value changes or the key is new (Redis 7.0.x's rule).
// BITOP fetches its sources from their owners and stores the result on the destination's owner.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/cmd_strings.h"
#include "server/command.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

using namespace strings;  // NOLINT: the string family's shared helpers
using tiers::Metadata;
using tiers::RedisType;

constexpr std::string_view kBitOffsetError = "ERR bit offset is not an integer or out of range";

// ---------------------------------------------------------------------------------------------
// Bits: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP. Bit 0 is the most significant bit of byte 0.
// ---------------------------------------------------------------------------------------------

int Bit(std::string_view value, uint64_t offset) {
  const uint64_t byte = offset >> 3;
  if (byte >= value.size()) return 0;
  return (static_cast<unsigned char>(value[byte]) >> (7 - (offset & 7))) & 1;
}

void SetBitIn(std::string& value, uint64_t offset, int bit) {
  const uint64_t byte = offset >> 3;
  TK_ASSERT(byte < value.size());
  const unsigned char mask = static_cast<unsigned char>(1u << (7 - (offset & 7)));
  unsigned char c = static_cast<unsigned char>(value[byte]);
  c = bit ? (c | mask) : (c & ~mask);
  value[byte] = static_cast<char>(c);
}

// Redis's getBitOffsetFromArgument: a bit offset below 2^32 (512 MB of bits); with `hash`, "#N"
// means N * `bits` (BITFIELD's typed offsets).
std::optional<uint64_t> BitOffset(Ctx& ctx, size_t arg, bool hash = false, int bits = 0) {
  std::string_view text = ctx.arg(arg);
  const bool use_hash = hash && text.size() > 1 && text[0] == '#';
  if (use_hash) text.remove_prefix(1);
  int64_t offset = 0;
  if (!ParseInt64(text, offset)) {
    ctx.reply().Error(kBitOffsetError);
    return std::nullopt;
  }
  // Redis multiplies in signed 64 bits; doing it unsigned keeps its wrap-around defined.
  if (use_hash) offset = static_cast<int64_t>(static_cast<uint64_t>(offset) * bits);
  if (offset < 0 || (offset >> 3) >= kMaxStringBytes) {
    ctx.reply().Error(kBitOffsetError);
    return std::nullopt;
  }
  return static_cast<uint64_t>(offset);
}

void SetBit(Ctx& ctx) {
  auto offset = BitOffset(ctx, 2);
  if (!offset) return;
  int64_t on = 0;
  if (!ParseInt64(ctx.arg(3), on) || (on & ~1)) {
    return ctx.reply().Error("ERR bit is not an integer or out of range");
  }
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  std::string value = *meta ? std::move((*meta)->value) : "";
  const int64_t expire_ms = *meta ? (*meta)->expire_ms : 0;
  const int old = Bit(value, *offset);
  const size_t needed = (*offset >> 3) + 1;
  const bool grows = !*meta || value.size() < needed;
  // Nothing to write (nor to signal, as in Redis 7.0) when the bit already has the value and
  // the string need not grow.
  if (grows || old != on) {
    if (value.size() < needed) value.resize(needed, '\0');
    SetBitIn(value, *offset, static_cast<int>(on));
    if (!WriteValue(ctx, value, expire_ms, "setbit")) return;
  }
  ctx.reply().Integer(old);
}

void GetBit(Ctx& ctx) {
  auto offset = BitOffset(ctx, 2);
  if (!offset) return;
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  ctx.reply().Integer(*meta ? Bit((*meta)->value, *offset) : 0);
}

// A BITCOUNT/BITPOS range in bits, inclusive, from the arguments at `start_arg` (and `end_arg`
// when given) in BYTE or BIT units. BYTE ranges cover whole bytes.
struct BitRange {
  bool empty = false;
  uint64_t first = 0;
  uint64_t last = 0;
};

// Converts Redis's start/end (negative from the end, clamped) to a bit range over `length`
// bytes.
BitRange ToBitRange(int64_t length, int64_t start, int64_t end, bool bit_unit) {
  const int64_t total = bit_unit ? length * 8 : length;
  BitRange range;
  if (!ClampRange(total, start, end)) {
    range.empty = true;
    return range;
  }
  range.first = bit_unit ? start : start * 8;
  range.last = bit_unit ? end : end * 8 + 7;
  TK_ASSERT(range.first <= range.last && (range.last >> 3) < static_cast<uint64_t>(length));
  return range;
}

uint64_t CountBits(std::string_view value, uint64_t first, uint64_t last) {
  uint64_t count = 0;
  // Whole bytes by popcount; the partial edges bit by bit.
  while (first <= last && (first & 7) != 0) count += Bit(value, first++);
  while (first + 7 <= last) {
    count += std::popcount(static_cast<unsigned char>(value[first >> 3]));
    first += 8;
  }
  while (first <= last) count += Bit(value, first++);
  return count;
}

// Parses "BYTE"/"BIT" at `arg`: nullopt (syntax error written) for anything else.
std::optional<bool> BitUnit(Ctx& ctx, size_t arg) {
  if (ctx.Is(arg, "bit")) return true;
  if (ctx.Is(arg, "byte")) return false;
  ctx.SyntaxError();
  return std::nullopt;
}

// BITCOUNT: Redis 7.0 looks the key up before it parses the range (a missing key answers 0
// whatever the arguments).
void BitCount(Ctx& ctx) {
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().Integer(0);
  const std::string& value = (*meta)->value;
  const int64_t length = static_cast<int64_t>(value.size());
  BitRange range{length == 0, 0, static_cast<uint64_t>(length) * 8 - 1};
  if (ctx.argc() == 4 || ctx.argc() == 5) {
    auto start = ctx.Int(2);
    if (!start) return;
    auto end = ctx.Int(3);
    if (!end) return;
    if (*start < 0 && *end < 0 && *start > *end) return ctx.reply().Integer(0);
    bool bit_unit = false;
    if (ctx.argc() == 5) {
      auto unit = BitUnit(ctx, 4);
      if (!unit) return;
      bit_unit = *unit;
    }
    range = ToBitRange(length, *start, *end, bit_unit);
  } else if (ctx.argc() != 2) {
    return ctx.SyntaxError();
  }
  ctx.reply().Integer(
      range.empty ? 0 : static_cast<int64_t>(CountBits(value, range.first, range.last)));
}

// BITPOS key bit [start [end [BYTE|BIT]]]. A missing key is all zeros; a clear bit searched
// without an explicit end is found just past the string (Redis pads it with zeros).
void BitPos(Ctx& ctx) {
  auto bit = ctx.Int(2);
  if (!bit) return;
  if (*bit != 0 && *bit != 1) return ctx.reply().Error("ERR The bit argument must be 1 or 0.");
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  if (!*meta) return ctx.reply().Integer(*bit ? -1 : 0);
  const std::string& value = (*meta)->value;
  const int64_t length = static_cast<int64_t>(value.size());
  BitRange range{length == 0, 0, static_cast<uint64_t>(length) * 8 - 1};
  bool end_given = false;
  if (ctx.argc() >= 4 && ctx.argc() <= 6) {
    auto start = ctx.Int(3);
    if (!start) return;
    bool bit_unit = false;
    if (ctx.argc() == 6) {
      auto unit = BitUnit(ctx, 5);
      if (!unit) return;
      bit_unit = *unit;
    }
    int64_t end = bit_unit ? length * 8 - 1 : length - 1;
    if (ctx.argc() >= 5) {
      auto given = ctx.Int(4);
      if (!given) return;
      end = *given;
      end_given = true;
    }
    range = ToBitRange(length, *start, end, bit_unit);
  } else if (ctx.argc() != 3) {
    return ctx.SyntaxError();
  }
  if (range.empty) return ctx.reply().Integer(-1);
  for (uint64_t i = range.first; i <= range.last; i++) {
    if (Bit(value, i) == *bit) return ctx.reply().Integer(static_cast<int64_t>(i));
  }
  if (*bit == 1 || end_given) return ctx.reply().Integer(-1);
  ctx.reply().Integer(static_cast<int64_t>(range.last + 1));
}

void BitOp(Ctx& ctx) {
  enum class Op { kAnd, kOr, kXor, kNot };
  Op op;
  if (ctx.Is(1, "and")) {
    op = Op::kAnd;
  } else if (ctx.Is(1, "or")) {
    op = Op::kOr;
  } else if (ctx.Is(1, "xor")) {
    op = Op::kXor;
  } else if (ctx.Is(1, "not")) {
    op = Op::kNot;
  } else {
    return ctx.SyntaxError();
  }
  if (op == Op::kNot && ctx.argc() != 4) {
    return ctx.reply().Error("ERR BITOP NOT must be called with a single source key.");
  }
  std::vector<std::string> sources;
  size_t max_length = 0;
  for (size_t i = 3; i < ctx.argc(); i++) {
    auto meta = LookupOn(ctx, ctx.arg(i));
    if (!meta) return ctx.Error(meta.error());
    if (*meta && (*meta)->type != RedisType::kString) return ctx.Error(tiers::WrongType());
    sources.push_back(*meta ? std::move((*meta)->value) : "");
    max_length = std::max(max_length, sources.back().size());
  }
  // Missing bytes (shorter strings, missing keys) count as zeros.
  auto byte = [&](size_t source, size_t i) -> unsigned char {
    return i < sources[source].size() ? static_cast<unsigned char>(sources[source][i]) : 0;
  };
  std::string result(max_length, '\0');
  for (size_t i = 0; i < max_length; i++) {
    unsigned char out = op == Op::kNot ? static_cast<unsigned char>(~byte(0, i)) : byte(0, i);
    for (size_t s = 1; s < sources.size(); s++) {
      if (op == Op::kAnd) out &= byte(s, i);
      if (op == Op::kOr) out |= byte(s, i);
      if (op == Op::kXor) out ^= byte(s, i);
    }
    result[i] = static_cast<char>(out);
  }
  // The destination is replaced (expiry cleared), or deleted when the result is empty.
  const std::string& destination = ctx.arg(2);
  const int db = ctx.db();
  Server& server = ctx.server();
  auto stored = ctx.On<bool>(ctx.OwnerOf(destination), [&, db](Shard& shard) -> Result<bool> {
    if (max_length > 0) {
      TK_RETURN_IF_ERROR_R(shard.store().Set(db, destination, result));
      server.KeyChanged(db, destination, kNotifyString, "set");
      return true;
    }
    auto deleted = shard.store().Delete(db, destination);
    if (deleted && *deleted) server.KeyChanged(db, destination, kNotifyGeneric, "del");
    return deleted;
  });
  if (!stored) return ctx.Error(stored.error());
  ctx.reply().Integer(static_cast<int64_t>(max_length));
}

// ---------------------------------------------------------------------------------------------
// BITFIELD and BITFIELD_RO
// ---------------------------------------------------------------------------------------------

enum class Overflow { kWrap, kSat, kFail };

struct FieldOp {
  enum Kind { kGet, kSet, kIncrBy } kind;
  bool is_signed;
  int bits;
  uint64_t offset;
  int64_t argument;
  Overflow overflow;
};

uint64_t GetUnsignedField(std::string_view value, uint64_t offset, int bits) {
  uint64_t field = 0;
  for (int i = 0; i < bits; i++) {
    field = (field << 1) | static_cast<uint64_t>(Bit(value, offset + i));
  }
  return field;
}

int64_t GetSignedField(std::string_view value, uint64_t offset, int bits) {
  uint64_t field = GetUnsignedField(value, offset, bits);
  if (bits < 64 && (field & (uint64_t{1} << (bits - 1)))) field |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(field);
}

void SetField(std::string& value, uint64_t offset, int bits, uint64_t field) {
  TK_ASSERT(bits >= 1 && bits <= 64);
  TK_ASSERT(((offset + bits - 1) >> 3) < value.size());
  for (int i = 0; i < bits; i++) {
    SetBitIn(value, offset + i, static_cast<int>((field >> (bits - 1 - i)) & 1));
  }
}

// Redis's checkUnsignedBitfieldOverflow: whether value + increment leaves [0, 2^bits - 1], and
// the value to store instead (wrapped or saturated) in `limit`.
bool UnsignedOverflow(uint64_t value, int64_t increment, int bits, Overflow mode, uint64_t& limit) {
  const uint64_t max = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  const int64_t max_increment = static_cast<int64_t>(max - value);
  const int64_t min_increment = static_cast<int64_t>(0 - value);
  const bool over = value > max || (increment > 0 && increment > max_increment);
  const bool under = !over && increment < 0 && increment < min_increment;
  if (!over && !under) return false;
  if (mode == Overflow::kWrap) {
    limit = (value + static_cast<uint64_t>(increment)) & max;
  } else if (mode == Overflow::kSat) {
    limit = over ? max : 0;
  }
  return true;
}

// Redis's checkSignedBitfieldOverflow, for [-2^(bits-1), 2^(bits-1) - 1].
bool SignedOverflow(int64_t value, int64_t increment, int bits, Overflow mode, int64_t& limit) {
  const int64_t max = bits == 64 ? INT64_MAX : (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  // As in Redis these may wrap; they are used only once `value` is known to be in range.
  const int64_t max_increment =
      static_cast<int64_t>(static_cast<uint64_t>(max) - static_cast<uint64_t>(value));
  const int64_t min_increment =
      static_cast<int64_t>(static_cast<uint64_t>(min) - static_cast<uint64_t>(value));
  const bool over = value > max || (bits != 64 && increment > max_increment) ||
                    (value >= 0 && increment > 0 && increment > max_increment);
  const bool under = !over && (value < min || (bits != 64 && increment < min_increment) ||
                               (value < 0 && increment < 0 && increment < min_increment));
  if (!over && !under) return false;
  if (mode == Overflow::kWrap) {
    uint64_t sum = static_cast<uint64_t>(value) + static_cast<uint64_t>(increment);
    if (bits < 64) {
      const uint64_t mask = ~uint64_t{0} << bits;
      sum = (sum & (uint64_t{1} << (bits - 1))) ? (sum | mask) : (sum & ~mask);
    }
    limit = static_cast<int64_t>(sum);
  } else if (mode == Overflow::kSat) {
    limit = over ? max : min;
  }
  return true;
}

constexpr std::string_view kFieldTypeError =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 "
    "is.";

// "i<bits>" (1..64) or "u<bits>" (1..63), lower case only as in Redis.
bool ParseFieldType(std::string_view text, bool& is_signed, int& bits) {
  if (text.empty() || (text[0] != 'i' && text[0] != 'u')) return false;
  is_signed = text[0] == 'i';
  int64_t parsed = 0;
  if (!ParseInt64(text.substr(1), parsed) || parsed < 1 || parsed > (is_signed ? 64 : 63)) {
    return false;
  }
  bits = static_cast<int>(parsed);
  return true;
}

// The operations of a BITFIELD command, in order; nullopt with the error written.
std::optional<std::vector<FieldOp>> ParseFieldOps(Ctx& ctx) {
  std::vector<FieldOp> ops;
  Overflow overflow = Overflow::kWrap;
  for (size_t j = 2; j < ctx.argc(); j++) {
    const size_t remaining = ctx.argc() - j - 1;
    FieldOp op{};
    if (ctx.Is(j, "get") && remaining >= 2) {
      op.kind = FieldOp::kGet;
    } else if (ctx.Is(j, "set") && remaining >= 3) {
      op.kind = FieldOp::kSet;
    } else if (ctx.Is(j, "incrby") && remaining >= 3) {
      op.kind = FieldOp::kIncrBy;
    } else if (ctx.Is(j, "overflow") && remaining >= 1) {
      j++;
      if (ctx.Is(j, "wrap")) {
        overflow = Overflow::kWrap;
      } else if (ctx.Is(j, "sat")) {
        overflow = Overflow::kSat;
      } else if (ctx.Is(j, "fail")) {
        overflow = Overflow::kFail;
      } else {
        ctx.reply().Error("ERR Invalid OVERFLOW type specified");
        return std::nullopt;
      }
      continue;
    } else {
      ctx.SyntaxError();
      return std::nullopt;
    }
    if (!ParseFieldType(ctx.arg(j + 1), op.is_signed, op.bits)) {
      ctx.reply().Error(kFieldTypeError);
      return std::nullopt;
    }
    auto offset = BitOffset(ctx, j + 2, /*hash=*/true, op.bits);
    if (!offset) return std::nullopt;
    op.offset = *offset;
    if (op.kind != FieldOp::kGet) {
      auto argument = ctx.Int(j + 3);
      if (!argument) return std::nullopt;
      op.argument = *argument;
    }
    op.overflow = overflow;
    ops.push_back(op);
    j += op.kind == FieldOp::kGet ? 2 : 3;
  }
  return ops;
}

// Runs one SET or INCRBY on `value` (already long enough); writes its reply (the old value for
// SET, the new one for INCRBY, nil when OVERFLOW FAIL refused it).
void RunFieldWrite(net::ReplyWriter& reply, const FieldOp& op, std::string& value) {
  bool overflow = false;
  uint64_t stored = 0;
  int64_t answer = 0;
  if (op.is_signed) {
    const int64_t old = GetSignedField(value, op.offset, op.bits);
    int64_t limit = 0;
    if (op.kind == FieldOp::kIncrBy) {
      overflow = SignedOverflow(old, op.argument, op.bits, op.overflow, limit);
      answer = overflow ? limit
                        : static_cast<int64_t>(static_cast<uint64_t>(old) +
                                               static_cast<uint64_t>(op.argument));
      stored = static_cast<uint64_t>(answer);
    } else {
      overflow = SignedOverflow(op.argument, 0, op.bits, op.overflow, limit);
      stored = static_cast<uint64_t>(overflow ? limit : op.argument);
      answer = old;
    }
  } else {
    const uint64_t old = GetUnsignedField(value, op.offset, op.bits);
    uint64_t limit = 0;
    if (op.kind == FieldOp::kIncrBy) {
      overflow = UnsignedOverflow(old, op.argument, op.bits, op.overflow, limit);
      stored = overflow ? limit : old + static_cast<uint64_t>(op.argument);
      answer = static_cast<int64_t>(stored);
    } else {
      overflow =
          UnsignedOverflow(static_cast<uint64_t>(op.argument), 0, op.bits, op.overflow, limit);
      stored = overflow ? limit : static_cast<uint64_t>(op.argument);
      answer = static_cast<int64_t>(old);
    }
  }
  if (overflow && op.overflow == Overflow::kFail) return reply.NullBulk();
  reply.Integer(answer);
  SetField(value, op.offset, op.bits, stored);
}

// BITFIELD and BITFIELD_RO. Every operation runs on one in-memory copy of the value, which is
// written back once at the end (so a failed write answers an error and changes nothing), and only
// when it differs or the key is new: like Redis 7.0, setting a field to its value signals nothing.
void BitFieldGeneric(Ctx& ctx, bool read_only_command) {
  auto ops = ParseFieldOps(ctx);
  if (!ops) return;
  uint64_t highest_bit = 0;
  bool writes = false;
  for (const FieldOp& op : *ops) {
    if (op.kind == FieldOp::kGet) continue;
    writes = true;
    highest_bit = std::max(highest_bit, op.offset + op.bits - 1);
  }
  if (writes && read_only_command) {
    return ctx.reply().Error("ERR BITFIELD_RO only supports the GET subcommand");
  }
  auto meta = LookupString(ctx, 1);
  if (!meta) return ctx.Error(meta.error());
  std::string value = *meta ? std::move((*meta)->value) : "";
  const std::string original = writes ? value : "";
  // The replies go to a side buffer: they are sent only once the write succeeded.
  std::string replies;
  net::ReplyWriter writer(replies, ctx.reply().protocol());
  if (writes && value.size() < (highest_bit >> 3) + 1) value.resize((highest_bit >> 3) + 1, '\0');
  for (const FieldOp& op : *ops) {
    if (op.kind != FieldOp::kGet) {
      RunFieldWrite(writer, op, value);
    } else if (op.is_signed) {
      writer.Integer(GetSignedField(value, op.offset, op.bits));
    } else {
      writer.Integer(static_cast<int64_t>(GetUnsignedField(value, op.offset, op.bits)));
    }
  }
  if (writes && (!*meta || value != original) &&
      !WriteValue(ctx, value, *meta ? (*meta)->expire_ms : 0, "setbit")) {
    return;
  }
  ctx.reply().ArrayHeader(static_cast<int64_t>(ops->size()));
  ctx.reply().out() += replies;
}

void BitField(Ctx& ctx) { BitFieldGeneric(ctx, false); }
void BitFieldRo(Ctx& ctx) { BitFieldGeneric(ctx, true); }

}  // namespace

void RegisterBitCommands(CommandTable& table) {
  constexpr uint64_t kBits = kAclBitmap;
  constexpr uint32_t kWrite = kCmdWrite | kCmdDenyOom;
  constexpr uint32_t kRead = kCmdReadonly;
  constexpr KeySpec kKey{1, 1, 1};
  const CommandRow rows[] = {
      {"setbit", 4, kWrite, kBits, kKey, SetBit, "2.2.0",
       "Sets or clears the bit at offset in the string value stored at key"},
      {"getbit", 3, kRead | kCmdFast, kBits, kKey, GetBit, "2.2.0",
       "Returns the bit value at offset in the string value stored at key"},
      {"bitcount", -2, kRead, kBits, kKey, BitCount, "2.6.0", "Count set bits in a string"},
      {"bitpos", -3, kRead, kBits, kKey, BitPos, "2.8.7",
       "Find first bit set or clear in a string"},
      {"bitop",
       -4,
       kWrite,
       kBits,
       {2, -1, 1},
       BitOp,
       "2.6.0",
       "Perform bitwise operations between strings"},
      {"bitfield", -2, kWrite, kBits, kKey, BitField, "3.2.0",
       "Perform arbitrary bitfield integer operations on strings"},
      {"bitfield_ro", -2, kRead | kCmdFast, kBits, kKey, BitFieldRo, "6.0.0",
       "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD"},
  };
  AddCommands(table, rows, "bitmap");
}

}  // namespace tierkv::server
