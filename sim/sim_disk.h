// The simulated disk of one node: a file system kept in memory that knows, for every file, what
// has been written and what has been made durable (TigerBeetle's storage.zig, LevelDB's
// fault_injection_test, in one model).
//
// Contents: each file (inode) has `data` (what reads see) and `durable` (what a crash keeps for
// sure), plus the set of sectors written since the last successful sync. Sync copies those
// sectors to `durable`. A crash resolves each unsynced sector independently: kept or dropped,
// so a multi-sector write can survive torn at sector granularity (limits::kSimSectorBytes);
// an unsynced size change (extend, truncate) reverts unless a kept sector needs the length.
// Names: creating, renaming and removing files change the visible namespace at once, but only
// SyncDir of the parent makes them durable; a crash restores the durable namespace. Directories
// themselves are durable as soon as they are created (a simplification: tierkv creates its
// directories once, at start-up).
// Faults: an injected sync failure behaves like Linux after a writeback error ("fsyncgate"): the
// sync reports the error and the unsynced sectors are silently dropped from the dirty set, so a
// later successful sync does NOT make them durable; a crash then loses them. Reads and writes can
// fail with IoError; writes beyond the capacity fail with NoSpace.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/status.h"

namespace tierkv::sim {

struct SimInode {
  std::vector<std::byte> data;
  std::vector<std::byte> durable;
  uint64_t durable_size = 0;
  std::set<uint64_t> dirty_sectors;
};

class SimDisk {
 public:
  explicit SimDisk(uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  Result<std::shared_ptr<SimInode>> Open(const std::string& path, bool create, bool exclusive,
                                         bool truncate);
  Status Rename(const std::string& from, const std::string& to);
  Status Remove(const std::string& path);
  Result<std::vector<std::string>> List(const std::string& dir) const;
  Status CreateDir(const std::string& path);
  void SyncDir(const std::string& dir);
  bool Exists(const std::string& path) const;

  size_t Read(const SimInode& inode, uint64_t offset, std::span<std::byte> buf) const;
  Status Write(SimInode& inode, uint64_t offset, std::span<const std::byte> data);
  void Truncate(SimInode& inode, uint64_t size);
  // Makes the inode's unsynced sectors and size durable.
  void Sync(SimInode& inode);
  // A failed sync (fsyncgate): unsynced sectors stay visible but will never become durable.
  void FailSync(SimInode& inode);

  // Power loss: resolves every unsynced sector and name by the rules above.
  void Crash(Prng& prng);

  uint64_t used_bytes() const;
  uint64_t unsynced_sectors() const;

 private:
  bool DirExists(const std::string& dir) const;

  uint64_t capacity_bytes_;
  std::map<std::string, std::shared_ptr<SimInode>> names_;
  std::map<std::string, std::shared_ptr<SimInode>> durable_names_;
  std::set<std::string> dirs_{".", "/"};
};

}  // namespace tierkv::sim
