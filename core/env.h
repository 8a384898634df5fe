// The Env: tierkv's one seam to the outside world (LevelDB's Env, FoundationDB's INetwork).
//
// Everything that touches time, files, persistent memory, sockets, threads or randomness goes
// through an Env passed explicitly to the code that needs it. There are two implementations:
//   io/   production: one io_uring per executor thread, libpmem2, TCP, the real clocks;
//   sim/  deterministic simulation: many nodes and all their executors in one OS thread, virtual
//         time, a simulated disk/PMem/network with faults, one PRNG seeded from one seed.
// An Env is one node (process). It owns ExecutorCount() executors (shard threads).
//
// Suspension: a method marked "Suspends" parks the calling fiber (never the thread) and must be
// called from a fiber of one of this Env's executors; other fibers of that executor run meanwhile.
// Objects returned (File, Socket, Listener, PmemRegion) belong to the executor that created them
// and are used only from its fibers, except where a method says it is thread-safe.
// Failure: methods return Status/Result; they never throw and never abort on bad input.
// Timeouts and cancellation: every network wait takes a Deadline; file operations honour a
// Deadline and fiber cancellation too (an operation that timed out may or may not have happened).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/executor.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/status.h"
#include "core/time_point.h"

namespace tierkv {

// ---------------------------------------------------------------------------------------------
// Files

struct OpenOptions {
  bool create = false;     // create if missing
  bool exclusive = false;  // with create: fail with AlreadyExists if present
  bool truncate = false;   // truncate to zero length on open
  bool read_only = false;
  // O_DIRECT: bypass the OS page cache. Buffers, offsets and lengths must be multiples of
  // limits::kDirectIoAlignment, else the operation fails with InvalidArgument (before any I/O).
  bool direct = false;
};

class File {
 public:
  virtual ~File() = default;  // closes the file (without syncing)

  // Reads up to buf.size() bytes at `offset`. Suspends. Returns the bytes read: fewer only at end
  // of file, 0 at or past it. Errors: InvalidArgument (misaligned direct I/O), IoError, TimedOut,
  // Cancelled.
  virtual Result<size_t> Read(uint64_t offset, std::span<std::byte> buf,
                              Deadline deadline = kNoDeadline) = 0;
  // Writes all of `data` at `offset`, extending the file if needed. Suspends. The bytes are not
  // durable until Sync/DataSync returns Ok. Errors: InvalidArgument, IoError, NoSpace, TimedOut,
  // Cancelled (a failed write may have written a prefix).
  virtual Status Write(uint64_t offset, std::span<const std::byte> data,
                       Deadline deadline = kNoDeadline) = 0;
  // Makes every write that returned before this call durable, with the file size (fsync).
  // Suspends. An error means durability is unknown: treat the file's unsynced tail as lost.
  virtual Status Sync(Deadline deadline = kNoDeadline) = 0;
  // Like Sync but may skip metadata not needed to read the data back (fdatasync).
  virtual Status DataSync(Deadline deadline = kNoDeadline) = 0;
  // Sets the file size; durable after the next Sync. Suspends.
  virtual Status Truncate(uint64_t size) = 0;
  // Current size including unsynced writes. Suspends.
  virtual Result<uint64_t> Size() = 0;
  virtual const std::string& path() const = 0;
};

// A lock taken with Env::LockFile; destroying it releases the lock.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// ---------------------------------------------------------------------------------------------
// Persistent memory

// A file mapped into memory. Stores through data() reach persistence only when a Persist (or
// Flush then Drain) covering them returns; after a crash, unpersisted cache lines may hold old,
// new or torn contents. On a non-DAX file production falls back to msync (page granularity).
class PmemRegion {
 public:
  virtual ~PmemRegion() = default;  // unmaps (without persisting)
  virtual std::byte* data() = 0;
  virtual uint64_t size() const = 0;
  // Flushes [offset, offset+length) and waits for it to be persistent. Never suspends (it may
  // block the thread for an msync on non-DAX files). Thread-safe for disjoint ranges.
  virtual void Persist(uint64_t offset, uint64_t length) = 0;
  // Starts flushing a range; persistent after the next Drain(). Never suspends.
  virtual void Flush(uint64_t offset, uint64_t length) = 0;
  virtual void Drain() = 0;
  // True when the mapping is real persistent memory (DAX); false on an ordinary file.
  virtual bool is_pmem() const = 0;
};

// ---------------------------------------------------------------------------------------------
// Network

struct NetAddress {
  std::string host;  // production: an IPv4/IPv6 literal or "localhost"; simulation: a node name
  uint16_t port = 0;
  std::string ToString() const;
};

class Socket {
 public:
  virtual ~Socket() = default;  // closes (orderly) if still open

