// The simulated network: TCP-like byte streams between nodes of the world.
//
// Each connection is two one-way pipes. A write becomes a chunk due at now + link latency (never
// before the previous chunk of the same pipe: bytes on one connection stay in order) and a pump
// event delivers due chunks to the reader's buffer. Links have a stable base latency chosen per
// (from, to) pair plus per-chunk jitter. A partition blocks a direction: chunks wait behind it
// (TCP retransmits) and the connection resets if it lasts longer than kPartitionResetAfter;
// connects across it fail. Resets are injected per write from the world's fault budget. A node
// crash resets its connections (the peer's next read fails).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/time_point.h"

namespace tierkv::sim {

class World;
class SimEnv;
struct ListenerState;

class SimNetwork {
 public:
  static constexpr Duration kPartitionResetAfter = seconds(5);
  static constexpr Duration kRetransmitInterval = milliseconds(200);
  static constexpr Duration kConnectTimeout = seconds(1);

  explicit SimNetwork(World& world) : world_(world) {}

  // Blocks traffic from `a` to `b` (and back when two_way).
  void Partition(const std::string& a, const std::string& b, bool two_way);
  void Heal(const std::string& a, const std::string& b);
  void HealAll() { blocked_.clear(); }
  bool Blocked(const std::string& from, const std::string& to) const {
    return blocked_.contains({from, to});
  }
  size_t partitions() const { return blocked_.size(); }
  // Base latency of the link plus jitter.
  Duration Latency(const std::string& from, const std::string& to);

  void AddListener(std::shared_ptr<ListenerState> listener);
  void RemoveListener(const ListenerState* listener);
  bool PortInUse(const std::string& host, uint16_t port, bool reuse_port) const;
  // A live listener on host:port (random among reuse_port listeners), or null.
  std::shared_ptr<ListenerState> PickListener(const std::string& host, uint16_t port);
  World& world() { return world_; }

 private:
  World& world_;
  std::set<std::pair<std::string, std::string>> blocked_;
  std::map<std::pair<std::string, std::string>, Duration> link_latency_;
  std::vector<std::shared_ptr<ListenerState>> listeners_;
};

}  // namespace tierkv::sim
