// Write-ahead log: group commit through one writer fiber, fail-stop on the first I/O error, and a
// recovery that never appends behind bytes it could not prove durable.
//
// Writing. Submit encodes its record (LSNs are handed out in call order) into a pending buffer and
// wakes the log's writer fiber; Await waits until the LSN is written (kEverySec, kNo) or durable
// (kAlways). The writer takes the whole pending buffer as one batch: one Write at the end of the
// active segment and, under kAlways, one DataSync. Records appended meanwhile accumulate and make
// up the next batch, so N concurrent appenders cost about two syncs, not N (group commit, as in
// InnoDB's and PostgreSQL's log writers). The leader of every group is this dedicated fiber, not
// one of the appenders: File operations honour the calling fiber's cancellation, and an appender
// that is cancelled (its client went away) must not leave a write or sync half-known for all the
// others. A cancelled appender gets Cancelled; its record may still become durable, like any
// operation that timed out. Memory: the pending buffer holds what was submitted and not yet
// written; the engine bounds it (it waits before submitting past limits::kWalMaxPendingBytes).
//
// Syncs. kAlways: every batch. kEverySec: a second background fiber syncs at most once a second
// while something written is not yet synced (Redis's everysec: it runs beside the writer, so an
// append never waits for the periodic sync). kNo: only Sync(), and the end of a segment. A
// finished segment is DataSynced before its successor is created, in every mode (kNo pays one
// sync per segment_bytes): so only the active segment can hold unsynced records, which bounds
// Sync() and recovery's repair to one file. Syncs never overlap: a later fsync may "succeed"
// after a failed one without writing anything, so no success may overlap or follow a failure. A new
// segment's name is made durable (SyncDir) before any record in it is written.
//
// Failure is final (the fsyncgate lesson). After a failed fsync Linux may drop the dirty pages and
// a later fsync reports success without writing them; after a failed write the file's contents
// are unknown. So the first failed write, sync, segment creation or directory sync fails the log:
// that Append and every later one return the error until the log is reopened, and reopening
// recovers from what is really on disk.
//
// Recovery (wal_recovery.cc). Segments are read in LSN order. Records must carry consecutive
// LSNs starting at the one in the segment's name; the first torn record, bad checksum or
// unexpected LSN ends the log. A segment must start right after the previous one ends, or at or
// below from_lsn: when the caller's checkpoint is ahead of the log (kEverySec lost its tail, or a
// RemoveBefore was only partly durable) the next LSN becomes from_lsn, a gap no later replay needs
// because from_lsn never goes back. So what is replayed is always a gapless run from from_lsn.
// Then the directory is repaired before anything new is written:
//   - the last segment holding intact records is rewritten: its intact prefix is copied (and
//     checked again) to "<name>.tmp", DataSynced and renamed over it. Its bytes were read back,
//     but they may be page-cache contents of a process that died after a failed fsync, which will
//     never reach the disk. Appending after them would let a later crash punch a hole that hides
//     every acknowledged record behind it (the ping-pong simulation workload found exactly this).
//     Earlier segments were synced before their successors were created, so they are durable,
//     and the cost of the copy is bounded by one segment;
//   - segments after the end of the log are renamed to "<name>.dropped" (kept for an operator;
//     left in place, their stale records would come back once new LSNs reach theirs), or removed
//     when empty or when the newest segment has no intact record at all (a torn tail, like the
//     one the rewrite cuts off);
//   - the directory is synced, then a new segment named after the next LSN is created (so new
//     appends never share a file with recovered bytes) and the directory synced again.
//
// Rejected: truncating the torn tail and appending to the recovered segment (the fsyncgate hole
// above); an appender as group-commit leader (cancellation, above). Not yet: preallocated
// segments (an fdatasync of an overwrite skips the file-size journal commit of an append); to be
// measured with tierkv-bench before adopted.
#include "tiers/wal.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <utility>

#include "core/assert.h"
#include "core/limits.h"
#include "core/sync.h"
#include "tiers/wal_internal.h"

