// Recovery of the write-ahead log: scan the segments, replay intact records, repair the
// directory, open a fresh segment. Why each step is there is in wal.cc's design comment; this
// file is the mechanics: a chunked segment reader, the record scanner, and the repair steps.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <functional>
#include <span>
#include <vector>

#include "core/assert.h"
#include "core/limits.h"
#include "core/xxh64_pieces.h"
#include "tiers/wal_internal.h"

namespace tierkv::tiers::wal_internal {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the WAL record format is little-endian and written with memcpy");

constexpr std::string_view kSegmentPrefix = "wal-";
constexpr std::string_view kSegmentSuffix = ".log";
constexpr size_t kSegmentLsnDigits = 20;
// A segment being rewritten by recovery; a leftover one is an interrupted rewrite.
constexpr std::string_view kRewriteSuffix = ".tmp";
// A segment recovery could not use (after the end of the log); kept for an operator.
constexpr std::string_view kDroppedSuffix = ".dropped";

struct RecordHeader {
  uint32_t length;
  uint32_t reserved;
  uint64_t lsn;
  uint64_t checksum;
};
static_assert(sizeof(RecordHeader) == kRecordHeaderBytes);

std::span<const std::byte> AsBytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

double Mebibytes(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// Sequential reader of one segment in chunks of limits::kWalReadChunkBytes; a record larger than
// a chunk gets a buffer of its own size.
class SegmentReader {
 public:
  SegmentReader(File& file, uint64_t size) : file_(file), size_(size) {}

  uint64_t offset() const { return offset_; }
  uint64_t remaining() const { return size_ - offset_; }
  const std::byte* data() const { return buffer_.data() + begin_; }

  // Makes `n` bytes from offset() available at data(). Suspends. False when the file holds
  // fewer (including a file that shrank while being read).
  Result<bool> Ensure(size_t n) {
    if (end_ - begin_ >= n) return true;
    if (remaining() < n) return false;
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buffer_.size() < n) buffer_.resize(std::max(n, limits::kWalReadChunkBytes));
    while (end_ < n) {
      uint64_t position = offset_ + end_;
      size_t want = std::min<uint64_t>(buffer_.size() - end_, size_ - position);
      auto got = file_.Read(position, std::span(buffer_.data() + end_, want));
      if (!got) return Err(got.error());
      if (*got == 0) return false;
      end_ += *got;
    }
    return true;
  }

  void Advance(size_t n) {
    TK_ASSERT(n <= end_ - begin_);
    begin_ += n;
    offset_ += n;
  }

 private:
  File& file_;
  const uint64_t size_;
  uint64_t offset_ = 0;  // file offset of data()
  std::vector<std::byte> buffer_;
  size_t begin_ = 0;  // buffer_[begin_, end_) holds file bytes [offset_, offset_ + end_ - begin_)
  size_t end_ = 0;
};

enum class Stop { kEnd, kTorn, kBadHeader, kBadChecksum, kUnexpectedLsn };

const char* StopName(Stop stop) {
  switch (stop) {
    case Stop::kEnd: return "end of segment";
    case Stop::kTorn: return "torn record";
    case Stop::kBadHeader: return "bad record header";
    case Stop::kBadChecksum: return "bad checksum";
    case Stop::kUnexpectedLsn: return "unexpected lsn";
  }
  TK_UNREACHABLE();
}

struct ScanResult {
  uint64_t valid_bytes = 0;  // length of the intact prefix
  uint64_t records = 0;
  uint64_t last_lsn = 0;
  Stop stop = Stop::kEnd;
};

// Called for each intact record with its lsn, payload and encoded bytes; an error aborts the scan.
using RecordFn = std::function<Status(uint64_t lsn, std::string_view payload,
                                      std::span<const std::byte> record)>;

// Scans the first `size` bytes of a segment whose first record must carry `first_lsn`, stopping
// at the first record that is torn, malformed, fails its checksum or has an unexpected lsn.
// Suspends.
Result<ScanResult> ScanSegment(File& file, uint64_t size, uint64_t first_lsn, const RecordFn& fn) {
  SegmentReader reader(file, size);
  ScanResult result;
  while (true) {
    if (reader.remaining() == 0) {
      result.stop = Stop::kEnd;
      break;
    }
    auto have = reader.Ensure(kRecordHeaderBytes);
    if (!have) return Err(have.error());
    if (!*have) {
      result.stop = Stop::kTorn;
      break;
    }
    RecordHeader header;
    std::memcpy(&header, reader.data(), sizeof(header));
    if (header.reserved != 0 || header.length > limits::kWalMaxPayloadBytes) {
      result.stop = Stop::kBadHeader;
      break;
    }
    size_t record_bytes = kRecordHeaderBytes + header.length;
    have = reader.Ensure(record_bytes);
    if (!have) return Err(have.error());
    if (!*have) {
      result.stop = Stop::kTorn;
      break;
    }
    std::string_view payload(reinterpret_cast<const char*>(reader.data()) + kRecordHeaderBytes,
                             header.length);
    if (RecordChecksum(header.lsn, payload) != header.checksum) {
      result.stop = Stop::kBadChecksum;
      break;
    }
    if (header.lsn != first_lsn + result.records) {
      result.stop = Stop::kUnexpectedLsn;
      break;
    }
    TK_RETURN_IF_ERROR_R(fn(header.lsn, payload, std::span(reader.data(), record_bytes)));
    reader.Advance(record_bytes);
    result.valid_bytes = reader.offset();
    result.records++;
    result.last_lsn = header.lsn;
  }
  TK_ASSERT(result.valid_bytes <= size);
  return result;
}

class Recovery {
 public:
  Recovery(Env& env, const WalOptions& options, uint64_t from_lsn, const Wal::ReplayFn& replay)
      : env_(env),
        log_(env.CurrentExecutor().log()),
        options_(options),
        from_lsn_(from_lsn),
        replay_(replay) {
    TK_ASSERT(from_lsn >= 1);
  }

