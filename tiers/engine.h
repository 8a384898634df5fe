// One shard's ordered key-value engine: WAL + memtable + copy-on-write B+tree checkpoints.
//
// Write: encode the batch, submit it to the WAL and apply it to the active memtable with
// consecutive sequence numbers, without suspending in between; then (Write) wait until the record
// is durable per the sync mode (group commit), or leave that wait to the caller (WriteUnsynced:
// a server waits once for a whole pipeline, before its replies). A write is visible at once,
// before it is durable, as in Redis, whose replies wait for the AOF: whoever answers a reader
// must first AwaitDurable(unsynced_lsn()). A snapshot (`visible_seq`) never changes.
// Read: the newest version visible at the snapshot in the active memtable, then the frozen one
// (while a checkpoint runs), then the tree of the last checkpoint, through the node cache.
// Checkpoint (background fiber, or when the memtable passes its budget): briefly block writers
// until in-flight WAL appends are applied, freeze the memtable and note the WAL position; merge
// the frozen memtable into the tree in new pages; sync; write the other superblock; sync; publish
// the new tree; remove WAL segments the checkpoint covers; pages of the old tree are freed once
// no snapshot references it.
// Recovery: the valid superblock with the highest generation, the allocation map it saved (or,
// when that is missing or damaged, one rebuilt by walking its tree), then WAL replay from its LSN
// into the memtable.
// Everything runs on the executor that opened the engine (a shard is single-threaded).
#pragma once

#include <boost/container/small_vector.hpp>

#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/sync.h"
#include "tiers/btree.h"
#include "tiers/memtable.h"
#include "tiers/node_cache.h"
#include "tiers/page_file.h"
#include "tiers/row_cache.h"
#include "tiers/wal.h"

namespace tierkv::tiers {

struct EngineOptions {
  std::string dir;
  SyncMode sync = SyncMode::kAlways;
  uint64_t cache_bytes = 64ULL << 20;     // DRAM node cache and row cache (a quarter)
  // Second cache tier in persistent memory (Redis-style config pmem-path / pmem-size); none when
  // the path is empty.
  std::string pmem_path;
  uint64_t pmem_bytes = 0;
  // With pmem_path: the WAL is a ring of this many bytes in `<pmem_path>.wal` (tiers/pmem_wal.h)
  // instead of segment files on the SSD; 0 keeps it on the SSD. Change it only after a clean
  // shutdown (which leaves the WAL empty): the other kind's records are not replayed.
  uint64_t pmem_wal_bytes = 0;
  uint64_t memtable_bytes = 32ULL << 20;  // checkpoint when the active memtable passes this
  // The engine's share of `maxmemory`. When set it replaces cache_bytes and memtable_bytes:
  // memtables get a quarter (memtable_bytes = memory_bytes / 16: the active one may reach twice
  // that before writers wait, and the one a checkpoint is merging as much), the node cache half
  // minus the allocation bitmap (1 bit per page), and the last quarter is headroom for the WAL's
  // buffers, free lists, a checkpoint's pending writes and allocator slack.
  uint64_t memory_bytes = 0;
  // Cold tier (Redis-style config cold-dir / cold-after): leaves not read for `cold_after` move,
  // zstd-compressed, to a file in `cold_dir`; off when the directory is empty or cold_after zero.
  std::string cold_dir;
  Duration cold_after = seconds(0);
  // Leaves moved by one checkpoint at most (bounds its length; the rest go at later passes).
  uint64_t cold_moves_per_pass = 16384;
  Duration checkpoint_interval = seconds(60);  // checkpoint at least this often if anything changed
  bool background_checkpoints = true;
};

// Writes applied atomically. The batch is its WAL record's payload (LevelDB's WriteBatch):
// u64 first sequence number | u32 count | per op: u8 kind (1 put, 0 delete) | u32 key length |
// u32 value length | key | value, integers in host order. The engine stamps the sequence number
// when it writes the batch, and recovery reads records with Decode: building and logging a batch
// is one growing string (a vector of ops with a string per key and value was six allocations
// for a one-key write, and the WAL payload was encoded from it again).
class WriteBatch {
 public:
  WriteBatch();
  void Put(std::string_view key, std::string_view value);
  // Put of the value value_head + value_tail (a record's header and body, without joining them).
  void Put(std::string_view key, std::string_view value_head, std::string_view value_tail);
  void Delete(std::string_view key);
  size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  uint64_t bytes() const { return bytes_; }  // keys and values
  size_t max_key_size() const { return max_key_size_; }
  std::string_view payload() const { return {rep_.data(), rep_.size()}; }