namespace tierkv::tiers {
namespace {

using wal_internal::Segment;

std::span<const std::byte> AsBytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// The log's state, shared by the handle its owner holds and the background fibers, so that a
// handle dropped without Close() lets them finish and exit instead of running on freed memory.
class WalCore {
 public:
  WalCore(Env& env, WalOptions options, wal_internal::RecoveredLog recovered)
      : env_(env),
        executor_(env.CurrentExecutor()),
        options_(std::move(options)),
        segments_(std::move(recovered.segments)),
        active_(std::move(recovered.active)),
        next_lsn_(recovered.next_lsn),
        written_lsn_(recovered.next_lsn - 1),
        durable_lsn_(recovered.next_lsn - 1),
        last_periodic_sync_(executor_.Now()),
        work_(executor_),
        syncer_wake_(executor_),
        progress_(executor_),
        remove_mutex_(executor_),
        sync_mutex_(executor_) {
    TK_ASSERT(active_ != nullptr && !segments_.empty());
    TK_ASSERT(segments_.back().first_lsn == next_lsn_);
    stats_.syncs = recovered.syncs;
  }

  // Starts the writer (and, in kEverySec, the periodic syncer); they keep `self` alive.
  void Start(const std::shared_ptr<WalCore>& self) {
    TK_ASSERT(self.get() == this);
    // A fiber that never ran can still be entered while its executor is torn down (a crash right
    // after Open): Boost.Context's ucontext backend, which the sanitizer build uses, runs the
    // body of an unstarted fiber it destroys instead of unwinding it. Nothing to do then.
    writer_ = executor_.Spawn("wal-writer", [self] {
      if (!self->executor_.shutting_down()) self->WriterLoop();
    });
    if (options_.mode == SyncMode::kEverySec) {
      syncer_ = executor_.Spawn("wal-syncer", [self] {
        if (!self->executor_.shutting_down()) self->SyncerLoop();
      });
    }
  }

  Result<uint64_t> Submit(std::string_view payload) {
    AssertOwner();
    if (payload.size() > limits::kWalMaxPayloadBytes) {
      return Err(StatusCode::kInvalidArgument,
                 fmt::format("wal record of {} bytes exceeds the limit of {}", payload.size(),
                             limits::kWalMaxPayloadBytes));
    }
    if (!failed_.ok()) return Err(failed_);
    if (closing_) return Err(StatusCode::kClosed, "wal " + options_.dir + " is closed");
    TK_ASSERT(durable_lsn_ <= written_lsn_ && written_lsn_ < next_lsn_);
    uint64_t lsn = next_lsn_++;
    wal_internal::EncodeRecord(pending_, lsn, payload);
    work_.NotifyOne();
    return lsn;
  }

  Status Await(uint64_t lsn) {
    AssertOwner();
    TK_ASSERT(lsn < next_lsn_);
    return WaitFor(lsn, /*durable=*/options_.mode == SyncMode::kAlways);
  }

  uint64_t done_lsn() const {
    return options_.mode == SyncMode::kAlways ? durable_lsn_ : written_lsn_;
  }
  const Status& failure() const { return failed_; }
  uint64_t pending_bytes() const { return pending_.size(); }

  Status Sync() {
    AssertOwner();
    if (!failed_.ok()) return failed_;
    uint64_t target = next_lsn_ - 1;
    if (durable_lsn_ >= target) return Status::Ok();
    if (writer_.done()) return Status(StatusCode::kClosed, "wal " + options_.dir + " is closed");
    sync_target_ = std::max(sync_target_, target);
    work_.NotifyOne();
    return WaitFor(target, /*durable=*/true);
  }

  Status RemoveBefore(uint64_t lsn) {
    AssertOwner();
    MutexLock lock(remove_mutex_);  // one remover at a time: each pops the front it removed
    TK_RETURN_IF_ERROR(lock.status());
    bool removed = false;
    // Segment i holds lsns below segment i+1's first; the active (last) segment always stays.
    while (segments_.size() >= 2 && segments_[1].first_lsn <= lsn) {
      Status status = env_.RemoveFile(segments_.front().path);
      if (!status.ok() && status.code() != StatusCode::kNotFound) return status;
      segments_.pop_front();
      removed = true;
    }
    return removed ? env_.SyncDir(options_.dir) : Status::Ok();
  }

  Status Close() {
    AssertOwner();
    Shutdown();
    for (FiberHandle* fiber : {&writer_, &syncer_}) {
      if (fiber->valid()) TK_RETURN_IF_ERROR(fiber->Join());
    }
    active_.reset();
    return failed_;
  }

  // The handle is going away (possibly while its executor is torn down): ask the fibers to finish
  // and exit. Never suspends.
  void Shutdown() {
    closing_ = true;
    work_.NotifyOne();
    syncer_wake_.NotifyOne();
  }

