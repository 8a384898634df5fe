// Simulated files: every operation suspends for a seeded latency and then applies to the node's
// SimDisk in a world event (so a crash in between loses the operation), with injected errors from
// the world's fault budget. Direct-I/O alignment is checked exactly as production does.
#include <algorithm>

#include "core/aligned_buffer.h"
#include "core/assert.h"
#include "sim/sim_env.h"

namespace tierkv::sim {
namespace {

constexpr Duration kReadMin = microseconds(20), kReadMax = microseconds(120);
constexpr Duration kWriteMin = microseconds(10), kWriteMax = microseconds(60);
constexpr Duration kSyncMin = microseconds(100), kSyncMax = microseconds(4000);
constexpr Duration kMetaMin = microseconds(5), kMetaMax = microseconds(50);


class SimFile final : public File {
 public:
  SimFile(SimEnv& env, std::shared_ptr<SimInode> inode, std::string path, bool direct,
          bool read_only)
      : env_(env), inode_(std::move(inode)), path_(std::move(path)), direct_(direct),
        read_only_(read_only) {}

  Result<size_t> Read(uint64_t offset, std::span<std::byte> buf, Deadline deadline) override {
    if (direct_) TK_RETURN_IF_ERROR_R(CheckDirectIo(path_, offset, buf.data(), buf.size()));
    auto inode = inode_;
    SimDisk* disk = &env_.node().disk();
    World* world = &env_.world();
    std::string path = path_;
    size_t length = buf.size();
    // The bytes are copied into `buf` by this fiber after the wait, never by the event: a caller
    // that timed out may already have freed its buffer.
    auto bytes = env_.Await<std::vector<std::byte>>(
        env_.DiskLatency(kReadMin, kReadMax), EventKind::kDiskOp,
        [=]() -> Result<std::vector<std::byte>> {
          if (world->InjectFault(world->faults().disk_error_probability,
                                 world->disk_error_budget())) {
            return Err(StatusCode::kIoError, "read " + path + ": Input/output error (injected)");
          }
          std::vector<std::byte> out(length);
          out.resize(disk->Read(*inode, offset, out));
          return out;
        },
        deadline);
    if (!bytes) return Err(bytes.error());
    std::copy(bytes->begin(), bytes->end(), buf.begin());
    return bytes->size();
  }

  Status Write(uint64_t offset, std::span<const std::byte> data, Deadline deadline) override {
    if (read_only_) return Status(StatusCode::kInvalidArgument, "write " + path_ + ": read-only");
    if (direct_) TK_RETURN_IF_ERROR(CheckDirectIo(path_, offset, data.data(), data.size()));
    auto inode = inode_;
    SimDisk* disk = &env_.node().disk();
    World* world = &env_.world();
    std::string path = path_;
    // Copy now: the caller may reuse its buffer once Write returns, even on timeout.
    auto bytes = std::make_shared<std::vector<std::byte>>(data.begin(), data.end());
    auto result = env_.Await<bool>(
        env_.DiskLatency(kWriteMin, kWriteMax), EventKind::kDiskOp,
        [=]() -> Result<bool> {
          if (world->InjectFault(world->faults().disk_error_probability,
                                 world->disk_error_budget())) {
            return Err(StatusCode::kIoError, "write " + path + ": Input/output error (injected)");
          }
          Status status = disk->Write(*inode, offset, *bytes);
          if (!status.ok()) return Err(Status(status.code(), "write " + path + ": " + status.message()));
          return true;
        },
        deadline);
    return result ? Status::Ok() : result.error();
  }

  Status Sync(Deadline deadline) override { return DoSync(deadline); }
  Status DataSync(Deadline deadline) override { return DoSync(deadline); }

  Status Truncate(uint64_t size) override {
    auto inode = inode_;
    SimDisk* disk = &env_.node().disk();
    auto result = env_.Await<bool>(env_.DiskLatency(kMetaMin, kMetaMax), EventKind::kDiskOp,
                                   [=]() -> Result<bool> {
                                     disk->Truncate(*inode, size);
                                     return true;
                                   });
    return result ? Status::Ok() : result.error();
  }

  Result<uint64_t> Size() override { return inode_->data.size(); }
  const std::string& path() const override { return path_; }

