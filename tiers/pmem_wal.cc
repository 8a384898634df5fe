// Write-ahead log in persistent memory: a ring of checksummed records in one mapped file, made
// durable with a cache-line flush and a fence instead of an fdatasync.
//
// Why. With PMem, making a record durable costs a flush of its cache lines and one drain (a few
// hundred nanoseconds) instead of an SSD fdatasync (tens of microseconds to milliseconds), so
// `appendfsync always` costs little more than `everysec`. A PMem device is small and dear, so the
// log is a bounded ring that checkpoints empty (RemoveBefore), not a growing list of segments.
//
// Layout (docs/format.md, "PMem WAL"). Bytes [0, 256) of the file are the header area: two
// 64-byte header slots at 0 and 64 (one cache line each), the rest zero. A slot holds
//   u64 magic | u32 version | u32 epoch | u64 generation | u64 file size |
//   u64 start lsn | u64 start offset | u64 epoch first lsn | u64 xxh64(the 56 bytes before)
// where start is the oldest live record (its lsn and its offset in the ring), and epoch counts
// the opens of the log: the current run writes its records with this epoch, from lsn "epoch
// first lsn" on. The ring is bytes [256, size); offsets are relative to it and wrap at its end.
// A record is
//   u32 payload length | u32 epoch | u64 lsn | u64 xxh64(the 16 bytes before + payload) | payload
// padded with unwritten bytes to a multiple of 8. A record may wrap: its bytes continue at ring
// offset 0 (so a record of up to the full capacity always fits into an empty ring, and nothing is
// wasted on padding at the end of a lap).
//
// Why an epoch. A ring is full of stale records: earlier laps, which the lsn check rejects, and
// the unacknowledged tail of a run that a crash cut short, which the next run overwrites with
// different records under the same lsns. Such a stale record can come back whole: a crash tore
// it (say its length word stayed old), recovery stopped before it, the next run wrote its own
// record at the same place with the same length and lsn, and a second crash kept the new
// record's first cache line and lost its second, which still held the rest of the stale record:
// intact again, behind records the second run replayed. The property test found exactly this
// against an earlier design, a hash chain (each record carrying the checksum of the one before),
// which the stale record satisfies since both runs share its predecessor. So every open persists
// a header with a new epoch and the lsn it will append from; recovery accepts a record at or
// after that lsn only if it carries that epoch, and the checksum covers the epoch, so only the
// last run's own records pass there. Records before that lsn were read back and persisted by the
// open that wrote the header: every later recovery reads them the same. Rejected: zeroing the
// free ring at every open (the same guarantee, at the cost of writing the whole ring per open).
//
// Header updates (every Open, and RemoveBefore) go to the slot not in use, in three persisted
// steps: clear its magic, write the other 56 bytes, write the magic. A slot carrying the magic is
// thus always complete, the slot in use is never touched, and Open takes the valid slot of
// highest generation. A slot with the magic and a bad checksum cannot come from a crash, only
// from damage, and fails Open with Corruption (its generation, and so the start of the log, is
// unknown). Space is reused only after the header that frees it is persistent, so a crash never
// leaves a header pointing at overwritten records.
//
// Appending. Submit stores the record straight into the mapping (no suspension between taking the
// lsn and storing it). kAlways: the first Await of a scheduler round becomes the leader: it
// yields once, so that the fibers ready in this round append too, then flushes every byte
// appended since the last persist (one contiguous ring range: at most two Flush calls) and drains
// once; the others wait. Persist never suspends, so, unlike the file WAL's writer, the leader
// cannot be left half-done by a cancellation, and a cancelled waiter's record still becomes
// durable with the leader's drain. kEverySec: a background fiber persists at most once a second
// while something is unpersisted. kNo: Sync(), RemoveBefore() and Close() persist. On a non-DAX
// file Persist is an msync that blocks the thread (core/env.h): accepted, that is not a PMem
// deployment.
//
// Recovery. Read the header; a file with no header slot and a ring of zeroes is new and is
// formatted, one with no header and anything else is refused (not a PMem WAL: never overwrite an
// unknown file). Scan from the start: a record is intact when it fits the bytes left of the
// capacity, its lsn is the one expected, its epoch is right (above) and its checksum holds; the
// first one that is not ends the log (usually a stale record of an earlier lap, or a torn one:
// unpersisted cache lines may be old, new or torn at 8-byte words). Replay records with
// lsn >= from_lsn. Then persist the whole recovered range before anything is appended: the bytes
// were read through the mapping and may be CPU-cache or page-cache contents of a process that
// died before flushing them, and a record appended and persisted behind them must not survive a
// power loss that they do not (the fsyncgate hole of wal.cc). If from_lsn is past the end of the
// log, every record is covered by the caller's checkpoint and the log restarts empty at from_lsn.
// Last, the header of the new epoch is persisted.
//
// Rejected: a pad record to keep records contiguous (it wastes up to a record at the end of each
// lap, and a record that fits the capacity might then never fit); an index of record offsets in
// DRAM (RemoveBefore walks the record headers instead: a few loads per removed record, and no
// memory proportional to the log).
#include "tiers/pmem_wal.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "core/assert.h"
#include "core/limits.h"
#include "core/sync.h"
#include "core/xxh64_pieces.h"