  uint64_t next_lsn() const { return next_lsn_; }

  WalStats stats() const {
    WalStats stats = stats_;
    stats.segments = segments_.size();
    return stats;
  }

 private:
  void AssertOwner() {
    TK_ASSERT_MSG(&env_.CurrentExecutor() == &executor_,
                  "a Wal is used only from fibers of the executor that opened it");
  }

  // Suspends until `lsn` is durable (or only written, when `durable` is false), the log fails or
  // the caller is cancelled.
  Status WaitFor(uint64_t lsn, bool durable) {
    while (true) {
      if ((durable ? durable_lsn_ : written_lsn_) >= lsn) return Status::Ok();
      if (!failed_.ok()) return failed_;
      TK_ASSERT_MSG(!writer_.done(), "wal writer exited with records still pending");
      WakeReason reason = progress_.Wait();
      if (reason != WakeReason::kWoken) {
        return WakeStatus(reason,
                          fmt::format("wal wait for lsn {} (it may still become durable)", lsn));
      }
    }
  }

  // The one fiber that writes: batches, syncs asked for, segment changes. Never cancelled.
  void WriterLoop() {
    while (failed_.ok()) {
      if (SyncWanted()) {
        if (!SyncActive().ok()) break;
      } else if (!pending_.empty()) {
        if (!FlushPending().ok()) break;
      } else if (closing_) {
        break;
      } else {
        (void)work_.Wait(kNoDeadline, /*interruptible=*/false);
      }
    }
    progress_.NotifyAll();
  }

  // A Sync() caller waits for records already written, or Close() wants the final sync.
  bool SyncWanted() const {
    if (written_lsn_ == durable_lsn_) return false;
    bool asked = sync_target_ > durable_lsn_ && written_lsn_ >= sync_target_;
    bool final_sync = closing_ && pending_.empty() && options_.mode != SyncMode::kNo;
    return asked || final_sync;
  }

  // kEverySec: syncs at most once a second while written records are not durable.
  void SyncerLoop() {
    while (failed_.ok() && !closing_) {
      if (written_lsn_ == durable_lsn_) {
        (void)syncer_wake_.Wait(kNoDeadline, /*interruptible=*/false);
        continue;
      }
      TimePoint due = last_periodic_sync_ + limits::kWalEverySecInterval;
      if (executor_.Now() < due) {
        (void)syncer_wake_.Wait(due, /*interruptible=*/false);
        continue;
      }
      last_periodic_sync_ = executor_.Now();
      if (!SyncActive().ok()) break;
    }
  }

  Status FlushPending() {
    TK_ASSERT(!pending_.empty());
    batch_.clear();
    batch_.swap(pending_);
    const uint64_t first = written_lsn_ + 1, last = next_lsn_ - 1;
    TK_ASSERT(first <= last);
    if (active_bytes_ > 0 && active_bytes_ >= options_.segment_bytes) {
      TK_RETURN_IF_ERROR(RollOver(first));
    }
    Status status = active_->Write(active_bytes_, AsBytes(batch_));
    if (!status.ok()) return Fail(status);
    // The syncer may have failed the log meanwhile: then nothing is acknowledged any more.
    if (!failed_.ok()) return failed_;
    bool was_clean = written_lsn_ == durable_lsn_;
    active_bytes_ += batch_.size();
    written_lsn_ = last;
    stats_.records += last - first + 1;
    stats_.bytes += batch_.size();
    if (batch_.capacity() > limits::kWalBatchBufferKeepBytes) batch_ = std::string();
    if (options_.mode == SyncMode::kAlways) return SyncActive();
    if (was_clean) syncer_wake_.NotifyOne();
    progress_.NotifyAll();
    return Status::Ok();
  }

  // Finishes the active segment (synced, see the design comment) and starts one whose first
  // record is `first_lsn`, with a durable name. Suspends.
  Status RollOver(uint64_t first_lsn) {
    if (written_lsn_ > durable_lsn_) TK_RETURN_IF_ERROR(SyncActive());
    Segment segment{first_lsn, JoinPath(options_.dir, wal_internal::SegmentName(first_lsn))};
    auto file = env_.OpenFile(segment.path, {.create = true, .exclusive = true});
    if (!file) return Fail(file.error());
    Status status = env_.SyncDir(options_.dir);
    if (!status.ok()) return Fail(status);
    segments_.push_back(std::move(segment));
    active_ = std::move(*file);
    active_bytes_ = 0;
    return Status::Ok();
  }