  Result<RecoveredLog> Run() {
    auto segments = ListSegments();
    if (!segments) return Err(segments.error());
    TK_RETURN_IF_ERROR_R(Scan(*segments));
    if (!kept_.empty()) TK_RETURN_IF_ERROR_R(RewriteLastKept());
    TK_RETURN_IF_ERROR_R(DropUnusable());
    TK_RETURN_IF_ERROR_R(env_.SyncDir(options_.dir));
    TK_RETURN_IF_ERROR_R(OpenActive());
    log_.Info(
        "wal {}: {} intact records up to lsn {} in {} segments, replayed {} from lsn {}; "
        "appending at lsn {}",
        options_.dir, intact_records_, last_lsn_, kept_.size(), replayed_, from_lsn_,
        out_.next_lsn);
    return std::move(out_);
  }

 private:
  // Creates the directory if needed, removes leftovers of interrupted rewrites, and returns the
  // segments in lsn order. Suspends.
  Result<std::vector<Segment>> ListSegments() {
    auto exists = env_.Exists(options_.dir);
    if (!exists) return Err(exists.error());
    if (!*exists) {
      TK_RETURN_IF_ERROR_R(env_.CreateDir(options_.dir));
      TK_RETURN_IF_ERROR_R(env_.SyncDir(DirName(options_.dir)));
    }
    auto names = env_.ListDir(options_.dir);
    if (!names) return Err(names.error());
    std::vector<Segment> segments;
    for (const std::string& name : *names) {
      std::string_view view(name);
      if (view.ends_with(kRewriteSuffix) &&
          ParseSegmentName(view.substr(0, view.size() - kRewriteSuffix.size()))) {
        // The rewrite did not finish; the original segment is still in place.
        TK_RETURN_IF_ERROR_R(env_.RemoveFile(JoinPath(options_.dir, name)));
        continue;
      }
      if (auto first_lsn = ParseSegmentName(view)) {
        segments.push_back(Segment{*first_lsn, JoinPath(options_.dir, name)});
      }
    }
    std::sort(segments.begin(), segments.end(),
              [](const Segment& a, const Segment& b) { return a.first_lsn < b.first_lsn; });
    return segments;
  }