namespace tierkv::tiers {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the PMem WAL format is little-endian and written with memcpy");

constexpr uint64_t kHeaderAreaBytes = 256;
constexpr uint64_t kSlotBytes = limits::kPmemCacheLineBytes;
constexpr uint64_t kMagic = 0x314C415750564B54;  // "TKVPWAL1" in little-endian bytes
constexpr uint32_t kVersion = 1;
constexpr uint64_t kRecordHeaderBytes = 24;
constexpr uint64_t kRecordAlignBytes = 8;  // the word a crash may tear at; keeps headers aligned

struct HeaderSlot {
  uint64_t magic;
  uint32_t version;
  uint32_t epoch;
  uint64_t generation;
  uint64_t region_bytes;
  uint64_t start_lsn;
  uint64_t start_offset;
  uint64_t epoch_first_lsn;
  uint64_t checksum;
};
static_assert(sizeof(HeaderSlot) == kSlotBytes && 2 * kSlotBytes <= kHeaderAreaBytes);

struct RecordHeader {
  uint32_t length;
  uint32_t epoch;
  uint64_t lsn;
  uint64_t checksum;
};
static_assert(sizeof(RecordHeader) == kRecordHeaderBytes);
static_assert(kHeaderAreaBytes % limits::kPmemCacheLineBytes == 0);

// What a header slot says, apart from its framing.
struct LogHeader {
  uint64_t generation = 0;       // which slot (generation % 2), and which of the two is newer
  uint32_t epoch = 0;            // opens of the log; the current run's records carry it
  uint64_t epoch_first_lsn = 1;  // the first lsn the current run appends
  uint64_t start_lsn = 1;        // the oldest live record, or the next one when the log is empty
  uint64_t start_offset = 0;     // its ring offset
};

uint64_t FramedBytes(uint64_t payload_bytes) {
  return kRecordHeaderBytes +
         (payload_bytes + kRecordAlignBytes - 1) / kRecordAlignBytes * kRecordAlignBytes;
}

uint64_t SlotChecksum(const HeaderSlot& slot) {
  return XXH64(&slot, offsetof(HeaderSlot, checksum), 0);
}

// XXH64 over the record header's first 16 bytes and the payload, given as up to two pieces.
uint64_t RecordChecksum(const RecordHeader& header, std::span<const std::byte> first,
                        std::span<const std::byte> second = {}) {
  return Xxh64Pieces(
      {std::as_bytes(std::span(&header, 1)).first(offsetof(RecordHeader, checksum)), first, second});
}

// The record area of a region, addressed by ring offsets in [0, capacity); every access wraps.
class Ring {
 public:
  explicit Ring(PmemRegion& region) : region_(region), capacity_(region.size() - kHeaderAreaBytes) {
    TK_ASSERT(region.size() > kHeaderAreaBytes && capacity_ % kRecordAlignBytes == 0);
  }

