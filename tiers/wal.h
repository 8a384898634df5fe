// Write-ahead log of one shard's storage engine. (Interface fixed; implementation in wal.cc.)
//
// Records are opaque payloads numbered by LSN (1, 2, 3, ...). Submit queues a record and returns
// its LSN at once; Await(lsn) returns when every record up to it is as durable as the sync mode
// promises (Redis's appendfsync), and Append does both:
//   kAlways   - after an fdatasync covering it; concurrent appenders share one write and one
//               fdatasync (group commit: one leader flushes everything pending, the others wait);
//   kEverySec - after the write; a background fiber fdatasyncs once a second;
//   kNo       - after the write; never synced explicitly (the OS decides).
// Files: segments `wal-<first lsn, 20 digits>.log` in the directory. A record is
//   u32 payload length | u32 reserved(0) | u64 lsn | u64 xxh64(lsn bytes + payload) | payload
// Recovery reads segments in order and stops at the first record that is torn, has a bad
// checksum or an unexpected lsn; everything after it is ignored. New appends always go to a new
// segment after recovery (never behind bytes that were read back but may not be durable).
// Errors: once a write or sync fails, the WAL is failed: that Append and all later ones return an
// error (durability is unknown after a failed fsync) until the WAL is reopened.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/env.h"

namespace tierkv::tiers {

enum class SyncMode { kAlways, kEverySec, kNo };

struct WalOptions {
  std::string dir;
  SyncMode mode = SyncMode::kAlways;
  uint64_t segment_bytes = 64ULL << 20;  // start a new segment past this size
};

struct WalStats {
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t syncs = 0;     // fdatasync calls
  uint64_t segments = 0;  // live segment files
};

class Wal {
 public:
  using ReplayFn = std::function<Status(uint64_t lsn, std::string_view payload)>;

  // Opens (creating the directory's first segment if none) and replays every intact record with
  // lsn >= from_lsn, in order, through `replay` (an error from replay aborts the open). Logs its
  // progress for large logs. Suspends.
  static Result<std::unique_ptr<Wal>> Open(Env& env, WalOptions options, uint64_t from_lsn,
                                           const ReplayFn& replay);
  virtual ~Wal() = default;

  // Appends one record without waiting: returns its LSN (records get LSNs in call order) once it
  // is queued (file WAL) or stored (PMem ring); Await(lsn) waits until it is durable. Errors:
  // InvalidArgument (too large), Busy (a bounded log is full), the log's failure. Never suspends.
  virtual Result<uint64_t> Submit(std::string_view payload) = 0;
  // Suspends until every record up to `lsn` is durable per the sync mode: synced (kAlways), or
  // written to the file / stored in the ring (kEverySec, kNo: what survives the process dying).
  // Errors: the log's failure, or the caller's cancellation (the record may still become durable).
  virtual Status Await(uint64_t lsn) = 0;
  // Every record up to this LSN is durable per the sync mode (Await returns at once). Never
  // suspends.
  virtual uint64_t done_lsn() const = 0;
  // Ok while healthy; else the first write or sync error, after which nothing is accepted.
  virtual const Status& failure() const = 0;
  // Bytes submitted and not yet handed to the device (the file WAL's pending batch; 0 for the
  // ring, where Submit stores the record itself). The engine bounds them (back-pressure).
  virtual uint64_t pending_bytes() const { return 0; }
  // Submit, then Await: returns the LSN once the record is durable per the sync mode. Suspends.
  Result<uint64_t> Append(std::string_view payload) {
    Result<uint64_t> lsn = Submit(payload);
    if (!lsn) return lsn;
    Status done = Await(*lsn);
    if (!done.ok()) return Err(done);
    return lsn;
  }
  // Makes every record appended so far durable. Suspends.
  virtual Status Sync() = 0;
  // Removes segments all of whose records have lsn < `lsn` (they are covered by a checkpoint).
  // Suspends.
  virtual Status RemoveBefore(uint64_t lsn) = 0;
  // The LSN the next Append will get.
  virtual uint64_t next_lsn() const = 0;
  virtual WalStats stats() const = 0;
  // For the engine's back-pressure on a bounded log (the PMem ring, tiers/pmem_wal.h): the bytes
  // records may occupy (0: unbounded), and the bytes live records occupy now, framing included
  // (appended and not yet removed by RemoveBefore). Never suspend.
  virtual uint64_t capacity_bytes() const { return 0; }  // 0: unbounded
  virtual uint64_t used_bytes() const { return 0; }
  // Stops the background sync fiber (after a final sync in kEverySec). Suspends.
  virtual Status Close() = 0;
};

}  // namespace tierkv::tiers