  // Reads segments until the end of the log; fills kept_ and dropped_. Suspends.
  Status Scan(const std::vector<Segment>& segments) {
    for (size_t i = 0; i < segments.size(); i++) {
      const Segment& segment = segments[i];
      // A segment continues the log, or starts at or below from_lsn: a gap the caller's
      // checkpoint already covers (see wal.cc).
      bool continues = segment.first_lsn > last_lsn_ &&
                       (segment.first_lsn == last_lsn_ + 1 || segment.first_lsn <= from_lsn_);
      if (!continues) {
        log_.Warn(
            "wal {}: segment {} starts at lsn {} but the log ends at lsn {}; it and {} later "
            "segments are not replayed",
            options_.dir, segment.path, segment.first_lsn, last_lsn_, segments.size() - i - 1);
        dropped_.assign(segments.begin() + i, segments.end());
        return Status::Ok();
      }
      auto file = env_.OpenFile(segment.path, {.read_only = true});
      if (!file) return file.error();
      auto size = (*file)->Size();
      if (!size) return size.error();
      auto scan = ScanSegment(
          **file, *size, segment.first_lsn,
          [&](uint64_t lsn, std::string_view payload, std::span<const std::byte> record) {
            return OnRecord(lsn, payload, record.size(), i, segments.size());
          });
      if (!scan) return scan.error();
      if (scan->records == 0) {
        // Usually the fresh segment of a run that appended nothing, or whose first write a crash
        // tore; nothing in it is usable.
        dropped_.assign(segments.begin() + i, segments.end());
        dropped_tail_only_ = i + 1 == segments.size();
        if (*size > 0 || i + 1 < segments.size()) LogStop(segment, *scan, *size, segments, i);
        return Status::Ok();
      }
      kept_.push_back(segment);
      last_lsn_ = scan->last_lsn;
      last_kept_valid_bytes_ = scan->valid_bytes;
      if (scan->stop != Stop::kEnd) {
        LogStop(segment, *scan, *size, segments, i);
        dropped_.assign(segments.begin() + i + 1, segments.end());
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

  Status OnRecord(uint64_t lsn, std::string_view payload, size_t record_bytes, size_t segment,
                  size_t segments) {
    intact_records_++;
    bytes_read_ += record_bytes;
    if (bytes_read_ >= next_progress_bytes_) {
      next_progress_bytes_ += limits::kWalRecoveryProgressBytes;
      log_.Info("wal {}: recovery read {:.0f} MiB, at lsn {} (segment {} of {})", options_.dir,
                Mebibytes(bytes_read_), lsn, segment + 1, segments);
    }
    if (lsn < from_lsn_) return Status::Ok();
    TK_ASSERT(replayed_ == 0 ? lsn == from_lsn_ : lsn == last_replayed_ + 1);
    last_replayed_ = lsn;
    replayed_++;
    return replay_(lsn, payload);
  }

  void LogStop(const Segment& segment, const ScanResult& scan, uint64_t size,
               const std::vector<Segment>& segments, size_t index) {
    size_t later = segments.size() - index - 1;
    // A torn tail of the newest segment (short, or sectors of zeroes or old bytes: a bad
    // checksum) is what a crash during an append leaves: expected. Anything else is damage.
    auto level = later == 0 ? spdlog::level::info : spdlog::level::warn;
    log_.Write(level,
               "wal {}: {} in {} at offset {} after lsn {}; ignoring {} bytes and {} later "
               "segments",
               options_.dir, StopName(scan.stop), segment.path, scan.valid_bytes, last_lsn_,
               size - scan.valid_bytes, later);
  }

  // Copies the intact prefix of the last kept segment to a new file, syncs it and renames it
  // over the segment, checking the records again on the way. Suspends.
  Status RewriteLastKept() {
    const Segment& segment = kept_.back();
    std::string temporary = segment.path + std::string(kRewriteSuffix);
    {
      auto source = env_.OpenFile(segment.path, {.read_only = true});
      if (!source) return source.error();
      auto size = (*source)->Size();
      if (!size) return size.error();
      auto target = env_.OpenFile(temporary, {.create = true, .truncate = true});
      if (!target) return target.error();
      std::string chunk;
      uint64_t written = 0;
      auto flush = [&]() -> Status {
        TK_RETURN_IF_ERROR((*target)->Write(written, AsBytes(chunk)));
        written += chunk.size();
        chunk.clear();
        return Status::Ok();
      };
      auto scan =
          ScanSegment(**source, std::min(*size, last_kept_valid_bytes_), segment.first_lsn,
                      [&](uint64_t, std::string_view, std::span<const std::byte> record) -> Status {
                        chunk.append(reinterpret_cast<const char*>(record.data()), record.size());
                        return chunk.size() >= limits::kWalReadChunkBytes ? flush() : Status::Ok();
                      });
      if (!scan) return scan.error();
      TK_RETURN_IF_ERROR(flush());
      if (scan->valid_bytes != last_kept_valid_bytes_ || scan->last_lsn != last_lsn_) {
        return Status(StatusCode::kCorruption,
                      fmt::format("wal segment {} changed while recovery read it: {} intact bytes "
                                  "up to lsn {}, then {} up to lsn {}",
                                  segment.path, last_kept_valid_bytes_, last_lsn_,
                                  scan->valid_bytes, scan->last_lsn));
      }
      TK_ASSERT(written == last_kept_valid_bytes_);
      TK_RETURN_IF_ERROR((*target)->DataSync());
      out_.syncs++;
    }
    return env_.RenameFile(temporary, segment.path);
  }

  // Moves segments after the end of the log out of the way, so their records can never reappear
  // behind new ones. A newest segment without one intact record is a torn tail, like the tail a
  // rewrite cuts off, and is removed, as are empty ones; segments behind damage are renamed aside
  // for an operator. Durable after the next SyncDir. Suspends.
  Status DropUnusable() {
    for (const Segment& segment : dropped_) {
      auto file = env_.OpenFile(segment.path, {.read_only = true});
      if (!file) return file.error();
      auto size = (*file)->Size();
      if (!size) return size.error();
      file->reset();
      if (*size == 0 || dropped_tail_only_) {
        TK_RETURN_IF_ERROR(env_.RemoveFile(segment.path));
        continue;
      }
      std::string aside = segment.path + std::string(kDroppedSuffix);
      log_.Warn("wal {}: renaming unusable segment {} to {}", options_.dir, segment.path, aside);
      TK_RETURN_IF_ERROR(env_.RenameFile(segment.path, aside));
    }
    return Status::Ok();
  }

  // Creates the segment new records go to and makes its name durable. Suspends.
  Status OpenActive() {
    out_.next_lsn = std::max(last_lsn_ + 1, from_lsn_);
    Segment active{out_.next_lsn, JoinPath(options_.dir, SegmentName(out_.next_lsn))};
    auto file = env_.OpenFile(active.path, {.create = true, .exclusive = true});
    if (!file) return file.error();
    TK_RETURN_IF_ERROR(env_.SyncDir(options_.dir));
    out_.segments.assign(kept_.begin(), kept_.end());
    out_.segments.push_back(std::move(active));
    out_.active = std::move(*file);
    return Status::Ok();
  }

  Env& env_;
  const Log log_;
  const WalOptions& options_;
  const uint64_t from_lsn_;
  const Wal::ReplayFn& replay_;
  std::vector<Segment> kept_;       // segments holding the log, oldest first
  std::vector<Segment> dropped_;    // segments after its end
  bool dropped_tail_only_ = false;  // dropped_ is just the newest segment, torn at its start
  uint64_t last_lsn_ = 0;           // lsn of the last intact record; 0 when none
  uint64_t last_kept_valid_bytes_ = 0;
  uint64_t intact_records_ = 0;
  uint64_t replayed_ = 0;
  uint64_t last_replayed_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t next_progress_bytes_ = limits::kWalRecoveryProgressBytes;
  RecoveredLog out_;
};

}  // namespace

// XXH64 over the LSN's 8 bytes, then the payload's (docs/format.md).
uint64_t RecordChecksum(uint64_t lsn, std::string_view payload) {
  return Xxh64Pieces({std::as_bytes(std::span(&lsn, 1)), std::as_bytes(std::span(payload))});
}

void EncodeRecord(std::string& out, uint64_t lsn, std::string_view payload) {
  TK_ASSERT(payload.size() <= limits::kWalMaxPayloadBytes);
  RecordHeader header{static_cast<uint32_t>(payload.size()), 0, lsn, RecordChecksum(lsn, payload)};
  out.append(reinterpret_cast<const char*>(&header), sizeof(header));
  out.append(payload);
}

std::string SegmentName(uint64_t first_lsn) {
  return fmt::format("{}{:0{}}{}", kSegmentPrefix, first_lsn, kSegmentLsnDigits, kSegmentSuffix);
}

std::optional<uint64_t> ParseSegmentName(std::string_view name) {
  if (name.size() != kSegmentPrefix.size() + kSegmentLsnDigits + kSegmentSuffix.size() ||
      !name.starts_with(kSegmentPrefix) || !name.ends_with(kSegmentSuffix)) {
    return std::nullopt;
  }
  std::string_view digits = name.substr(kSegmentPrefix.size(), kSegmentLsnDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint64_t lsn = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), lsn);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return lsn;
}

Result<RecoveredLog> Recover(Env& env, const WalOptions& options, uint64_t from_lsn,
                             const Wal::ReplayFn& replay) {
  return Recovery(env, options, from_lsn, replay).Run();
}

}  // namespace tierkv::tiers::wal_internal
