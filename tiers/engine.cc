#include "tiers/engine.h"

#include <algorithm>
#include <cstring>

#include "core/aligned_buffer.h"
#include "core/assert.h"
#include "tiers/pmem_wal.h"
#include "tiers/version.h"

namespace tierkv::tiers {

namespace {

// A part of a value at most this long is read whole from its leaf, for the row cache.
constexpr uint64_t kWholeForCacheBytes = 256;

// A WAL record's framing, at most (the PMem ring aligns records to 64 bytes).
constexpr uint64_t kWalRecordSlack = 128;

}  // namespace

WriteBatch::WriteBatch() : rep_(kHeader, '\0') {}

namespace {
void AppendBytes(char*& at, std::string_view bytes) {
  if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
  at += bytes.size();
}
}  // namespace

void WriteBatch::Append(uint8_t kind, std::string_view key, std::string_view value_head,
                        std::string_view value_tail) {
  const auto key_length = static_cast<uint32_t>(key.size());
  const size_t value_size = value_head.size() + value_tail.size();
  const auto value_length = static_cast<uint32_t>(value_size);
  char frame[9];
  frame[0] = static_cast<char>(kind);
  std::memcpy(frame + 1, &key_length, 4);
  std::memcpy(frame + 5, &value_length, 4);
  const size_t start = rep_.size();
  const size_t end = start + sizeof(frame) + key.size() + value_size;
  // Geometric growth (small_vector's reserve takes the exact size: a batch of many ops would
  // copy itself once per op).
  if (end > rep_.capacity()) rep_.reserve(std::max(end, 2 * rep_.capacity()));
  rep_.resize(end, boost::container::default_init);
  char* at = rep_.data() + start;
  AppendBytes(at, std::string_view(frame, sizeof(frame)));
  AppendBytes(at, key);
  AppendBytes(at, value_head);
  AppendBytes(at, value_tail);
  count_++;
  std::memcpy(rep_.data() + 8, &count_, 4);
  bytes_ += key.size() + value_size;
  max_key_size_ = std::max(max_key_size_, key.size());
}

void WriteBatch::Put(std::string_view key, std::string_view value) { Append(1, key, value); }

void WriteBatch::Put(std::string_view key, std::string_view value_head, std::string_view value_tail) {
  Append(1, key, value_head, value_tail);
}

void WriteBatch::Delete(std::string_view key) { Append(0, key, {}); }

uint64_t WriteBatch::EndSeq(std::string_view payload) {
  uint64_t seq = 0;
  uint32_t count = 0;
  std::memcpy(&seq, payload.data(), 8);
  std::memcpy(&count, payload.data() + 8, 4);
  return seq + count;
}

Engine::Engine(Env& env, EngineOptions options)
    : env_(env),
      executor_(env.CurrentExecutor()),
      options_(std::move(options)),
      free_list_(std::make_shared<FreeList>()),
      write_gate_(executor_),
      checkpoint_mutex_(executor_),
      checkpoint_wanted_(executor_) {}

Engine::~Engine() {
  TK_ASSERT_MSG(closed_ || !background_.valid() || background_.done(),
                "engine destroyed without Close()");
}

Result<std::unique_ptr<Engine>> Engine::Open(Env& env, EngineOptions options) {
  if (options.memory_bytes > 0) {
    options.memtable_bytes = std::max<uint64_t>(options.memory_bytes / 16, 64 << 10);
    options.cache_bytes = options.memory_bytes / 2;
  }
  std::unique_ptr<Engine> engine(new Engine(env, std::move(options)));
  TK_RETURN_IF_ERROR_R(engine->Recover());
  if (engine->options_.background_checkpoints) {
    Engine* raw = engine.get();
    engine->background_ = engine->executor_.Spawn("checkpointer", [raw] { raw->BackgroundLoop(); });
  }
  return engine;
}

// A new data file is built under a temporary name and renamed into place once its generation-0
// superblock (an empty tree) is durable, so that a data file always holds a valid superblock:
// written in place, a crash before the first write reached the disk left a file of one torn page
// and nothing to recover from, ever (engine-crash scenario, seed 1686). A file holding pages of an
// unfinished first checkpoint recovers to generation 0.
Status Engine::CreateDataFile(const std::string& path) {
  const std::string temporary = path + ".new";
  Status removed = env_.RemoveFile(temporary);  // a leftover of a crash during the last attempt
  if (!removed.ok() && removed.code() != StatusCode::kNotFound) return removed;
  auto file = PageFile::Open(env_, temporary);
  if (!file) return file.error();
  file_ = std::move(*file);
  Status written = WriteSuperblock(Superblock{});
  file_.reset();
  TK_RETURN_IF_ERROR(written);
  TK_RETURN_IF_ERROR(env_.RenameFile(temporary, path));
  return env_.SyncDir(options_.dir);
}

Status Engine::Recover() {
  const Log& log = executor_.log();
  TK_RETURN_IF_ERROR(env_.CreateDir(options_.dir));
  // One engine per directory: a second one (another process, or a second Open here) would
  // recover and rewrite files the first is using.
  auto lock = env_.LockFile(JoinPath(options_.dir, "LOCK"));
  if (!lock) {
    return Status(lock.error().code(), "engine directory " + options_.dir +
                                           " is in use: " + lock.error().message());
  }
  lock_ = std::move(*lock);
  std::string path = JoinPath(options_.dir, "data");
  auto file = PageFile::Open(env_, path);
  if (!file) return file.error();
  if ((*file)->size_pages() == 0) {
    // No data file yet (Open just created an empty one): build one holding generation 0.
    file->reset();
    TK_RETURN_IF_ERROR(CreateDataFile(path));
    file = PageFile::Open(env_, path);
    if (!file) return file.error();
  }
  file_ = std::move(*file);
  TK_RETURN_IF_ERROR(env_.SyncDir(options_.dir));

  AlignedBuffer page(kPageSize);
  std::optional<Superblock> best;
  std::string errors;
  for (uint64_t slot = 0; slot < kSuperblockPages && slot < file_->size_pages(); slot++) {
    Status read = file_->Read(slot, page.span().first<kPageSize>());
    // A slot that cannot be read may hold the newest checkpoint: using the other one would
    // resurrect an older tree whose freed pages the newer one reused. Only a slot that reads
    // but does not decode (a torn superblock write) is passed over.
    if (!read.ok() && read.code() != StatusCode::kCorruption) return read;
    // A slot that failed its checksum is decoded too (decoding checks it again, and names a
    // file of an older format as such rather than reporting damage).
    auto decoded = DecodeSuperblock(page.span().first<kPageSize>(), slot, path);
    if (decoded && (!best || decoded->generation > best->generation)) best = *decoded;
    if (!decoded) errors += " [" + decoded.error().ToString() + "]";
  }
  if (!best) {
    return Status(StatusCode::kCorruption, "no valid superblock in " + path + ":" + errors);
  }
  superblock_ = *best;
  if (!errors.empty()) log.Warn("using superblock generation {}; the other one:{}", best->generation, errors);
  // What we read may be only in the OS cache: a previous process whose checkpoint fsync failed
  // and which then exited (not crashed) leaves its newest superblock readable but not durable.
  // Make it durable before trusting it (below, the WAL it covers is removed); found by the
  // server-linear scenario, seed 12: a crash after such a restart fell back to the older
  // superblock whose WAL was already gone.
  TK_RETURN_IF_ERROR(file_->Sync());

  allocator_ = std::make_unique<PageAllocator>(std::max(superblock_.page_count, file_->size_pages()));
  if (!options_.pmem_path.empty()) {
    auto region = env_.MapPmem(options_.pmem_path, options_.pmem_bytes);
    if (!region) return region.error();
    pmem_ = std::make_unique<PmemTier>(std::move(*region));
  }
  cache_ = std::make_unique<NodeCache>(*file_, options_.cache_bytes, pmem_.get());
  rows_ = std::make_unique<RowCache>(options_.cache_bytes / kRowCacheShare);
  if (!options_.cold_dir.empty() && options_.cold_after > Duration::zero()) {
    auto cold = ColdStore::Open(env_, options_.cold_dir);
    if (!cold) return cold.error();
    cold_ = std::move(*cold);
    cache_->set_cold(cold_.get());
  }
  next_cold_pass_ = executor_.Now() + options_.cold_after;
  ResizeCache();
  tree_ = std::make_unique<Tree>(executor_, *file_, *cache_, *allocator_);
  TreeRoot root{superblock_.root, superblock_.height};
  // The allocation map the checkpoint saved, or else a walk of its whole tree.
  bool loaded = false;
  if (superblock_.alloc_map_page != kNoPage) {
    auto map = ReadAllocMap();
    if (map) {
      bool has_cold = std::any_of(map->cold_live.begin(), map->cold_live.end(),
                                  [](uint32_t live) { return live > 0; });
      if (has_cold && !cold_) {
        return Status(StatusCode::kCorruption,
                      "the tree in " + path + " references cold nodes but no cold-dir is set");
      }
      allocator_->Load(map->pages);
      if (cold_) cold_->Load(map->cold_live);
      loaded = true;
    } else {
      log.Warn("allocation map unreadable ({}); rebuilding it from the tree", map.error().ToString());
    }
  }
  if (!loaded) {
    TK_RETURN_IF_ERROR(tree_->ForEachPage(root, [&](PageRun run) {
      if (IsCold(run.first)) {
        cold_->MarkUsed(run.first);  // reading a cold node without a cold store already failed
      } else {
        allocator_->MarkUsed(run.first, run.count);
      }
    }));
    if (superblock_.alloc_map_page != kNoPage) {
      allocator_->MarkUsed(superblock_.alloc_map_page, superblock_.alloc_map_pages);
    }
  }

  active_ = std::make_shared<Memtable>();
  next_seq_ = superblock_.next_seq;
  uint64_t replayed = 0;
  auto replay = [&](uint64_t lsn, std::string_view payload) -> Status {
    Memtable& target = *active_;
    const bool parsed = WriteBatch::Decode(
        payload, [&](uint64_t seq, std::string_view key, std::optional<std::string_view> value) {
          target.Add(seq, key, value, /*replace_above=*/0);  // no snapshots yet
        });
    if (!parsed) return Status(StatusCode::kCorruption, "bad WAL batch at lsn " + std::to_string(lsn));
    next_seq_ = std::max(next_seq_, WriteBatch::EndSeq(payload));
    replayed++;
    return Status::Ok();
  };
  Result<std::unique_ptr<Wal>> wal = Err(StatusCode::kInvalidArgument, "no WAL");
  if (!options_.pmem_path.empty() && options_.pmem_wal_bytes > 0) {
    PmemWalOptions wal_options{options_.pmem_path + ".wal", options_.pmem_wal_bytes, options_.sync};
    wal = OpenPmemWal(env_, wal_options, superblock_.wal_lsn, replay);
  } else {
    WalOptions wal_options{JoinPath(options_.dir, "wal"), options_.sync};
    wal = Wal::Open(env_, wal_options, superblock_.wal_lsn, replay);
  }
  if (!wal) return wal.error();
  wal_ = std::move(*wal);
  // Recovered records the checkpoint covers are not needed (and take room in a bounded WAL).
  TK_RETURN_IF_ERROR(wal_->RemoveBefore(superblock_.wal_lsn));
  visible_seq_ = next_seq_ - 1;
  auto holder = std::make_shared<TreeHolder>();
  holder->tree = root;
  holder->generation = superblock_.generation;
  holder->free_list = free_list_;
  version_ = std::make_shared<Version>(Version{holder, active_, {}});
  log.Info("engine open in {}: checkpoint generation {}, {} tree entries, {} WAL batches replayed",
           options_.dir, superblock_.generation, superblock_.live_entries, replayed);
  return Status::Ok();
}

Status Engine::Put(std::string_view key, std::string_view value) {
  WriteBatch batch;
  batch.Put(key, value);
  return Write(batch);
}

Status Engine::Delete(std::string_view key) {
  WriteBatch batch;
  batch.Delete(key);
  return Write(batch);
}

Status Engine::Write(const WriteBatch& batch) {
  Result<uint64_t> lsn = WriteUnsynced(batch);
  if (!lsn) return lsn.error();
  return *lsn == 0 ? Status::Ok() : AwaitDurable(*lsn);
}

Result<uint64_t> Engine::WriteUnsynced(const WriteBatch& batch) {
  if (batch.empty()) return uint64_t{0};
  if (batch.max_key_size() > kMaxKeySize) {
    return Err(StatusCode::kInvalidArgument, "key of " + std::to_string(batch.max_key_size()) +
                                                 " bytes exceeds the " +
                                                 std::to_string(kMaxKeySize) + "-byte limit");
  }
  // A bounded WAL (the PMem ring) must have room for the record: space comes back when a
  // checkpoint removes what it covers, so a fuller log asks for one early.
  const uint64_t record = kWalRecordSlack + batch.payload().size();
  uint64_t wal_capacity = wal_->capacity_bytes();
  if (wal_capacity > 0 && record > wal_capacity / 2) {
    return Err(StatusCode::kInvalidArgument,
               "write batch of " + std::to_string(record) + " bytes does not fit the " +
                   std::to_string(wal_capacity) + "-byte PMem WAL (half of it at most)");
  }
  auto wal_full = [&] { return wal_capacity > 0 && wal_->used_bytes() + record > wal_capacity; };
  if (wal_capacity > 0 && wal_->used_bytes() > wal_capacity / 2) checkpoint_wanted_.Set();
  // Back-pressure: while a checkpoint freezes the memtable, or the memtable is over twice its
  // budget (a checkpoint cannot keep up), or the WAL is full, writers wait: memory stays bounded.
  // So do they while the file WAL's unwritten records pass their bound (they wait for the log).
  while (true) {
    if (!failed_.ok()) return Err(failed_);
    if (wal_->pending_bytes() > limits::kWalMaxPendingBytes) {
      Status caught_up = AwaitDurable(wal_->next_lsn() - 1);
      if (!caught_up.ok()) return Err(caught_up);
      continue;
    }
    if (!writes_blocked_ && active_->bytes() <= 2 * options_.memtable_bytes && !wal_full()) break;
    if (active_->bytes() > 2 * options_.memtable_bytes || wal_full()) checkpoint_wanted_.Set();
    WakeReason reason = write_gate_.Wait(DeadlineAfter(executor_.Now(), milliseconds(100)));
    if (reason == WakeReason::kCancelled) return Err(WakeStatus(reason, "write"));
  }
  // From here on nothing suspends: the record's LSN and the memtable entries are taken together,
  // so a checkpoint's freeze always sees the memtable hold exactly the records before next_lsn.
  batch.SetFirstSeq(next_seq_);
  Result<uint64_t> lsn = wal_->Submit(batch.payload());
  if (!lsn) {
    if (lsn.error().code() == StatusCode::kInvalidArgument) return lsn;  // this record only
    // Durability is unknown: refuse every later write rather than acknowledge what may be lost.
    if (failed_.ok()) failed_ = Status(lsn.error().code(), "write not durable: " + lsn.error().message());
    return Err(failed_);
  }
  Memtable& target = *active_;
  const uint64_t replace_above = snapshots_->newest();
  const bool parsed = WriteBatch::Decode(
      batch.payload(), [&](uint64_t seq, std::string_view key, std::optional<std::string_view> value) {
        target.Add(seq, key, value, replace_above);
      });
  TK_ASSERT(parsed);
  next_seq_ = WriteBatch::EndSeq(batch.payload());
  visible_seq_ = next_seq_ - 1;
  logged_since_freeze_ += batch.payload().size();
  if (active_->bytes() > options_.memtable_bytes ||
      logged_since_freeze_ > kLoggedPerMemtable * options_.memtable_bytes) {
    checkpoint_wanted_.Set();
  }
  return lsn;
}

Status Engine::AwaitDurable(uint64_t lsn) {
  Status status = wal_->Await(lsn);
  if (!status.ok() && !wal_->failure().ok()) {
    if (failed_.ok()) failed_ = Status(status.code(), "write not durable: " + status.message());
    return failed_;
  }
  return status;
}

uint64_t Engine::unsynced_lsn() const {
  if (wal_ == nullptr) return 0;
  const uint64_t last = wal_->next_lsn() - 1;
  return wal_->done_lsn() >= last ? 0 : last;
}

Snapshot::Snapshot(uint64_t seq, std::shared_ptr<const Version> version,
                   std::shared_ptr<LiveSnapshots> live)
    : seq_(seq), version_(std::move(version)), live_(std::move(live)) {
  live_->seqs[seq_]++;
}

Snapshot::~Snapshot() {
  auto it = live_->seqs.find(seq_);
  TK_ASSERT(it != live_->seqs.end() && it->second > 0);
  if (--it->second == 0) live_->seqs.erase(it);
}

std::shared_ptr<const Snapshot> Engine::CurrentSnapshot() {
  return std::shared_ptr<const Snapshot>(new Snapshot(visible_seq_, version_, snapshots_));
}

std::shared_ptr<const Snapshot> Engine::GetSnapshot() { return CurrentSnapshot(); }

Result<std::optional<std::string>> Engine::Get(std::string_view key, const Snapshot* snapshot) {
  return GetRange(key, 0, UINT64_MAX, snapshot);
}

void Engine::Prefetch(std::string_view key, bool deep) const {
  const uint64_t hash = Memtable::Hash(key);
  active_->PrefetchHash(hash, deep);
  rows_->PrefetchHash(hash, deep);
}

template <typename Sink>
Result<bool> Engine::ReadRange(std::string_view key, uint64_t offset, uint64_t length,
                               const Snapshot* snapshot, Sink&& sink) {
  // No snapshot: the current state, without allocating a Snapshot for it.
  const uint64_t seq = snapshot != nullptr ? snapshot->seq_ : visible_seq_;
  // Keeps the tree (and memtables) alive while the read suspends.
  std::shared_ptr<const Version> pin = snapshot != nullptr ? snapshot->version_ : version_;
  const bool current = seq == visible_seq_ && pin == version_;
  const Version& version = *pin;
  auto clip = [&](std::string_view value) {
    return offset >= value.size() ? std::string_view() : value.substr(offset, length);
  };
  // The memtables hold the newest versions and shadow the row cache (tiers/row_cache.h: it
  // caches the tree's answers only), so they are looked at first; the row cache's slot loads
  // meanwhile. A read before a write (SET reads the old header) leaves the memtable's slot and
  // key in the CPU cache for the write. One hash serves the memtables and the cache.
  const uint64_t hash = Memtable::Hash(key);
  if (current) rows_->PrefetchHash(hash, /*deep=*/false);
  auto from_memtable = [&](const std::optional<std::string_view>& found) {
    if (!found) return false;
    sink(clip(*found));
    return true;
  };
  if (auto found = version.active->Get(key, seq, hash)) return from_memtable(*found);
  for (const auto& memtable : version.frozen) {
    if (auto found = memtable->Get(key, seq, hash)) return from_memtable(*found);
  }
  // At the current state a cached entry of a key no memtable holds is the tree's newest value.
  if (current) {
    if (std::optional<RowCache::Cached> cached = rows_->Find(key, hash)) {
      if (!cached->present) return false;
      sink(clip(cached->value));
      return true;
    }
  }
  const uint64_t writes_before = next_seq_;
  // A part of a short value (SET reads the old record's header) is read whole when the leaf
  // holds it, so that it can be cached: after a checkpoint empties the memtable, a key's next
  // write finds its old header here instead of descending the tree again.
  bool whole = false;
  auto value = tree_->Get(pin->tree->tree, key, offset, length,
                          current ? kWholeForCacheBytes : 0, &whole);
  if (!value) return Err(value.error());
  // Cached only when nothing was written while the read suspended: then it is the newest value
  // (and only a whole value or an absence is the answer for every later read).
  if ((whole || !*value) && current && next_seq_ == writes_before) rows_->Insert(key, *value);
  if (!*value) return false;
  if (whole && !(offset == 0 && length == UINT64_MAX)) {
    sink(clip(**value));
  } else {
    sink(std::move(**value));
  }
  return true;
}

Result<std::optional<std::string>> Engine::GetRange(std::string_view key, uint64_t offset,
                                                    uint64_t length, const Snapshot* snapshot) {
  std::optional<std::string> out;
  auto found = ReadRange(key, offset, length, snapshot,
                         [&out](auto&& bytes) { out.emplace(std::forward<decltype(bytes)>(bytes)); });
  if (!found) return Err(found.error());
  return out;
}

Result<std::optional<size_t>> Engine::ReadInto(std::string_view key, uint64_t offset,
                                                std::span<char> out) {
  size_t copied = 0;
  auto found = ReadRange(key, offset, out.size(), nullptr, [&](std::string_view bytes) {
    copied = std::min(bytes.size(), out.size());
    if (copied > 0) std::memcpy(out.data(), bytes.data(), copied);
  });
  if (!found) return Err(found.error());
  if (!*found) return std::nullopt;
  return copied;
}

std::unique_ptr<EngineIterator> Engine::NewIterator(std::shared_ptr<const Snapshot> snapshot,
                                                    std::string prefix) {
  if (!snapshot) snapshot = CurrentSnapshot();
  return std::unique_ptr<EngineIterator>(
      new EngineIterator(*this, std::move(snapshot), std::move(prefix)));
}

void Engine::ResizeCache() {
  // The row cache's share first; the node cache gets the rest minus the allocation bitmap.
  const uint64_t nodes = options_.cache_bytes - rows_->capacity();
  uint64_t bitmap = allocator_->size_pages() / 8 + cache_->tracking_bytes();
  uint64_t floor = nodes / 4;  // never starve the cache of inner nodes entirely
  cache_->set_capacity(std::max(floor, nodes > bitmap ? nodes - bitmap : 0));
}

Status Engine::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  if (background_.valid()) {
    // Not Cancel(): a checkpoint cut off mid-I/O would fail the engine. Let it finish and stop.
    stopping_ = true;
    checkpoint_wanted_.Set();
    (void)background_.Join();
  }
  Status status = failed_.ok() ? Checkpoint() : failed_;
  Status wal = wal_->Close();
  return status.ok() ? wal : status;
}

EngineStats Engine::stats() const {
  EngineStats s;
  s.visible_seq = visible_seq_;
  s.memtable_bytes = active_->bytes();
  s.memtable_entries = active_->entries();
  for (const auto& memtable : version_->frozen) {
    s.memtable_bytes += memtable->bytes();
    s.memtable_entries += memtable->entries();
  }
  s.checkpoints = checkpoints_;
  s.generation = superblock_.generation;
  s.live_entries = superblock_.live_entries;
  s.file_pages = allocator_->size_pages();
  s.used_pages = allocator_->used_pages();
  s.page_reads = file_->reads();
  s.leaf_filter_skips = tree_->filter_skips();
  s.peak_page_reads_in_flight = file_->peak_reads_in_flight();
  s.cache = cache_->stats();
  s.rows = rows_->stats();
  if (pmem_) s.pmem = pmem_->stats();
  if (cold_) s.cold = cold_->stats();
  s.wal = wal_->stats();
  return s;
}

}  // namespace tierkv::tiers