  // Reads up to buf.size() bytes. Suspends until at least one byte, end of stream, an error or
  // the deadline. Returns bytes read; 0 means the peer closed its side (orderly end of stream).
  // Errors: ConnectionReset, Closed (this side closed), TimedOut, Cancelled, IoError.
  virtual Result<size_t> Read(std::span<std::byte> buf, Deadline deadline = kNoDeadline) = 0;
  // Writes all of `data`. Suspends until the bytes are handed to the network (not until the peer
  // read them). Errors as Read; a failed write may have sent a prefix. One reader fiber and one
  // writer fiber may use a socket at the same time.
  virtual Status Write(std::span<const std::byte> data, Deadline deadline = kNoDeadline) = 0;
  // Orderly close: the peer reads end of stream after the bytes already written. Idempotent.
  virtual void Close() = 0;
  // Abortive close: the peer's pending and future reads fail with ConnectionReset.
  virtual void Reset() = 0;
  // "host:port" of the peer.
  virtual std::string PeerAddress() const = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;  // stops listening
  // Suspends until a connection arrives. Errors: Closed, TimedOut, Cancelled, IoError.
  virtual Result<std::unique_ptr<Socket>> Accept(Deadline deadline = kNoDeadline) = 0;
  // The bound address (with the real port when 0 was asked for).
  virtual NetAddress LocalAddress() const = 0;
  // Makes pending and future Accepts fail with Closed. Idempotent.
  virtual void Close() = 0;
};

struct ListenOptions {
  // Several executors of THIS node may listen on one port; the kernel (or simulator) spreads
  // connections among them. Another process already listening there still gets Busy.
  bool reuse_port = false;
  int backlog = limits::kListenBacklog;
};

// ---------------------------------------------------------------------------------------------
// The Env

class Env {
 public:
  virtual ~Env() = default;

  // --- identity and logging ---
  virtual const std::string& NodeName() const = 0;
  // A Log for `shard` of this node (time from this Env's clock).
  virtual Log MakeLog(int shard) const = 0;

  // --- clock (thread-safe, never suspend) ---
  virtual const Clock& clock() const = 0;
  TimePoint Now() const { return clock().Now(); }

  // --- executors and messages ---
  virtual int ExecutorCount() const = 0;
  virtual Executor& GetExecutor(int index) = 0;
  // The executor running the caller. Asserts when called from a thread that is not one.
  virtual Executor& CurrentExecutor() = 0;
  // Runs `fn` in a new fiber on executor `to`. Thread-safe, never suspends. Messages from one
  // executor to another run in the order they were posted.
  virtual void Post(int to, std::function<void()> fn) = 0;

  // --- randomness (thread-safe, never suspends) ---
  virtual uint64_t RandomU64() = 0;

  // --- memory ---
  // Hands free heap memory back to the OS (production: glibc's malloc_trim; nothing in the
  // simulator). For after dropping many small allocations at once (a memtable), which otherwise
  // stay in the heap as fragmented free space and hold RSS above the memory budget. Costs a walk
  // of the heap's free chunks; never suspends.
  virtual void ReleaseFreeMemory() {}

  // --- files: all suspend unless stated ---
  virtual Result<std::unique_ptr<File>> OpenFile(const std::string& path,
                                                 const OpenOptions& options) = 0;
  // Atomically replaces `to` with `from`. Durable after SyncDir of the directory.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // NotFound if missing. Durable after SyncDir.
  virtual Status RemoveFile(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, sorted. NotFound if missing.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // Creates a directory; Ok if it already exists. Durable after SyncDir of the parent.
  virtual Status CreateDir(const std::string& path) = 0;
  // Makes creations, renames and removals of entries in `path` durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // Whether a file or directory exists.
  virtual Result<bool> Exists(const std::string& path) = 0;
  // Takes an exclusive advisory lock on `path` (created if missing), held until the returned
  // object is destroyed or the process ends (a crash releases it). Busy when another process, or
  // another holder in this one, has it: two engines must never share a directory. Never suspends.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;

  // --- persistent memory ---
  // Maps `path` (created and sized to `size` bytes if missing; an existing file must have that
  // size). Contents are whatever was persisted before. Errors: IoError, InvalidArgument.
  virtual Result<std::unique_ptr<PmemRegion>> MapPmem(const std::string& path, uint64_t size) = 0;

  // --- network (suspend) ---
  virtual Result<std::unique_ptr<Listener>> Listen(const NetAddress& address,
                                                   const ListenOptions& options) = 0;
  // Errors: ConnectionRefused, Unreachable, TimedOut, Cancelled, IoError.
  virtual Result<std::unique_ptr<Socket>> Connect(const NetAddress& address,
                                                  Deadline deadline = kNoDeadline) = 0;

  // --- lifecycle ---
  // Suspends until the node is asked to stop gracefully (SIGINT/SIGTERM in production; a
  // scheduled stop in simulation). Returns Ok then, or Cancelled.
  virtual Status WaitForStopRequest() = 0;
  // Ends WaitForStopRequest as a signal would (SHUTDOWN). Thread-safe, never suspends.
  virtual void RequestStop() = 0;
};

// Joins a directory and a name with one '/'.
std::string JoinPath(std::string_view dir, std::string_view name);
// The directory part of a path ("." when there is none).
std::string DirName(std::string_view path);

}  // namespace tierkv