  // Calls fn(seq, key, value or nullopt) for each op of a payload, in order; false when the
  // payload does not parse (fn may have seen a prefix of its ops).
  template <typename Fn>
  static bool Decode(std::string_view payload, Fn&& fn);
  // The sequence number one past the payload's last op (valid payloads only).
  static uint64_t EndSeq(std::string_view payload);

 private:
  friend class Engine;
  static constexpr size_t kHeader = 12;
  void Append(uint8_t kind, std::string_view key, std::string_view value_head,
              std::string_view value_tail = {});
  void SetFirstSeq(uint64_t seq) const { std::memcpy(rep_.data(), &seq, sizeof(seq)); }

  // Inline room for a SET's record (header, key, metadata, a short value): a command's batch
  // is on its stack, not the heap. Mutable: the engine stamps the first sequence number.
  static constexpr size_t kInlineBytes = 192;
  mutable boost::container::small_vector<char, kInlineBytes> rep_;
  uint32_t count_ = 0;
  uint64_t bytes_ = 0;
  size_t max_key_size_ = 0;
};

template <typename Fn>
bool WriteBatch::Decode(std::string_view payload, Fn&& fn) {
  auto take = [&payload](auto& value) {
    if (payload.size() < sizeof(value)) return false;
    std::memcpy(&value, payload.data(), sizeof(value));
    payload.remove_prefix(sizeof(value));
    return true;
  };
  uint64_t seq = 0;
  uint32_t count = 0;
  if (!take(seq) || !take(count)) return false;
  for (uint32_t i = 0; i < count; i++, seq++) {
    uint8_t kind = 0;
    uint32_t key_length = 0, value_length = 0;
    if (!take(kind) || !take(key_length) || !take(value_length) ||
        payload.size() < uint64_t{key_length} + value_length) {
      return false;
    }
    std::string_view key = payload.substr(0, key_length);
    std::optional<std::string_view> value;
    if (kind == 1) value = payload.substr(key_length, value_length);
    fn(seq, key, value);
    payload.remove_prefix(uint64_t{key_length} + value_length);
  }
  return true;
}

struct EngineStats {
  uint64_t visible_seq = 0;
  uint64_t memtable_bytes = 0;
  uint64_t memtable_entries = 0;
  uint64_t checkpoints = 0;
  uint64_t generation = 0;
  uint64_t live_entries = 0;  // in the tree
  uint64_t file_pages = 0;
  uint64_t used_pages = 0;
  uint64_t page_reads = 0;  // pages read from the page file since open
  uint64_t leaf_filter_skips = 0;  // point reads of absent keys a leaf filter answered
  uint64_t peak_page_reads_in_flight = 0;  // since open or ResetPeakReads()
  CacheStats cache;
  RowCacheStats rows;
  PmemTierStats pmem;
  ColdStats cold;
  WalStats wal;
};

// The part of the engine a snapshot pins (tiers/version.h).
struct Version;
struct FreeList;

// The sequence numbers of the live snapshots, with counts: a write overwrites a memtable version
// in place only when no live snapshot can see it (Memtable::Add).
struct LiveSnapshots {
  std::map<uint64_t, uint32_t> seqs;
  uint64_t newest() const { return seqs.empty() ? 0 : seqs.rbegin()->first; }
};

class Snapshot {
 public:
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  uint64_t seq() const { return seq_; }

