// Every limit in tierkv, in one place, each with the reason for its value.
#pragma once

#include <cstddef>
#include <chrono>
#include <cstdint>

namespace tierkv::limits {

// --- Fibers and executors ---

// Stack of each fiber. Connection fibers parse RESP and run commands without deep recursion;
// 256 KiB leaves room for spdlog/fmt formatting and sanitizer redzones. Stacks are mmapped with a
// guard page, so untouched pages cost no RSS.
inline constexpr std::size_t kFiberStackBytes = 256 * 1024;
// Upper bound on executors (shard threads) per node: far above any core count we target, low
// enough that per-executor arrays stay small.
inline constexpr int kMaxExecutors = 256;
// Fibers one executor runs between two polls of its I/O backend, so a busy executor still reaps
// completions and cross-thread messages regularly (bounded latency, TigerBeetle "bound every loop").
inline constexpr int kMaxFibersPerTick = 1024;

// --- Files and direct I/O ---

// Direct I/O alignment for buffers, offsets and lengths: the logical block size of every NVMe and
// SATA SSD we target is 512 or 4096; requiring 4096 works on both.
inline constexpr std::size_t kDirectIoAlignment = 4096;
// Sector size of the simulated disk: the unit a crash tears at (real devices guarantee atomic
// 512-byte sector writes at best, and most guarantee 4 KiB atomic writes only with special support).
inline constexpr std::size_t kSimSectorBytes = 512;
// Cache-line size for simulated PMem: the unit in which unpersisted stores are lost or torn.
inline constexpr std::size_t kPmemCacheLineBytes = 64;

// --- io_uring ---

// Submission queue entries per executor ring. Each connection has at most a few operations in
// flight; 4096 bounds memory (~256 KiB of rings) and covers thousands of connections per thread.
inline constexpr unsigned kUringEntries = 4096;

// --- Network / RESP (values from Redis 7.0 so clients see the same limits) ---

// Redis PROTO_INLINE_MAX_SIZE: an inline command line longer than this is a protocol error.
inline constexpr std::size_t kMaxInlineRequestBytes = 64 * 1024;
// Redis 7.0 answers "invalid multibulk length" only above INT_MAX elements (checked against
// redis-server 7.0.15, which accepts *2000000). Memory stays bounded anyway: the parser reserves
// at most kMaxMultibulkReserve argument slots up front and grows only with bytes received, and
// the whole query buffer is capped by kClientQueryBufferLimit.
inline constexpr int64_t kMaxMultibulkLength = 2147483647;
// Argument slots reserved up front for a multibulk request (Redis reserves at most 1024 too).
inline constexpr int64_t kMaxMultibulkReserve = 1024;
// Redis proto-max-bulk-len default (512 MB): a larger bulk is "invalid bulk length".
inline constexpr int64_t kProtoMaxBulkLen = 512LL * 1024 * 1024;
// Redis client-query-buffer-limit default (1 GB): the most unparsed input kept for one client.
inline constexpr std::size_t kClientQueryBufferLimit = 1024ULL * 1024 * 1024;
// Replies of a pipeline are sent once this many bytes are pending, before the next command of the
// batch runs: a client that pipelines many large reads costs the server at most this much plus
// one reply (Redis's reply buffers grow unbounded for normal clients unless
// client-output-buffer-limit says otherwise; here the socket write applies back-pressure).
inline constexpr std::size_t kReplyFlushBytes = 64 * 1024;
// Out-of-band bytes (pub/sub messages, MONITOR lines) queued for one client when its
// client-output-buffer-limit class sets no limit (Redis's "normal 0 0 0"): a monitor that stops
// reading is disconnected here instead of growing without bound.
inline constexpr std::size_t kMaxPushQueueBytes = 64 * 1024 * 1024;
// Bytes read from a socket per read call: 16 KiB is Redis's PROTO_IOBUF_LEN.
inline constexpr std::size_t kSocketReadChunkBytes = 16 * 1024;
// Pending connection backlog for listeners (Redis tcp-backlog default 511).
inline constexpr int kListenBacklog = 511;
// After a failed accept that is not a shutdown (e.g. out of file descriptors), wait this long
// before the next, so a persistent error neither spins the executor nor floods the log, while a
// transient one costs clients little.
inline constexpr std::chrono::milliseconds kAcceptRetryDelay{10};

// --- Write-ahead log (tiers/wal.cc) ---

// Largest payload of one WAL record. The engine logs one command (or one transaction) per record,
// and one command never exceeds a client's query buffer, so the same bound applies; recovery
// reads a record whole, so this also bounds the memory replay of one record needs (and it fits
// the record's u32 length field).
inline constexpr std::size_t kWalMaxPayloadBytes = kClientQueryBufferLimit;
// Recovery reads segments in chunks of this size: large enough that per-read cost is negligible
// against sequential SSD bandwidth (a few hundred reads per 64 MiB segment), small enough that
// recovery's memory stays flat however big the log is.
inline constexpr std::size_t kWalReadChunkBytes = 1024 * 1024;
// Recovery of a large log logs its progress every this many bytes read: at SSD speeds a line
// every second or so, and nothing at all for the small logs of tests and fresh nodes.
inline constexpr uint64_t kWalRecoveryProgressBytes = 256ULL * 1024 * 1024;
// The WAL writer reuses its batch buffer when it is at most this big; a larger one (a huge record)
// is freed after its write, so one big value does not pin its memory for the life of the log.
// 4 MiB holds the batches of thousands of ordinary appenders.
inline constexpr std::size_t kWalBatchBufferKeepBytes = 4 * 1024 * 1024;
// Records submitted and not yet written stay in the WAL's pending buffer; past this many bytes a
// writer waits for the log to catch up before it submits more (back-pressure: the engine applies
// a write at once and the server waits for its durability only before replying, so a client
// pipelining big writes could otherwise pile them up in memory). 64 MiB is a few hundred
// milliseconds of a fast SSD's write bandwidth, and one big record always gets in.
inline constexpr std::size_t kWalMaxPendingBytes = 64 * 1024 * 1024;
// appendfsync everysec: the background fiber's period (Redis's everysec is one second).
inline constexpr std::chrono::milliseconds kWalEverySecInterval{1000};

// --- Simulation ---

// Events one simulation run may execute before it is declared stuck (a livelock is a bug, and a
// bounded loop keeps a broken seed from hanging CI).
inline constexpr uint64_t kSimMaxEvents = 50'000'000;

}  // namespace tierkv::limits
