// The engine's checkpoint (docs/storage.md): freezing the memtable, merging it into the
// copy-on-write tree, moving leaves to and from the cold tier, writing the allocation map and the
// superblock, refreshing the row cache, releasing pages no tree uses; the background fiber that
// runs it; and the allocation map's check. The rest of the engine is in tiers/engine.cc.
#include "tiers/engine.h"

#include <algorithm>

#include "core/aligned_buffer.h"
#include "core/assert.h"
#include "tiers/version.h"

namespace tierkv::tiers {

void Engine::InvalidateSuperblockSlot(uint64_t generation) {
  // The superblock of a checkpoint whose fsync failed may sit in the OS cache, readable by the
  // next process (which would trust it and drop the WAL it covers) yet never reach the disk (a
  // failed fsync can leave pages marked clean: Linux's "fsyncgate"). Overwrite the slot so the
  // next open falls back to the previous checkpoint, whose WAL is still there. Best effort: if
  // this write fails too, nothing better can be done here.
  AlignedBuffer page(kPageSize);
  std::fill(page.span().begin(), page.span().end(), std::byte{0});
  Status cleared = file_->Write(generation % kSuperblockPages, page.span());
  if (!cleared.ok()) executor_.log().Error("could not invalidate superblock slot: {}", cleared.ToString());
}

Status Engine::WriteSuperblock(const Superblock& superblock) {
  AlignedBuffer page(kPageSize);
  uint64_t slot = superblock.generation % kSuperblockPages;
  EncodeSuperblock(superblock, slot, page.span().first<kPageSize>());
  TK_RETURN_IF_ERROR(file_->Write(slot, page.span()));
  return file_->Sync();
}

void Engine::ReleaseFreedPages() {
  auto& entries = free_list_->entries;
  while (!entries.empty() && entries.front().dead) {
    for (const PageRun& run : entries.front().runs) {
      if (IsCold(run.first)) {
        cache_->Forget(run.first);
        cold_->Free(run.first);
        continue;
      }
      for (uint64_t page = run.first; page < run.first + run.count; page++) cache_->Forget(page);
      allocator_->Free(run.first, run.count);
    }
    entries.pop_front();
  }
}

Status Engine::Checkpoint() {
  MutexLock lock(checkpoint_mutex_);
  TK_RETURN_IF_ERROR(lock.status());
  return DoCheckpoint();
}

Status Engine::DoCheckpoint() {
  if (!failed_.ok()) return failed_;
  ReleaseFreedPages();
  // Freeze: every submitted batch is already applied (WriteUnsynced takes a record's LSN and
  // applies its entries without suspending), so the frozen memtable holds exactly the WAL records
  // before `boundary`, durable or not: the checkpoint makes them durable in the tree.
  const TimePoint started = executor_.Now();
  const uint64_t pages_read_before = file_->reads();
  writes_blocked_ = true;
  std::shared_ptr<Memtable> frozen = active_;
  uint64_t boundary = wal_->next_lsn();
  uint64_t next_seq = next_seq_;
  bool cold_work = cold_ && (ColdPassDue() || cache_->HasPromotions());
  if (frozen->entries() == 0 && !cold_work) {
    // Nothing to do serves the request too (left set, the background loop would spin). Records
    // before the last checkpoint's LSN may still take room in a bounded WAL (a ring recovered
    // with them): drop them, or writers waiting for room would wait forever.
    checkpoint_wanted_.Reset();
    writes_blocked_ = false;
    Status removed = wal_->RemoveBefore(superblock_.wal_lsn);
    write_gate_.NotifyAll();
    return removed;
  }
  active_ = std::make_shared<Memtable>();
  logged_since_freeze_ = 0;
  // Requests made before the freeze are served by this checkpoint (clearing it earlier let
  // writers finishing their WAL appends request a second, needless checkpoint).
  checkpoint_wanted_.Reset();
  std::shared_ptr<const Version> old = version_;
  version_ = std::make_shared<Version>(Version{old->tree, active_, {frozen}});
  writes_blocked_ = false;
  write_gate_.NotifyAll();

  // The newest version of each key, in order (tombstones become deletes): sorted a step at a
  // time, letting the executor's other fibers (the clients) run in between.
  std::vector<const MemKey*> keys = frozen->SortedInSteps([this] {
    if (executor_.InFiber()) executor_.Yield();
  });
  std::vector<Tree::Change> changes;
  changes.reserve(keys.size());
  // In key order the records lie all over the arena: load a few ahead.
  constexpr size_t kLoadAhead = 8;
  for (size_t i = 0; i < keys.size(); i++) {
    if (i + kLoadAhead < keys.size()) __builtin_prefetch(keys[i + kLoadAhead]);
    changes.push_back(Tree::Change{keys[i]->key(), keys[i]->newest->view()});
  }
  Superblock next = superblock_;
  next.generation = superblock_.generation + 1;
  auto merged = tree_->Merge(old->tree->tree, changes, next.generation);
  Status status = merged ? Status::Ok() : merged.error();
  if (status.ok() && cold_work) status = Relocate(*merged, next.generation);
  if (status.ok()) status = WriteAllocMap(*merged, next);
  if (status.ok()) status = file_->Sync();
  if (status.ok()) {
    next.root = merged->tree.root;
    next.height = merged->tree.height;
    next.wal_lsn = boundary;
    next.next_seq = next_seq;
    next.page_count = allocator_->size_pages();
    next.live_entries = static_cast<uint64_t>(static_cast<int64_t>(superblock_.live_entries) +
                                              merged->entry_delta);
    status = WriteSuperblock(next);
    if (!status.ok()) InvalidateSuperblockSlot(next.generation);
  }
  if (!status.ok()) {
    failed_ = Status(status.code(), "checkpoint failed: " + status.message());
    executor_.log().Error("{}", failed_.ToString());
    return failed_;
  }
  superblock_ = next;
  auto holder = std::make_shared<TreeHolder>();
  holder->tree = merged->tree;
  holder->generation = next.generation;
  holder->free_list = free_list_;
  // The pages the new tree no longer uses are free once the old tree and all older ones are
  // unreferenced (old->tree is alive here, so its entry starts live).
  free_list_->entries.push_back(FreeList::Entry{old->tree->generation, std::move(merged->freed)});
  // The row cache's entries of the keys this memtable held are stale once it stops shadowing
  // them: they take its newest values first. Other fibers may run between steps: while the
  // memtable is in the version no read caches a key it holds (it answers them), and a read that
  // suspended in the tree caches nothing if anything was written meanwhile.
  // A key written more than once since the last checkpoint is hot: it is cached too (RocksDB's
  // prepopulate_block_cache, for rows), so that its next write, which reads its old record's
  // header, does not descend the tree (100k keys overwritten by SET -P 16: ~1 us each, the
  // rounds after a checkpoint ran 10-20% slower). A key written once (a bulk load) is not.
  // The slots of the keys a few ahead are prefetched: each update is otherwise a cache miss on
  // its slot and one on its entry, back to back (100k cached keys: ~55 ms of the shard's time).
  // The keys' hashes are the memtable's (no key is hashed again).
  constexpr size_t kUpdateAhead = 8;
  size_t since_yield = 0;
  for (size_t i = 0; i < changes.size(); i++) {
    if (i + 2 * kUpdateAhead < keys.size()) {
      rows_->PrefetchHash(keys[i + 2 * kUpdateAhead]->hash, /*deep=*/false);
    }
    if (i + kUpdateAhead < keys.size()) {
      rows_->PrefetchHash(keys[i + kUpdateAhead]->hash, /*deep=*/true);
    }
    const Tree::Change& change = changes[i];
    if (!rows_->Update(change.key, change.value, keys[i]->hash) && keys[i]->writes > 1) {
      rows_->Insert(change.key, change.value, /*admit=*/true, keys[i]->hash);
    }
    if (++since_yield == Memtable::kOrderStep && executor_.InFiber()) {
      since_yield = 0;
      executor_.Yield();
    }
  }
  std::vector<std::shared_ptr<const Memtable>> still_frozen;
  for (const auto& memtable : version_->frozen) {
    if (memtable != frozen) still_frozen.push_back(memtable);
  }
  version_ = std::make_shared<Version>(Version{holder, active_, still_frozen});
  old.reset();
  checkpoints_++;
  ResizeCache();
  executor_.log().Debug("checkpoint {}: {} changes, {} pages written, {} pages read, root {} height {}, {} ms",
                        next.generation, changes.size(), merged->pages_written,
                        file_->reads() - pages_read_before, next.root, next.height,
                        std::chrono::duration_cast<milliseconds>(executor_.Now() - started).count());
  ReleaseFreedPages();
  // The frozen memtable (unless a snapshot still holds it) was freed just now: many small
  // allocations, whose heap would otherwise stay fragmented and resident.
  changes.clear();
  changes.shrink_to_fit();
  keys.clear();
  keys.shrink_to_fit();
  frozen.reset();
  env_.ReleaseFreeMemory();
  Status removed = wal_->RemoveBefore(boundary);
  write_gate_.NotifyAll();  // a bounded WAL has room again
  return removed;
}

Result<AllocMap> Engine::ReadAllocMap() {
  uint64_t pages = superblock_.alloc_map_pages;
  if (pages == 0 || pages > (1ULL << 20)) {
    return Err(StatusCode::kCorruption, "bad allocation map size in " + file_->path());
  }
  AlignedBuffer buffer(pages * kPageSize);
  TK_RETURN_IF_ERROR_R(file_->ReadRun(superblock_.alloc_map_page, pages, buffer.span()));
  return DecodeAllocMap(buffer.span(), superblock_.alloc_map_page, file_->path());
}

Status Engine::WriteAllocMap(Tree::MergeResult& merged, Superblock& next) {
  // The previous checkpoint's map is replaced (freed once that checkpoint is unreferenced).
  if (superblock_.alloc_map_page != kNoPage) {
    merged.freed.push_back(PageRun{superblock_.alloc_map_page, superblock_.alloc_map_pages});
  }
  // The map's own pages must be in it: allocate them first, for a size with some headroom
  // (allocating may grow the file), and retry in the rare case it grew past the headroom.
  AllocMap map;
  map.cold_live = cold_ ? cold_->live() : std::vector<uint32_t>{};
  uint64_t first = 0;
  uint32_t pages = 0;
  uint64_t bits = 0;
  while (true) {
    bits = allocator_->size_pages() + 64;
    map.pages.assign(bits, false);
    pages = AllocMapPages(map);
    first = allocator_->Allocate(pages);
    if (allocator_->size_pages() <= bits) break;
    allocator_->Free(first, pages);
  }
  map.pages = allocator_->bits();
  map.pages.resize(bits, false);
  // Pages and blobs that only older trees (snapshots, the previous checkpoint) still use are
  // free for the tree this checkpoint saves: after a restart nothing else exists.
  auto release = [&](const PageRun& run) {
    if (IsCold(run.first)) {
      ColdStore::Subtract(map.cold_live, run.first);
      return;
    }
    for (uint64_t page = run.first; page < run.first + run.count && page < bits; page++) {
      map.pages[page] = false;
    }
  };
  for (const auto& entry : free_list_->entries) {
    for (const PageRun& run : entry.runs) release(run);
  }
  for (const PageRun& run : merged.freed) release(run);
  AlignedBuffer buffer(size_t{pages} * kPageSize);
  EncodeAllocMap(map, first, next.generation, buffer.span());
  TK_RETURN_IF_ERROR(file_->Write(first, buffer.span()));
  next.alloc_map_page = first;
  next.alloc_map_pages = pages;
  merged.pages_written += pages;
  return Status::Ok();
}

Status Engine::VerifyAllocation() {
  MutexLock lock(checkpoint_mutex_);  // a checkpoint in progress holds unpublished pages
  TK_RETURN_IF_ERROR(lock.status());
  std::vector<bool> expect(allocator_->size_pages(), false);
  std::vector<uint32_t> cold_expect;
  std::string problem;
  auto mark = [&](const PageRun& run) {
    if (IsCold(run.first)) {
      ColdStore::AddTo(cold_expect, run.first);
      return;
    }
    for (uint64_t page = run.first; page < run.first + run.count; page++) {
      if (page >= expect.size() || expect[page]) {
        if (problem.empty()) problem = "page " + std::to_string(page) + " used twice or past the end";
        continue;
      }
      expect[page] = true;
    }
  };
  mark(PageRun{0, kSuperblockPages});
  if (superblock_.alloc_map_page != kNoPage) {
    mark(PageRun{superblock_.alloc_map_page, superblock_.alloc_map_pages});
  }
  std::shared_ptr<const Version> version = version_;
  TK_RETURN_IF_ERROR(tree_->ForEachPage(version->tree->tree, mark));
  for (const auto& entry : free_list_->entries) {
    for (const PageRun& run : entry.runs) mark(run);
  }
  for (uint64_t page = 0; page < expect.size() && problem.empty(); page++) {
    if (expect[page] != allocator_->IsUsed(page)) {
      problem = "page " + std::to_string(page) + (expect[page] ? " is in use but free in the map"
                                                              : " is allocated but unused (leak)");
    }
  }
  if (problem.empty() && cold_) {
    std::vector<uint32_t> live = cold_->live();
    size_t size = std::max(live.size(), cold_expect.size());
    live.resize(size, 0);
    cold_expect.resize(size, 0);
    for (size_t block = 0; block < size && problem.empty(); block++) {
      if (live[block] != cold_expect[block]) {
        problem = "cold block " + std::to_string(block) + " holds " + std::to_string(live[block]) +
                  " live bytes, the tree uses " + std::to_string(cold_expect[block]);
      }
    }
  }
  if (problem.empty()) return Status::Ok();
  return Status(StatusCode::kCorruption, "allocation map of " + file_->path() + ": " + problem);
}

bool Engine::ColdPassDue() const { return cold_ && executor_.Now() >= next_cold_pass_; }

Status Engine::Relocate(Tree::MergeResult& merged, uint64_t generation) {
  bool pass = ColdPassDue();
  using Placement = Tree::Placement;
  auto place = [&](uint64_t page) {
    if (IsCold(page)) return cache_->PromotionWanted(page) ? Placement::kHot : Placement::kStay;
    return pass && !cache_->ReadSinceClear(page) ? Placement::kCold : Placement::kStay;
  };
  auto moved = tree_->Relocate(merged.tree, generation, *cold_, place, options_.cold_moves_per_pass);
  if (!moved) return moved.error();
  TK_RETURN_IF_ERROR(cold_->Flush());
  TK_RETURN_IF_ERROR(cold_->Sync());
  merged.tree = moved->tree;
  merged.pages_written += moved->pages_written;
  merged.freed.insert(merged.freed.end(), moved->freed.begin(), moved->freed.end());
  cache_->ClearPromotions();
  if (pass) {
    cache_->ClearReads();
    next_cold_pass_ = executor_.Now() + options_.cold_after;
  }
  return Status::Ok();
}

void Engine::BackgroundLoop() {
  while (!stopping_) {
    Duration wait = options_.checkpoint_interval;
    if (cold_) wait = std::min(wait, std::max(Duration::zero(), next_cold_pass_ - executor_.Now()) + milliseconds(1));
    Status waited = checkpoint_wanted_.Wait(DeadlineAfter(executor_.Now(), wait));
    if (waited.code() == StatusCode::kCancelled || stopping_) return;
    MutexLock lock(checkpoint_mutex_);
    if (!lock.status().ok()) return;
    Status status = DoCheckpoint();
    if (!status.ok()) return;  // the engine is failed; writes report it
  }
}

}  // namespace tierkv::tiers
