#include "io/raw_baseline.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "io/uring_loop.h"

namespace tierkv::io {

Result<RawFile> RawFile::Open(const std::string& path, bool direct) {
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | (direct ? O_DIRECT : 0));
  if (fd < 0) return Err(ErrnoStatus(errno, "open " + path));
  return RawFile(fd);
}

RawFile::~RawFile() {
  if (fd_ >= 0) close(fd_);
}

Status RawFile::Read(uint64_t offset, std::span<std::byte> buf) {
  ssize_t n = pread(fd_, buf.data(), buf.size(), static_cast<off_t>(offset));
  if (n < 0) return ErrnoStatus(errno, "pread");
  return Status::Ok();
}

Status RawFile::Write(uint64_t offset, std::span<const std::byte> data) {
  ssize_t n = pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
  if (n < 0) return ErrnoStatus(errno, "pwrite");
  return Status::Ok();
}

Status RawFile::DataSync() {
  if (fdatasync(fd_) != 0) return ErrnoStatus(errno, "fdatasync");
  return Status::Ok();
}

}  // namespace tierkv::io
