// Write-ahead log in persistent memory: the second implementation of tiers::Wal (tiers/wal.h),
// used when the node has a PMem path. Implementation and design notes in pmem_wal.cc; the byte
// layout is in docs/format.md ("PMem WAL").
//
// The log is a ring of records in one mapped file (Env::MapPmem) of options.size bytes: a
// 256-byte header area, then the ring. Records, LSNs and replay are as in the file WAL: LSNs
// 1, 2, 3, ... in Append call order (assigned before Append suspends), Open replays every intact
// record with lsn >= from_lsn in order, and when from_lsn is past the end of the log the next LSN
// becomes from_lsn. Durability per SyncMode (Redis's appendfsync):
//   kAlways   - Append returns once its bytes are persistent; appenders of the same scheduler
//               round share one flush and one drain;
//   kEverySec - Append returns after the store; a background fiber persists once a second;
//   kNo       - persisted only by Sync(), RemoveBefore() and Close().
// Space: the ring is bounded (capacity_bytes()); RemoveBefore frees it. An Append that can never
// fit (framing + payload > capacity_bytes()) returns InvalidArgument; one that does not fit now
// returns Busy at once (the log stays healthy): the engine watches used_bytes() and checkpoints,
// then retries. Append never waits for space, since the checkpoint that frees it waits for
// in-flight appends.
// Errors: a header that is damaged, or a file that is not a PMem WAL, fails Open with Corruption
// naming the file. Persist cannot report errors (core/env.h), so a running log fails only when it
// finds its own records damaged in memory (Corruption); like the file WAL it then refuses every
// later Append until reopened.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/env.h"
#include "tiers/wal.h"

namespace tierkv::tiers {

struct PmemWalOptions {
  std::string path;   // the mapped file (created with `size` bytes if missing)
  uint64_t size = 0;  // file size: a multiple of 64, at least kPmemWalMinBytes
  SyncMode mode = SyncMode::kAlways;
};

// Header area plus the smallest useful ring (a few dozen small records).
inline constexpr uint64_t kPmemWalMinBytes = 256 + 4096;

// Maps options.path, recovers the log (see pmem_wal.cc) and replays records with
// lsn >= from_lsn through `replay` (an error from replay aborts the open). Errors: InvalidArgument
// (bad size), Corruption (damaged header, not a PMem WAL), IoError from MapPmem. Suspends.
Result<std::unique_ptr<Wal>> OpenPmemWal(Env& env, PmemWalOptions options, uint64_t from_lsn,
                                         const Wal::ReplayFn& replay);

}  // namespace tierkv::tiers