 private:
  friend class Engine;
  friend class EngineIterator;
  Snapshot(uint64_t seq, std::shared_ptr<const Version> version, std::shared_ptr<LiveSnapshots> live);
  uint64_t seq_;
  std::shared_ptr<const Version> version_;
  std::shared_ptr<LiveSnapshots> live_;
};

class Engine;

// Ordered iteration over a snapshot, forward and reverse, from any key. Every positioning call
// suspends (tree pages). Memtable inserts during iteration are harmless (the snapshot hides them).
// An iterator confined to a prefix (NewIterator's `prefix`) sees only the keys that start with
// it: a position outside it is not Valid, a forward seek below it starts at the prefix's first
// key, and a backward seek above it at the prefix's last key.
// Forward moves skip the memtables that hold no key of the prefix's first byte, without
// ordering their keys (tiers/memtable.h).
class EngineIterator {
 public:
  Status SeekToFirst();
  Status SeekToLast();
  Status Seek(std::string_view key);         // first key >= key
  Status SeekForPrev(std::string_view key);  // last key <= key
  Status Next();
  Status Prev();
  bool Valid() const { return valid_; }
  const std::string& key() const { return key_; }
  // The value at the current position (reads overflow pages for large values). Suspends.
  Result<std::string> value();

  // Where the last forward seek in one of the snapshot's memtables stopped (engine_iterator.cc).
  struct MemCursor {
    Memtable::Keys::const_iterator at;
    bool valid = false;
  };

 private:
  friend class Engine;
  EngineIterator(Engine& engine, std::shared_ptr<const Snapshot> snapshot, std::string prefix)
      : engine_(engine), snapshot_(std::move(snapshot)), prefix_(std::move(prefix)) {}
  Status Find(std::string_view key, Tree::SeekMode mode, bool unbounded);

  Engine& engine_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::string prefix_;
  bool valid_ = false;
  std::string key_;
  std::optional<std::string> memtable_value_;  // set when the value came from a memtable
  LeafEntry tree_entry_;
  NodeRef tree_leaf_;  // the leaf of the last tree answer: most steps are answered inside it
  std::vector<MemCursor> cursors_;  // active memtable first, then the frozen ones; Next continues
};

class Engine {
 public:
  // Opens or creates the engine in options.dir, recovering from the last checkpoint and the WAL.
  // Suspends.
  static Result<std::unique_ptr<Engine>> Open(Env& env, EngineOptions options);
  ~Engine();

  // Suspend (tree reads). nullopt when absent.
  Result<std::optional<std::string>> Get(std::string_view key, const Snapshot* snapshot = nullptr);
  // Starts loading what a read or write of `key` at the current state touches first (the active
  // memtable's and the row cache's hash slots), for a command that will run soon. Never suspends.
  // `deep`: a while after the first call for the same key, the records the slots point to.
  void Prefetch(std::string_view key, bool deep = false) const;
  // Range read of a value (only the pages needed for large values). Suspends.
  Result<std::optional<std::string>> GetRange(std::string_view key, uint64_t offset,
                                              uint64_t length, const Snapshot* snapshot = nullptr);
  // GetRange of out.size() bytes at the current state into `out`: the bytes copied, or nullopt
  // when the key is absent. No allocation when a memtable or the row cache holds the key (SET
  // reads its old record's header this way, on every write).
  Result<std::optional<size_t>> ReadInto(std::string_view key, uint64_t offset, std::span<char> out);
  // Suspend until durable per the sync mode. Errors: InvalidArgument (key too large), and any
  // WAL failure, after which every write fails (the engine must be reopened).
  Status Put(std::string_view key, std::string_view value);
  Status Delete(std::string_view key);
  Status Write(const WriteBatch& batch);
  // Applies the batch at once (the next read sees it) and submits its WAL record without waiting
  // for it; returns the record's LSN (0 for an empty batch). Whoever acknowledges the write, or
  // answers anything that read it, must first AwaitDurable(lsn) (or unsynced_lsn(), which covers
  // every write applied so far): that is how a server acknowledges a pipeline of writes after one
  // group commit, and keeps no lock across the commit. Suspends only for back-pressure (a
  // checkpoint freezing the memtable, a memtable over budget, a full or far-behind WAL). Errors
  // as Write; a crash may lose a write nobody waited for, never one behind a durable one.
  Result<uint64_t> WriteUnsynced(const WriteBatch& batch);
  // Suspends until every write up to `lsn` is durable per the sync mode. Errors: the WAL's
  // failure (the engine then refuses every write), or the caller's cancellation.
  Status AwaitDurable(uint64_t lsn);
  // The LSN of the newest write not yet durable per the sync mode; 0 when every applied write
  // is. Never suspends.
  uint64_t unsynced_lsn() const;

