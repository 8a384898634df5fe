// What a snapshot pins: the tree of one checkpoint plus the memtables on top of it. Internal to
// the engine (engine.cc, engine_checkpoint.cc, engine_iterator.cc).
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "tiers/btree.h"
#include "tiers/memtable.h"

namespace tierkv::tiers {

// Pages made obsolete by each checkpoint, oldest first. The pages checkpoint g+1 stopped using
// belong to tree g and possibly to older trees (shared, unchanged subtrees), so they may be
// reused only once tree g and every older tree are dead (no snapshot references them). The
// engine releases entries from the front at safe points (never from a destructor).
struct FreeList {
  struct Entry {
    uint64_t generation;      // the superseded tree
    std::vector<PageRun> runs;
    bool dead = false;        // that tree's last reference is gone
  };
  std::deque<Entry> entries;
};

// Owns a checkpoint's tree; marks its free-list entry dead when the last Version goes.
struct TreeHolder {
  TreeRoot tree;
  uint64_t generation = 0;
  std::weak_ptr<FreeList> free_list;
  ~TreeHolder() {
    auto list = free_list.lock();
    if (!list) return;
    for (FreeList::Entry& entry : list->entries) {
      if (entry.generation == generation) entry.dead = true;
    }
  }
};

struct Version {
  std::shared_ptr<TreeHolder> tree;
  std::shared_ptr<Memtable> active;                     // mutable; readers filter by sequence
  std::vector<std::shared_ptr<const Memtable>> frozen;  // newest first
};

}  // namespace tierkv::tiers
