// Production persistent memory through libpmem2. On a DAX file persist is a cache-line flush plus
// fence; on an ordinary file libpmem2 reports page granularity and persist falls back to msync,
// which is correct (and slower), so the same code runs with or without real PMem.
#include <fcntl.h>
#include <libpmem2.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/assert.h"
#include "io/prod_env.h"

namespace tierkv::io {
namespace {

Status PmemError(const std::string& what) {
  return Status(StatusCode::kIoError, what + ": " + pmem2_errormsg());
}

class ProdPmemRegion final : public PmemRegion {
 public:
  ProdPmemRegion(int fd, pmem2_map* map) : fd_(fd), map_(map) {
    data_ = static_cast<std::byte*>(pmem2_map_get_address(map_));
    size_ = pmem2_map_get_size(map_);
    persist_ = pmem2_get_persist_fn(map_);
    flush_ = pmem2_get_flush_fn(map_);
    drain_ = pmem2_get_drain_fn(map_);
    is_pmem_ = pmem2_map_get_store_granularity(map_) != PMEM2_GRANULARITY_PAGE;
  }
  ~ProdPmemRegion() override {
    pmem2_map_delete(&map_);
    close(fd_);
  }

  std::byte* data() override { return data_; }
  uint64_t size() const override { return size_; }
  void Persist(uint64_t offset, uint64_t length) override {
    TK_ASSERT(offset + length <= size_);
    persist_(data_ + offset, length);
  }
  void Flush(uint64_t offset, uint64_t length) override {
    TK_ASSERT(offset + length <= size_);
    flush_(data_ + offset, length);
  }
  void Drain() override { drain_(); }
  bool is_pmem() const override { return is_pmem_; }

 private:
  int fd_;
  pmem2_map* map_;
  std::byte* data_ = nullptr;
  uint64_t size_ = 0;
  pmem2_persist_fn persist_ = nullptr;
  pmem2_flush_fn flush_ = nullptr;
  pmem2_drain_fn drain_ = nullptr;
  bool is_pmem_ = false;
};

}  // namespace

Result<std::unique_ptr<PmemRegion>> ProdEnv::MapPmem(const std::string& path, uint64_t size) {
  if (size == 0) return Err(StatusCode::kInvalidArgument, "pmem region of size 0: " + path);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Err(ErrnoStatus(errno, "open pmem " + path));
  struct stat st{};
  fstat(fd, &st);
  if (st.st_size == 0) {
    int rc = posix_fallocate(fd, 0, static_cast<off_t>(size));
    if (rc != 0) {
      close(fd);
      return Err(ErrnoStatus(rc, "allocate pmem " + path));
    }
  } else if (static_cast<uint64_t>(st.st_size) != size) {
    close(fd);
    return Err(StatusCode::kInvalidArgument,
               "pmem file " + path + " has size " + std::to_string(st.st_size) + ", expected " +
                   std::to_string(size));
  }
  pmem2_config* config = nullptr;
  pmem2_source* source = nullptr;
  pmem2_map* map = nullptr;
  Status status;
  if (pmem2_config_new(&config) != 0) {
    status = PmemError("pmem2 config");
  } else if (pmem2_source_from_fd(&source, fd) != 0) {
    status = PmemError("pmem2 source " + path);
  } else if (pmem2_config_set_required_store_granularity(config, PMEM2_GRANULARITY_PAGE) != 0) {
    status = PmemError("pmem2 granularity");
  } else if (pmem2_map_new(&map, config, source) != 0) {
    status = PmemError("pmem2 map " + path);
  }
  if (source) pmem2_source_delete(&source);
  if (config) pmem2_config_delete(&config);
  if (!status.ok()) {
    close(fd);
    return Err(status);
  }
  return std::make_unique<ProdPmemRegion>(fd, map);
}

}  // namespace tierkv::io