  std::shared_ptr<const Snapshot> GetSnapshot();
  // Over `snapshot` (nullptr: the current state), confined to keys starting with `prefix`.
  std::unique_ptr<EngineIterator> NewIterator(std::shared_ptr<const Snapshot> snapshot = nullptr,
                                              std::string prefix = {});

  // Runs a checkpoint now (waits for one in progress). Suspends.
  Status Checkpoint();
  // Stops background work, checkpoints, closes the WAL. Suspends.
  Status Close();
  // Ok while the engine accepts writes; else the failure (a WAL or checkpoint I/O error) after
  // which every write is refused until the engine is reopened.
  const Status& failure() const { return failed_; }
  EngineStats stats() const;
  void ResetPeakReads() { file_->reset_peak_reads_in_flight(); }
  // Walks the current tree and checks that the allocation map marks exactly the pages (and cold
  // blobs) it uses, those of older trees still referenced, and the saved map: a leaked or doubly
  // used page is Corruption. For tests and the simulator's checkers. Suspends.
  Status VerifyAllocation();

 private:
  // GetRange's lookup: calls sink(bytes) with the range, a std::string_view into a memtable or
  // the row cache, or a std::string&& read from the tree; returns whether the key is present.
  template <typename Sink>
  Result<bool> ReadRange(std::string_view key, uint64_t offset, uint64_t length,
                         const Snapshot* snapshot, Sink&& sink);
  friend class EngineIterator;
  Engine(Env& env, EngineOptions options);
  Status Recover();
  Status CreateDataFile(const std::string& path);
  // After a failed superblock write or sync: zeroes the slot (see engine_checkpoint.cc).
  void InvalidateSuperblockSlot(uint64_t generation);
  Status WriteSuperblock(const Superblock& superblock);
  void ReleaseFreedPages();
  void BackgroundLoop();
  Status DoCheckpoint();
  bool ColdPassDue() const;
  // The allocation map a checkpoint saves beside its tree (open then need not walk the tree).
  Result<AllocMap> ReadAllocMap();
  Status WriteAllocMap(Tree::MergeResult& merged, Superblock& next);
  // Moves unread leaves out and wanted ones back in, on the tree a checkpoint is building.
  Status Relocate(Tree::MergeResult& merged, uint64_t generation);
  std::shared_ptr<const Snapshot> CurrentSnapshot();
  // Node cache capacity within the memory budget (the bitmap grows with the file).
  void ResizeCache();

  Env& env_;
  Executor& executor_;
  EngineOptions options_;
  std::unique_ptr<FileLock> lock_;  // on <dir>/LOCK while the engine lives
  std::unique_ptr<PageFile> file_;
  std::unique_ptr<PageAllocator> allocator_;
  std::unique_ptr<PmemTier> pmem_;
  std::unique_ptr<ColdStore> cold_;
  TimePoint next_cold_pass_;
  std::unique_ptr<NodeCache> cache_;
  // The tree's answers to recent point reads at the current snapshot (tiers/row_cache.h); it
  // takes 1/kRowCacheShare of cache_bytes, the node cache the rest.
  static constexpr uint64_t kRowCacheShare = 4;
  std::unique_ptr<RowCache> rows_;
  std::unique_ptr<Tree> tree_;
  std::unique_ptr<Wal> wal_;
  Superblock superblock_;
  std::shared_ptr<const Version> version_;
  std::shared_ptr<Memtable> active_;
  std::shared_ptr<FreeList> free_list_;

  uint64_t next_seq_ = 1;
  uint64_t visible_seq_ = 0;
  std::shared_ptr<LiveSnapshots> snapshots_ = std::make_shared<LiveSnapshots>();
  // WAL payload bytes written since the last freeze. Overwrites in place do not grow the
  // memtable, so the log's growth asks for a checkpoint too (it bounds recovery's replay).
  uint64_t logged_since_freeze_ = 0;
  static constexpr uint64_t kLoggedPerMemtable = 4;  // x memtable_bytes
  bool writes_blocked_ = false;
  WaitQueue write_gate_;
  Mutex checkpoint_mutex_;
  Event checkpoint_wanted_;
  FiberHandle background_;
  Status failed_;
  bool closed_ = false;
  bool stopping_ = false;
  uint64_t checkpoints_ = 0;
};

}  // namespace tierkv::tiers
