// Internals of the write-ahead log shared by wal.cc (the running log) and wal_recovery.cc (Open's
// scan and repair of the directory). Not part of the WAL's interface: include tiers/wal.h.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/env.h"
#include "tiers/wal.h"

namespace tierkv::tiers::wal_internal {

// Record header: u32 payload length | u32 reserved (0) | u64 lsn | u64 xxh64(lsn bytes + payload).
inline constexpr size_t kRecordHeaderBytes = 24;

// XXH64 over the lsn's 8 little-endian bytes followed by the payload.
uint64_t RecordChecksum(uint64_t lsn, std::string_view payload);
// Appends the encoded record to `out`.
void EncodeRecord(std::string& out, uint64_t lsn, std::string_view payload);

// "wal-<first lsn, 20 digits>.log", and its inverse (nullopt for any other name).
std::string SegmentName(uint64_t first_lsn);
std::optional<uint64_t> ParseSegmentName(std::string_view name);

struct Segment {
  uint64_t first_lsn = 0;
  std::string path;
};

// What recovery leaves behind: every intact segment (oldest first) and a fresh, empty, durably
// named active segment at the back, which new records go to.
struct RecoveredLog {
  std::deque<Segment> segments;
  std::unique_ptr<File> active;
  uint64_t next_lsn = 1;
  uint64_t syncs = 0;  // DataSync calls recovery made
};

// Reads every segment of options.dir in order, replays intact records with lsn >= from_lsn,
// repairs the directory (see wal.cc's design comment) and opens the new active segment.
// Suspends.
Result<RecoveredLog> Recover(Env& env, const WalOptions& options, uint64_t from_lsn,
                             const Wal::ReplayFn& replay);

}  // namespace tierkv::tiers::wal_internal