  uint64_t capacity() const { return capacity_; }
  uint64_t Advance(uint64_t offset, uint64_t bytes) const {
    TK_ASSERT(offset < capacity_ && bytes <= capacity_);
    return bytes >= capacity_ - offset ? offset + bytes - capacity_ : offset + bytes;
  }
  // The one or two contiguous pieces of the `bytes` bytes at `offset`.
  std::pair<std::span<std::byte>, std::span<std::byte>> Pieces(uint64_t offset,
                                                               uint64_t bytes) const {
    TK_ASSERT(offset < capacity_ && bytes <= capacity_);
    std::byte* base = region_.data() + kHeaderAreaBytes;
    uint64_t first = std::min(bytes, capacity_ - offset);
    return {std::span(base + offset, first), std::span(base, bytes - first)};
  }
  void Load(uint64_t offset, void* out, uint64_t bytes) const {
    auto [a, b] = Pieces(offset, bytes);
    std::memcpy(out, a.data(), a.size());
    std::memcpy(static_cast<std::byte*>(out) + a.size(), b.data(), b.size());
  }
  void Store(uint64_t offset, const void* data, uint64_t bytes) {
    auto [a, b] = Pieces(offset, bytes);
    std::memcpy(a.data(), data, a.size());
    std::memcpy(b.data(), static_cast<const std::byte*>(data) + a.size(), b.size());
  }
  // Starts flushing the range; persistent after region.Drain().
  void Flush(uint64_t offset, uint64_t bytes) {
    auto [a, b] = Pieces(offset, bytes);
    if (!a.empty()) region_.Flush(kHeaderAreaBytes + offset, a.size());
    if (!b.empty()) region_.Flush(kHeaderAreaBytes, b.size());
  }

