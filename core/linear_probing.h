// Deletion from an open-addressing table with linear probing, without tombstones: the entries
// after the hole in its run move back unless a probe for them would still find them (their home
// slot lies cyclically within (hole, their position]). Used by the row cache and the node
// cache's page index.
#pragma once

#include <cstddef>
#include <vector>

namespace tierkv {

// Empties `table[hole]` and closes the gap. `table.size()` is a power of two; `empty(slot)`
// tells an unused slot, `home(slot)` the index a used slot's probe starts at; Slot{} is empty.
template <typename Slot, typename Alloc, typename Empty, typename Home>
void BackwardShiftErase(std::vector<Slot, Alloc>& table, size_t hole, Empty empty, Home home) {
  const size_t mask = table.size() - 1;
  table[hole] = Slot{};
  for (size_t next = (hole + 1) & mask; !empty(table[next]); next = (next + 1) & mask) {
    const size_t start = home(table[next]);
    const bool stays = hole <= next ? (hole < start && start <= next) : (hole < start || start <= next);
    if (stays) continue;
    table[hole] = table[next];
    table[next] = Slot{};
    hole = next;
  }
}

}  // namespace tierkv