  // DataSyncs the active segment; everything written before the call becomes durable. Called by
  // the writer and the syncer, one at a time: after a failed fsync a later one may succeed without
  // writing anything, so a success must never overlap or follow a failure. Suspends.
  Status SyncActive() {
    MutexLock lock(sync_mutex_);  // the writer and the syncer are never cancelled
    TK_ASSERT(lock.status().ok());
    if (!failed_.ok()) return failed_;
    uint64_t covered = written_lsn_;
    if (covered == durable_lsn_) return Status::Ok();  // the sync waited for covered it
    std::shared_ptr<File> file = active_;  // kept alive if the writer rolls over meanwhile
    Status status = file->DataSync();
    stats_.syncs++;
    if (!status.ok()) return Fail(status);
    durable_lsn_ = std::max(durable_lsn_, covered);
    progress_.NotifyAll();
    return Status::Ok();
  }

  Status Fail(const Status& cause) {
    if (failed_.ok()) {
      failed_ = Status(cause.code(), "wal " + options_.dir + " failed: " + cause.message());
      executor_.log().Error("{}; no record is accepted until the log is reopened",
                            failed_.message());
    }
    progress_.NotifyAll();
    work_.NotifyOne();
    syncer_wake_.NotifyOne();
    return failed_;
  }

  Env& env_;
  Executor& executor_;
  const WalOptions options_;
  std::deque<Segment> segments_;  // live segments, oldest first; the last one is active
  std::shared_ptr<File> active_;  // shared: the syncer may be syncing it while the writer rolls
  uint64_t active_bytes_ = 0;     // bytes written to the active segment
  uint64_t next_lsn_;             // lsn of the next Append
  uint64_t written_lsn_;          // every record up to this one is written
  uint64_t durable_lsn_;          // every record up to this one is synced
  uint64_t sync_target_ = 0;      // Sync() callers wait for durable_lsn_ to reach this
  std::string pending_;           // encoded records written_lsn_+1 .. next_lsn_-1
  std::string batch_;             // the batch being written (its buffer is reused)
  Status failed_;                 // the first write or sync error; Ok while healthy
  bool closing_ = false;
  TimePoint last_periodic_sync_;
  WalStats stats_;
  WaitQueue work_;         // the writer waits here for records or sync requests
  WaitQueue syncer_wake_;  // the syncer waits here for unsynced records or the next second
  WaitQueue progress_;     // appenders and Sync() wait here for written/durable lsns
  Mutex remove_mutex_;
  Mutex sync_mutex_;
  FiberHandle writer_;
  FiberHandle syncer_;
};

class WalHandle final : public Wal {
 public:
  explicit WalHandle(std::shared_ptr<WalCore> core) : core_(std::move(core)) {}
  ~WalHandle() override { core_->Shutdown(); }

  Result<uint64_t> Submit(std::string_view payload) override { return core_->Submit(payload); }
  Status Await(uint64_t lsn) override { return core_->Await(lsn); }
  uint64_t done_lsn() const override { return core_->done_lsn(); }
  const Status& failure() const override { return core_->failure(); }
  uint64_t pending_bytes() const override { return core_->pending_bytes(); }
  Status Sync() override { return core_->Sync(); }
  Status RemoveBefore(uint64_t lsn) override { return core_->RemoveBefore(lsn); }
  uint64_t next_lsn() const override { return core_->next_lsn(); }
  WalStats stats() const override { return core_->stats(); }
  Status Close() override { return core_->Close(); }

 private:
  std::shared_ptr<WalCore> core_;
};

}  // namespace

Result<std::unique_ptr<Wal>> Wal::Open(Env& env, WalOptions options, uint64_t from_lsn,
                                       const ReplayFn& replay) {
  TK_ASSERT(!options.dir.empty());
  TK_ASSERT(options.segment_bytes > 0);
  from_lsn = std::max<uint64_t>(from_lsn, 1);  // lsns start at 1; 0 also means "everything"
  auto recovered = wal_internal::Recover(env, options, from_lsn, replay);
  if (!recovered) return Err(recovered.error());
  auto core = std::make_shared<WalCore>(env, std::move(options), std::move(*recovered));
  core->Start(core);
  return std::make_unique<WalHandle>(std::move(core));
}

}  // namespace tierkv::tiers