 private:
  Status DoSync(Deadline deadline) {
    auto inode = inode_;
    SimDisk* disk = &env_.node().disk();
    World* world = &env_.world();
    std::string path = path_;
    auto result = env_.Await<bool>(
        env_.DiskLatency(kSyncMin, kSyncMax), EventKind::kDiskOp,
        [=]() -> Result<bool> {
          if (world->InjectFault(world->faults().disk_error_probability,
                                 world->disk_error_budget())) {
            disk->FailSync(*inode);
            return Err(StatusCode::kIoError, "fsync " + path + ": Input/output error (injected)");
          }
          disk->Sync(*inode);
          return true;
        },
        deadline);
    return result ? Status::Ok() : result.error();
  }

  SimEnv& env_;
  std::shared_ptr<SimInode> inode_;
  std::string path_;
  bool direct_;
  bool read_only_;
};

}  // namespace

Result<std::unique_ptr<File>> SimEnv::OpenFile(const std::string& path, const OpenOptions& options) {
  SimDisk* disk = &node_.disk();
  auto inode = Await<std::shared_ptr<SimInode>>(
      DiskLatency(kMetaMin, kMetaMax), EventKind::kDiskOp, [=]() {
        return disk->Open(path, options.create, options.exclusive, options.truncate);
      });
  if (!inode) return Err(inode.error());
  return std::make_unique<SimFile>(*this, *inode, path, options.direct, options.read_only);
}

Status SimEnv::RenameFile(const std::string& from, const std::string& to) {
  SimDisk* disk = &node_.disk();
  auto result = Await<bool>(DiskLatency(kMetaMin, kMetaMax), EventKind::kDiskOp,
                            [=]() -> Result<bool> {
                              TK_RETURN_IF_ERROR_R(disk->Rename(from, to));
                              return true;
                            });
  return result ? Status::Ok() : result.error();
}

Status SimEnv::RemoveFile(const std::string& path) {
  SimDisk* disk = &node_.disk();
  auto result = Await<bool>(DiskLatency(kMetaMin, kMetaMax), EventKind::kDiskOp,
                            [=]() -> Result<bool> {
                              TK_RETURN_IF_ERROR_R(disk->Remove(path));
                              return true;
                            });
  return result ? Status::Ok() : result.error();
}

Result<std::vector<std::string>> SimEnv::ListDir(const std::string& path) {
  SimDisk* disk = &node_.disk();
  return Await<std::vector<std::string>>(DiskLatency(kMetaMin, kMetaMax), EventKind::kDiskOp,
                                         [=]() { return disk->List(path); });
}

Status SimEnv::CreateDir(const std::string& path) {
  SimDisk* disk = &node_.disk();
  auto result = Await<bool>(DiskLatency(kMetaMin, kMetaMax), EventKind::kDiskOp,
                            [=]() -> Result<bool> {
                              if (disk->Exists(path) && disk->List(path)) return true;
                              TK_RETURN_IF_ERROR_R(disk->CreateDir(path));
                              return true;
                            });
  return result ? Status::Ok() : result.error();
}

Status SimEnv::SyncDir(const std::string& path) {
  SimDisk* disk = &node_.disk();
  auto result = Await<bool>(DiskLatency(kSyncMin, kSyncMax), EventKind::kDiskOp,
                            [=]() -> Result<bool> {
                              if (!disk->List(path)) {
                                return Err(StatusCode::kNotFound, "fsync directory " + path);
                              }
                              disk->SyncDir(path);
                              return true;
                            });
  return result ? Status::Ok() : result.error();
}

Result<bool> SimEnv::Exists(const std::string& path) {
  SimDisk* disk = &node_.disk();
  return Await<bool>(DiskLatency(kMetaMin, kMetaMax), EventKind::kDiskOp,
                     [=]() -> Result<bool> { return disk->Exists(path); });
}

namespace {

class SimFileLock final : public FileLock {
 public:
  SimFileLock(std::shared_ptr<std::set<std::string>> locks, std::string path)
      : locks_(std::move(locks)), path_(std::move(path)) {}
  ~SimFileLock() override { locks_->erase(path_); }

 private:
  std::shared_ptr<std::set<std::string>> locks_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<FileLock>> SimEnv::LockFile(const std::string& path) {
  // The file exists afterwards, as with flock; the lock itself is the process's, not the disk's.
  auto inode = node_.disk().Open(path, /*create=*/true, /*exclusive=*/false, /*truncate=*/false);
  if (!inode) return Err(inode.error());
  if (!locks_->insert(path).second) {
    return Err(StatusCode::kBusy, path + " is locked by another process or engine");
  }
  return std::unique_ptr<FileLock>(new SimFileLock(locks_, path));
}

}  // namespace tierkv::sim
