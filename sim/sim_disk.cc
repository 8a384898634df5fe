#include "sim/sim_disk.h"

#include <algorithm>
#include <cstring>

#include "core/assert.h"
#include "core/env.h"
#include "core/limits.h"

namespace tierkv::sim {
namespace {

constexpr uint64_t kSector = limits::kSimSectorBytes;

}  // namespace

bool SimDisk::DirExists(const std::string& dir) const { return dirs_.contains(dir); }

Result<std::shared_ptr<SimInode>> SimDisk::Open(const std::string& path, bool create,
                                                bool exclusive, bool truncate) {
  if (dirs_.contains(path)) return Err(StatusCode::kInvalidArgument, "open " + path + ": is a directory");
  auto it = names_.find(path);
  if (it == names_.end()) {
    if (!create) return Err(StatusCode::kNotFound, "open " + path + ": No such file or directory");
    if (!DirExists(DirName(path))) {
      return Err(StatusCode::kNotFound, "open " + path + ": No such file or directory");
    }
    it = names_.emplace(path, std::make_shared<SimInode>()).first;
  } else if (create && exclusive) {
    return Err(StatusCode::kAlreadyExists, "open " + path + ": File exists");
  }
  if (truncate) Truncate(*it->second, 0);
  return it->second;
}

Status SimDisk::Rename(const std::string& from, const std::string& to) {
  auto it = names_.find(from);
  if (it == names_.end()) return Status(StatusCode::kNotFound, "rename " + from + ": No such file");
  if (!DirExists(DirName(to))) return Status(StatusCode::kNotFound, "rename to " + to + ": No such directory");
  std::shared_ptr<SimInode> inode = it->second;
  names_.erase(it);
  names_[to] = std::move(inode);
  return Status::Ok();
}

Status SimDisk::Remove(const std::string& path) {
  if (names_.erase(path) == 0) return Status(StatusCode::kNotFound, "remove " + path + ": No such file");
  return Status::Ok();
}

Result<std::vector<std::string>> SimDisk::List(const std::string& dir) const {
  if (!DirExists(dir)) return Err(StatusCode::kNotFound, "list " + dir + ": No such directory");
  std::vector<std::string> out;
  for (const auto& [path, inode] : names_) {
    if (DirName(path) == dir) out.push_back(path.substr(path.rfind('/') + 1));
  }
  for (const std::string& sub : dirs_) {
    if (sub != dir && DirName(sub) == dir) out.push_back(sub.substr(sub.rfind('/') + 1));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status SimDisk::CreateDir(const std::string& path) {
  if (names_.contains(path)) return Status(StatusCode::kAlreadyExists, "mkdir " + path + ": is a file");
  if (!DirExists(DirName(path))) return Status(StatusCode::kNotFound, "mkdir " + path + ": no parent");
  dirs_.insert(path);
  return Status::Ok();
}

void SimDisk::SyncDir(const std::string& dir) {
  for (auto it = durable_names_.begin(); it != durable_names_.end();) {
    if (DirName(it->first) == dir && !names_.contains(it->first)) {
      it = durable_names_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [path, inode] : names_) {
    if (DirName(path) == dir) durable_names_[path] = inode;
  }
}

bool SimDisk::Exists(const std::string& path) const {
  return names_.contains(path) || dirs_.contains(path);
}

size_t SimDisk::Read(const SimInode& inode, uint64_t offset, std::span<std::byte> buf) const {
  if (offset >= inode.data.size()) return 0;
  size_t n = std::min<uint64_t>(buf.size(), inode.data.size() - offset);
  std::memcpy(buf.data(), inode.data.data() + offset, n);
  return n;
}

Status SimDisk::Write(SimInode& inode, uint64_t offset, std::span<const std::byte> data) {
  if (data.empty()) return Status::Ok();
  uint64_t end = offset + data.size();
  if (end > inode.data.size() && used_bytes() + (end - inode.data.size()) > capacity_bytes_) {
    return Status(StatusCode::kNoSpace, "write: No space left on device");
  }
  if (end > inode.data.size()) inode.data.resize(end);
  std::memcpy(inode.data.data() + offset, data.data(), data.size());
  for (uint64_t sector = offset / kSector; sector * kSector < end; sector++) {
    inode.dirty_sectors.insert(sector);
  }
  return Status::Ok();
}

void SimDisk::Truncate(SimInode& inode, uint64_t size) {
  uint64_t old_size = inode.data.size();
  inode.data.resize(size);
  // The sector holding the new end changed (zeroes past the end) when shrinking mid-sector.
  if (size < old_size && size % kSector != 0) inode.dirty_sectors.insert(size / kSector);
  std::erase_if(inode.dirty_sectors, [&](uint64_t sector) { return sector * kSector >= size; });
}

void SimDisk::Sync(SimInode& inode) {
  if (inode.durable.size() < inode.data.size()) inode.durable.resize(inode.data.size());
  for (uint64_t sector : inode.dirty_sectors) {
    uint64_t begin = sector * kSector;
    if (begin >= inode.data.size()) continue;
    uint64_t n = std::min<uint64_t>(kSector, inode.data.size() - begin);
    std::memcpy(inode.durable.data() + begin, inode.data.data() + begin, n);
  }
  inode.dirty_sectors.clear();
  inode.durable.resize(inode.data.size());
  inode.durable_size = inode.data.size();
}

void SimDisk::FailSync(SimInode& inode) {
  // Linux marks the pages clean after a failed writeback: the data never reaches the disk, and
  // nothing will retry it.
  inode.dirty_sectors.clear();
}

void SimDisk::Crash(Prng& prng) {
  names_ = durable_names_;
  std::set<SimInode*> seen;
  for (auto& [path, inode] : names_) {
    if (!seen.insert(inode.get()).second) continue;
    uint64_t size = inode->durable_size;
    std::vector<std::byte> result = inode->durable;
    result.resize(std::max<uint64_t>(size, inode->data.size()));
    for (uint64_t sector : inode->dirty_sectors) {
      uint64_t begin = sector * kSector;
      if (begin >= inode->data.size() || !prng.Chance(0.5)) continue;  // dropped
      uint64_t n = std::min<uint64_t>(kSector, inode->data.size() - begin);
      std::memcpy(result.data() + begin, inode->data.data() + begin, n);
      size = std::max(size, begin + n);
    }
    result.resize(size);
    inode->data = result;
    inode->durable = std::move(result);
    inode->durable_size = size;
    inode->dirty_sectors.clear();
  }
}

uint64_t SimDisk::used_bytes() const {
  uint64_t total = 0;
  for (const auto& [path, inode] : names_) total += inode->data.size();
  return total;
}

uint64_t SimDisk::unsynced_sectors() const {
  uint64_t total = 0;
  for (const auto& [path, inode] : names_) total += inode->dirty_sectors.size();
  return total;
}

}  // namespace tierkv::sim
