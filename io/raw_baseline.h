// Plain blocking syscalls, used only by benchmarks as the baseline the production Env is
// compared against in the same run (pread/pwrite/fdatasync on one thread, no io_uring).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/status.h"

namespace tierkv::io {

class RawFile {
 public:
  static Result<RawFile> Open(const std::string& path, bool direct);
  RawFile(RawFile&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ~RawFile();
  Status Read(uint64_t offset, std::span<std::byte> buf);
  Status Write(uint64_t offset, std::span<const std::byte> data);
  Status DataSync();

 private:
  explicit RawFile(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace tierkv::io