 private:
  PmemRegion& region_;
  const uint64_t capacity_;
};

// Writes the header's slot in three persisted steps (see the design comment).
void WriteHeader(PmemRegion& region, const LogHeader& log) {
  uint64_t offset = (log.generation % 2) * kSlotBytes;
  std::byte* slot = region.data() + offset;
  const uint64_t zero = 0;
  std::memcpy(slot, &zero, sizeof(zero));
  region.Persist(offset, sizeof(zero));
  HeaderSlot header{kMagic,
                    kVersion,
                    log.epoch,
                    log.generation,
                    region.size(),
                    log.start_lsn,
                    log.start_offset,
                    log.epoch_first_lsn,
                    0};
  header.checksum = SlotChecksum(header);
  constexpr size_t kBody = sizeof(HeaderSlot) - sizeof(uint64_t);
  std::memcpy(slot + sizeof(uint64_t), reinterpret_cast<const std::byte*>(&header) + 8, kBody);
  region.Persist(offset, kSlotBytes);
  std::memcpy(slot, &header.magic, sizeof(header.magic));
  region.Persist(offset, sizeof(header.magic));
}

// The header slot to use: the valid one of highest generation; nullopt when neither carries the
// magic (a new file, or a first format that a crash interrupted). Corruption for a damaged slot.
Result<std::optional<LogHeader>> ReadHeader(PmemRegion& region, const std::string& path) {
  std::optional<LogHeader> best;
  for (uint64_t index = 0; index < 2; index++) {
    HeaderSlot slot;
    std::memcpy(&slot, region.data() + index * kSlotBytes, sizeof(slot));
    if (slot.magic != kMagic) continue;
    uint64_t capacity = region.size() - kHeaderAreaBytes;
    const char* problem = nullptr;
    if (slot.checksum != SlotChecksum(slot)) {
      problem = "bad checksum";
    } else if (slot.version != kVersion) {
      return Err(StatusCode::kNotSupported,
                 fmt::format("pmem wal {}: header slot {} has format version {}, this build reads "
                             "version {}",
                             path, index, slot.version, kVersion));
    } else if (slot.region_bytes != region.size() || slot.start_lsn == 0 ||
               slot.start_offset >= capacity || slot.start_offset % kRecordAlignBytes != 0 ||
               slot.generation % 2 != index) {
      problem = "fields out of range";
    }
    if (problem != nullptr) {
      return Err(StatusCode::kCorruption,
                 fmt::format("pmem wal {}: header slot {} is damaged ({}); the start of the log "
                             "is unknown",
                             path, index, problem));
    }
    if (!best || slot.generation > best->generation) {
      best = LogHeader{slot.generation, slot.epoch, slot.epoch_first_lsn, slot.start_lsn,
                       slot.start_offset};
    }
  }
  return best;
}

bool AllZero(std::span<const std::byte> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

// What recovery hands to the running log.
struct RecoveredRing {
  LogHeader header;   // persisted: the new epoch, starting at next_lsn
  uint64_t used = 0;  // bytes of the intact records from the start
  uint64_t next_lsn = 1;
};

// Reads the header (formatting a new file), scans and replays the ring, persists what it read,
// applies a from_lsn past the end and persists the header of a new epoch. Never suspends itself
// (`replay` may).
class Recovery {
 public:
  Recovery(Env& env, PmemRegion& region, const PmemWalOptions& options, uint64_t from_lsn,
           const Wal::ReplayFn& replay)
      : log_(env.CurrentExecutor().log()),
        region_(region),
        ring_(region),
        options_(options),
        from_lsn_(from_lsn),
        replay_(replay) {}

  Result<RecoveredRing> Run() {
    auto read = ReadHeader(region_, options_.path);
    if (!read) return Err(read.error());
    if (*read) {
      in_ = **read;
    } else {
      auto [a, b] = ring_.Pieces(0, ring_.capacity());
      if (!AllZero(a) || !AllZero(b)) {
        return Err(StatusCode::kCorruption,
                   fmt::format("pmem wal {}: no header, and the file is not empty: not a PMem "
                               "WAL (refusing to overwrite it)",
                               options_.path));
      }
      log_.Info("pmem wal {}: new log of {} bytes", options_.path, ring_.capacity());
      in_ = LogHeader{.generation = 2};
      WriteHeader(region_, in_);
    }
    if (in_.epoch == UINT32_MAX) {
      return Err(StatusCode::kNotSupported,
                 fmt::format("pmem wal {}: opened {} times, its epoch counter is exhausted; "
                             "replay it and create a new file",
                             options_.path, in_.epoch));
    }
    uint64_t start_lsn = in_.start_lsn, start_offset = in_.start_offset;
    out_.next_lsn = start_lsn;
    TK_RETURN_IF_ERROR_R(Scan());
    // What was read back becomes persistent before anything is appended behind it.
    ring_.Flush(start_offset, out_.used);
    region_.Drain();
    if (from_lsn_ > out_.next_lsn) {
      log_.Info("pmem wal {}: from lsn {} is past the end of the log (lsn {}): starting empty",
                options_.path, from_lsn_, out_.next_lsn);
      start_lsn = from_lsn_;
      start_offset = ring_.Advance(start_offset, out_.used);
      out_.used = 0;
      out_.next_lsn = from_lsn_;
    }
    out_.header =
        LogHeader{in_.generation + 1, in_.epoch + 1, out_.next_lsn, start_lsn, start_offset};
    WriteHeader(region_, out_.header);
    log_.Info(
        "pmem wal {}: {} intact records ({} of {} bytes) from lsn {}, replayed {} from lsn {}; "
        "appending at lsn {} in epoch {}",
        options_.path, intact_, out_.used, ring_.capacity(), start_lsn, replayed_, from_lsn_,
        out_.next_lsn, out_.header.epoch);
    return out_;
  }

 private:
  // Walks the records from the start until one is not intact; replays those >= from_lsn.
  Status Scan() {
    uint64_t offset = in_.start_offset;
    std::string scratch;  // a wrapped payload, copied to be contiguous
    const char* stop = "ring full";
    while (ring_.capacity() - out_.used >= kRecordHeaderBytes) {
      RecordHeader header;
      ring_.Load(offset, &header, sizeof(header));
      uint64_t framed = FramedBytes(header.length);
      if (header.length > limits::kWalMaxPayloadBytes || framed > ring_.capacity() - out_.used) {
        stop = "bad record header";
        break;
      }
      if (header.lsn != out_.next_lsn) {
        stop = "unexpected lsn";
        break;
      }
      // From the last run's first lsn on, only its own records; before, only older runs'.
      if (header.lsn >= in_.epoch_first_lsn ? header.epoch != in_.epoch
                                            : header.epoch >= in_.epoch) {
        stop = "record of another run";
        break;
      }
      auto [a, b] = ring_.Pieces(ring_.Advance(offset, kRecordHeaderBytes), header.length);
      if (RecordChecksum(header, a, b) != header.checksum) {
        stop = "bad checksum";
        break;
      }
      TK_RETURN_IF_ERROR(OnRecord(header.lsn, a, b, scratch));
      offset = ring_.Advance(offset, framed);
      out_.used += framed;
      out_.next_lsn++;
    }
    log_.Info("pmem wal {}: log ends at ring offset {} before lsn {}: {}", options_.path, offset,
              out_.next_lsn, stop);
    return Status::Ok();
  }

  Status OnRecord(uint64_t lsn, std::span<const std::byte> a, std::span<const std::byte> b,
                  std::string& scratch) {
    intact_++;
    if (out_.used >= next_progress_bytes_) {
      next_progress_bytes_ += limits::kWalRecoveryProgressBytes;
      log_.Info("pmem wal {}: recovery read {} MiB, at lsn {}", options_.path, out_.used >> 20,
                lsn);
    }
    if (lsn < from_lsn_) return Status::Ok();
    std::string_view payload(reinterpret_cast<const char*>(a.data()), a.size());
    if (!b.empty()) {
      scratch.assign(payload);
      scratch.append(reinterpret_cast<const char*>(b.data()), b.size());
      payload = scratch;
    }
    replayed_++;
    return replay_(lsn, payload);
  }

  const Log log_;
  PmemRegion& region_;
  Ring ring_;
  const PmemWalOptions& options_;
  const uint64_t from_lsn_;
  const Wal::ReplayFn& replay_;
  LogHeader in_;  // the header found
  RecoveredRing out_;
  uint64_t intact_ = 0;
  uint64_t replayed_ = 0;
  uint64_t next_progress_bytes_ = limits::kWalRecoveryProgressBytes;
};

// The log's state, shared by the handle its owner holds and the kEverySec persister fiber, so
// that a handle dropped without Close() lets the fiber exit instead of running on freed memory.
class PmemWalCore {
 public:
  PmemWalCore(Env& env, PmemWalOptions options, std::unique_ptr<PmemRegion> region,
              const RecoveredRing& recovered)
      : env_(env),
        executor_(env.CurrentExecutor()),
        options_(std::move(options)),
        region_(std::move(region)),
        ring_(*region_),
        capacity_(ring_.capacity()),
        header_(recovered.header),
        used_(recovered.used),
        end_(ring_.Advance(header_.start_offset, used_)),
        next_lsn_(recovered.next_lsn),
        durable_lsn_(next_lsn_ - 1),
        last_periodic_persist_(executor_.Now()),
        persister_wake_(executor_),
        progress_(executor_) {
    TK_ASSERT(used_ <= capacity_ && header_.start_lsn <= next_lsn_ &&
              header_.epoch_first_lsn == next_lsn_);
    stats_.segments = 1;
  }

  void Start(const std::shared_ptr<PmemWalCore>& self) {
    TK_ASSERT(self.get() == this);
    if (options_.mode != SyncMode::kEverySec) return;
    // As in wal.cc: a fiber that never ran may be entered during teardown; nothing to do then.
    persister_ = executor_.Spawn("pmem-wal-persister", [self] {
      if (!self->executor_.shutting_down()) self->PersisterLoop();
    });
  }

  Result<uint64_t> Submit(std::string_view payload) {
    AssertOwner();
    uint64_t framed = FramedBytes(payload.size());
    if (payload.size() > limits::kWalMaxPayloadBytes || framed > capacity_) {
      return Err(StatusCode::kInvalidArgument,
                 fmt::format("pmem wal {}: a record of {} bytes ({} framed) can never fit its "
                             "ring of {} bytes",
                             options_.path, payload.size(), framed, capacity_));
    }
    if (!failed_.ok()) return Err(failed_);
    if (closing_) return Err(StatusCode::kClosed, "pmem wal " + options_.path + " is closed");
    if (framed > capacity_ - used_) {
      return Err(StatusCode::kBusy,
                 fmt::format("pmem wal {} is full: {} of {} bytes used, the record needs {}; "
                             "a checkpoint and RemoveBefore free space",
                             options_.path, used_, capacity_, framed));
    }
    uint64_t lsn = Store(payload, framed);
    if (options_.mode == SyncMode::kEverySec && dirty_bytes_ == framed) {
      persister_wake_.NotifyOne();
    }
    return lsn;
  }

  Status Await(uint64_t lsn) {
    AssertOwner();
    TK_ASSERT(lsn < next_lsn_);
    if (done_lsn() >= lsn) return Status::Ok();
    if (!failed_.ok()) return failed_;
    if (!leader_waiting_) {
      // The fibers ready in this round append during the yield; one flush and drain covers all.
      leader_waiting_ = true;
      executor_.Yield();
      leader_waiting_ = false;
      if (durable_lsn_ < lsn) PersistPending();  // Close() or Sync() may have done it meanwhile
      return Status::Ok();
    }
    return WaitDurable(lsn);
  }

  // kEverySec and kNo: a stored record survives the process dying (the mapping is shared).
  uint64_t done_lsn() const {
    return options_.mode == SyncMode::kAlways ? durable_lsn_ : next_lsn_ - 1;
  }
  const Status& failure() const { return failed_; }

  Status Sync() {
    AssertOwner();
    if (!failed_.ok()) return failed_;
    if (region_) PersistPending();
    return Status::Ok();
  }

  Status RemoveBefore(uint64_t lsn) {
    AssertOwner();
    if (!failed_.ok()) return failed_;
    if (!region_) return Status(StatusCode::kClosed, "pmem wal " + options_.path + " is closed");
    uint64_t target = std::min(lsn, next_lsn_);
    if (target <= header_.start_lsn) return Status::Ok();
    PersistPending();  // the new start must be persistent before the header points at it
    LogHeader moved = header_;
    uint64_t freed = 0;
    while (moved.start_lsn < target) {
      RecordHeader header;
      ring_.Load(moved.start_offset, &header, sizeof(header));
      uint64_t framed = FramedBytes(header.length);
      if (header.lsn != moved.start_lsn || framed > used_ - freed) {
        return Fail(Status(StatusCode::kCorruption,
                           fmt::format("record at ring offset {} (expected lsn {}) was damaged in "
                                       "memory",
                                       moved.start_offset, moved.start_lsn)));
      }
      moved.start_lsn++;
      moved.start_offset = ring_.Advance(moved.start_offset, framed);
      freed += framed;
    }
    moved.generation++;
    WriteHeader(*region_, moved);
    header_ = moved;
    used_ -= freed;  // reusable only now that the header no longer points into it
    return Status::Ok();
  }

  Status Close() {
    AssertOwner();
    Shutdown();
    if (persister_.valid()) TK_RETURN_IF_ERROR(persister_.Join());
    if (region_) {
      PersistPending();
      region_.reset();
    }
    return failed_;
  }

  // The handle is going away (possibly during teardown): let the persister exit. Never suspends.
  void Shutdown() {
    closing_ = true;
    persister_wake_.NotifyOne();
  }

  uint64_t next_lsn() const { return next_lsn_; }
  WalStats stats() const { return stats_; }
  uint64_t capacity_bytes() const { return capacity_; }
  uint64_t used_bytes() const { return used_; }

 private:
  void AssertOwner() {
    TK_ASSERT_MSG(&env_.CurrentExecutor() == &executor_,
                  "a Wal is used only from fibers of the executor that opened it");
  }

  // Encodes the record at the end of the ring; returns its lsn. Never suspends.
  uint64_t Store(std::string_view payload, uint64_t framed) {
    TK_ASSERT(framed <= capacity_ - used_);
    auto bytes = std::as_bytes(std::span(payload.data(), payload.size()));
    RecordHeader header{static_cast<uint32_t>(payload.size()), header_.epoch, next_lsn_, 0};
    header.checksum = RecordChecksum(header, bytes);
    ring_.Store(end_, &header, sizeof(header));
    ring_.Store(ring_.Advance(end_, kRecordHeaderBytes), payload.data(), payload.size());
    end_ = ring_.Advance(end_, framed);
    used_ += framed;
    dirty_bytes_ += framed;
    stats_.records++;
    stats_.bytes += framed;
    return next_lsn_++;
  }

  // Flushes everything stored since the last persist and drains once. Never suspends.
  void PersistPending() {
    TK_ASSERT(region_ != nullptr);
    if (dirty_bytes_ == 0) return;
    TK_ASSERT(dirty_bytes_ <= used_);
    uint64_t from = ring_.Advance(end_, capacity_ - dirty_bytes_);  // end_ - dirty, wrapped
    ring_.Flush(from, dirty_bytes_);
    region_->Drain();
    dirty_bytes_ = 0;
    durable_lsn_ = next_lsn_ - 1;
    stats_.syncs++;
    progress_.NotifyAll();
  }

  // Suspends until `lsn` is persistent, the log fails, or the caller is cancelled (the record
  // still becomes persistent with the leader's drain).
  Status WaitDurable(uint64_t lsn) {
    while (durable_lsn_ < lsn) {
      if (!failed_.ok()) return failed_;
      WakeReason reason = progress_.Wait();
      if (reason != WakeReason::kWoken) {
        return WakeStatus(reason, fmt::format("pmem wal wait for lsn {} (it will still become "
                                              "durable)",
                                              lsn));
      }
    }
    return Status::Ok();
  }

  // kEverySec: persists at most once a second while something stored is not persistent.
  void PersisterLoop() {
    while (failed_.ok() && !closing_) {
      if (dirty_bytes_ == 0) {
        (void)persister_wake_.Wait(kNoDeadline, /*interruptible=*/false);
        continue;
      }
      TimePoint due = last_periodic_persist_ + limits::kWalEverySecInterval;
      if (executor_.Now() < due) {
        (void)persister_wake_.Wait(due, /*interruptible=*/false);
        continue;
      }
      last_periodic_persist_ = executor_.Now();
      PersistPending();
    }
  }

  Status Fail(const Status& cause) {
    if (failed_.ok()) {
      failed_ = Status(cause.code(), "pmem wal " + options_.path + " failed: " + cause.message());
      executor_.log().Error("{}; no record is accepted until the log is reopened",
                            failed_.message());
    }
    progress_.NotifyAll();
    persister_wake_.NotifyOne();
    return failed_;
  }

  Env& env_;
  Executor& executor_;
  const PmemWalOptions options_;
  std::unique_ptr<PmemRegion> region_;  // null after Close()
  Ring ring_;
  const uint64_t capacity_;
  LogHeader header_;  // as persisted: the start of the log and this run's epoch
  uint64_t used_;     // ring bytes of live records, from header_.start_offset
  uint64_t end_;      // ring offset of the next record
  uint64_t next_lsn_;
  uint64_t durable_lsn_;         // every record up to this one is persistent
  uint64_t dirty_bytes_ = 0;     // bytes stored before end_ and not yet persisted
  bool leader_waiting_ = false;  // a kAlways appender yields and will persist for the round
  Status failed_;
  bool closing_ = false;
  TimePoint last_periodic_persist_;
  WalStats stats_;
  WaitQueue persister_wake_;
  WaitQueue progress_;  // kAlways appenders wait here for durable_lsn_
  FiberHandle persister_;
};

class PmemWalHandle final : public Wal {
 public:
  explicit PmemWalHandle(std::shared_ptr<PmemWalCore> core) : core_(std::move(core)) {}
  ~PmemWalHandle() override { core_->Shutdown(); }

  Result<uint64_t> Submit(std::string_view payload) override { return core_->Submit(payload); }
  Status Await(uint64_t lsn) override { return core_->Await(lsn); }
  uint64_t done_lsn() const override { return core_->done_lsn(); }
  const Status& failure() const override { return core_->failure(); }
  Status Sync() override { return core_->Sync(); }
  Status RemoveBefore(uint64_t lsn) override { return core_->RemoveBefore(lsn); }
  uint64_t next_lsn() const override { return core_->next_lsn(); }
  WalStats stats() const override { return core_->stats(); }
  uint64_t capacity_bytes() const override { return core_->capacity_bytes(); }
  uint64_t used_bytes() const override { return core_->used_bytes(); }
  Status Close() override { return core_->Close(); }

 private:
  std::shared_ptr<PmemWalCore> core_;
};

}  // namespace

Result<std::unique_ptr<Wal>> OpenPmemWal(Env& env, PmemWalOptions options, uint64_t from_lsn,
                                         const Wal::ReplayFn& replay) {
  TK_ASSERT(!options.path.empty());
  if (options.size % limits::kPmemCacheLineBytes != 0 || options.size < kPmemWalMinBytes) {
    return Err(
        StatusCode::kInvalidArgument,
        fmt::format("pmem wal {}: size {} must be a multiple of {} and at least {}", options.path,
                    options.size, limits::kPmemCacheLineBytes, kPmemWalMinBytes));
  }
  from_lsn = std::max<uint64_t>(from_lsn, 1);  // lsns start at 1; 0 also means "everything"
  auto region = env.MapPmem(options.path, options.size);
  if (!region) return Err(region.error());
  auto recovered = Recovery(env, **region, options, from_lsn, replay).Run();
  if (!recovered) return Err(recovered.error());
  auto core =
      std::make_shared<PmemWalCore>(env, std::move(options), std::move(*region), *recovered);
  core->Start(core);
  return std::make_unique<PmemWalHandle>(std::move(core));
}

}  // namespace tierkv::tiers
