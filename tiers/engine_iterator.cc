// EngineIterator: merges the snapshot's memtables (newest first) and its tree. Every move is a
// seek from the current key ("first key > current", "last key < current") in each source, which
// stays correct while writers insert into the active memtable and while the fiber is suspended on
// tree reads. In the tree, the leaf of the last answer is kept (nodes of a snapshot's tree never
// change) and a seek that the leaf can answer does not descend from the root again. In each
// memtable, forward moves continue from where the last one stopped (MemCursor): its ordered index
// only gains keys, and a key it gains after the iterator's first seek has no version the snapshot
// sees, so no visible key can appear behind the cursor. Tombstones hide older versions and are
// skipped.
#include "core/assert.h"
#include "tiers/engine.h"
#include "tiers/version.h"

namespace tierkv::tiers {
namespace {

struct Candidate {
  std::string key;
  MaybeValue value;
};

// The nearest user key in `mode` direction with a version visible at `seq`, and that version.
// Forward, `cursor` (when valid) is where the previous forward seek in this memtable stopped, at a
// target at or before this one: the walk continues from it instead of descending the index; it is
// left at this answer.
std::optional<Candidate> MemtableSeek(const Memtable& memtable, const std::string& target,
                                      Tree::SeekMode mode, bool unbounded, uint64_t seq,
                                      EngineIterator::MemCursor& cursor) {
  const Memtable::Keys& keys = memtable.keys();
  auto visible = [&](const MemKey& key) -> std::optional<Candidate> {
    const MemVersion* version = key.Visible(seq);
    if (version == nullptr) return std::nullopt;
    ValueView value = version->view();
    return Candidate{std::string(key.key()), value ? MaybeValue(std::string(*value)) : std::nullopt};
  };
  const std::string_view at(target);
  if (mode == Tree::SeekMode::kGE || mode == Tree::SeekMode::kGT) {
    auto it = keys.end();
    if (cursor.valid && !unbounded) {
      it = cursor.at;
      const bool inclusive = mode == Tree::SeekMode::kGE;
      while (it != keys.end() && (inclusive ? it->key() < at : it->key() <= at)) ++it;
    } else {
      it = unbounded ? keys.begin()
           : mode == Tree::SeekMode::kGE ? keys.lower_bound(at, MemKeyLess())
                                         : keys.upper_bound(at, MemKeyLess());
    }
    std::optional<Candidate> found;
    while (it != keys.end() && !(found = visible(*it))) ++it;
    cursor.at = it;
    cursor.valid = true;
    return found;
  }
  auto it = unbounded ? keys.end()
            : mode == Tree::SeekMode::kLE ? keys.upper_bound(at, MemKeyLess())
                                          : keys.lower_bound(at, MemKeyLess());
  while (it != keys.begin()) {
    --it;
    if (auto found = visible(*it)) return found;
  }
  return std::nullopt;
}

}  // namespace

Status EngineIterator::SeekToFirst() { return Find("", Tree::SeekMode::kGE, true); }
Status EngineIterator::SeekToLast() { return Find("", Tree::SeekMode::kLE, true); }
Status EngineIterator::Seek(std::string_view key) { return Find(key, Tree::SeekMode::kGE, false); }
Status EngineIterator::SeekForPrev(std::string_view key) {
  return Find(key, Tree::SeekMode::kLE, false);
}
Status EngineIterator::Next() {
  TK_ASSERT(valid_);
  return Find(key_, Tree::SeekMode::kGT, false);
}
Status EngineIterator::Prev() {
  TK_ASSERT(valid_);
  return Find(key_, Tree::SeekMode::kLT, false);
}

Status EngineIterator::Find(std::string_view key, Tree::SeekMode mode, bool unbounded) {
  const Version& version = *snapshot_->version_;
  const uint64_t seq = snapshot_->seq_;
  const bool forward = mode == Tree::SeekMode::kGE || mode == Tree::SeekMode::kGT;
  auto better = [&](const std::string& a, const std::string& b) { return forward ? a < b : a > b; };
  std::string target(key);
  valid_ = false;
  // Confined to a prefix, a forward move starts at the prefix at the earliest: every key it can
  // answer then starts with the prefix, up to the first that does not (the answer is not Valid
  // then), so a memtable without a key of the prefix's first byte has nothing to add.
  const bool confined = !prefix_.empty();
  if (confined && forward && (unbounded || target < prefix_)) {
    target = prefix_;
    mode = Tree::SeekMode::kGE;
    unbounded = false;
  }
  // A backward move from above the prefix's keys starts below the prefix's successor (the
  // shortest string greater than every key that starts with the prefix; none when the prefix is
  // all 0xff bytes, and then no key lies above them), so it does not stop at a key past them.
  if (confined && !forward && (unbounded || (target > prefix_ && !target.starts_with(prefix_)))) {
    std::string successor = prefix_;
    while (!successor.empty() && static_cast<uint8_t>(successor.back()) == 0xff) successor.pop_back();
    if (!successor.empty()) {
      successor.back() = static_cast<char>(static_cast<uint8_t>(successor.back()) + 1);
      target = std::move(successor);
      mode = Tree::SeekMode::kLT;
      unbounded = false;
    }
  }
  const bool skip_memtables = confined && forward;
  auto outside = [&](const std::string& k) { return confined && !k.starts_with(prefix_); };
  // Only Next (kGT from the current key) continues from the cursors; any other move starts over.
  cursors_.resize(1 + version.frozen.size());
  if (mode != Tree::SeekMode::kGT) {
    for (MemCursor& cursor : cursors_) cursor.valid = false;
  }
  while (true) {
    std::optional<Candidate> best;
    auto consider = [&](const Memtable& memtable, MemCursor& cursor) {
      if (skip_memtables && !memtable.MayHoldFirstByte(static_cast<uint8_t>(prefix_[0]))) return;
      auto found = MemtableSeek(memtable, target, mode, unbounded, seq, cursor);
      if (found && (!best || better(found->key, best->key))) best = std::move(found);
    };
    consider(*version.active, cursors_[0]);
    for (size_t i = 0; i < version.frozen.size(); i++) consider(*version.frozen[i], cursors_[i + 1]);
    Result<std::optional<LeafEntry>> entry = std::nullopt;
    std::optional<LeafEntry> within;
    if (!unbounded && tree_leaf_ && (within = Tree::SeekWithin(*tree_leaf_, target, mode))) {
      entry = std::move(within);
    } else if (unbounded) {
      entry = forward ? engine_.tree_->First(version.tree->tree, &tree_leaf_)
                      : engine_.tree_->Last(version.tree->tree, &tree_leaf_);
    } else {
      entry = engine_.tree_->Seek(version.tree->tree, target, mode, &tree_leaf_);
    }
    if (!entry) return entry.error();
    bool from_tree = entry->has_value() && (!best || better((*entry)->key, best->key));
    if (!best && !from_tree) return Status::Ok();
    if (outside(from_tree ? (*entry)->key : best->key)) return Status::Ok();
    if (from_tree) {
      key_ = (*entry)->key;
      tree_entry_ = std::move(**entry);
      memtable_value_.reset();
      valid_ = true;
      return Status::Ok();
    }
    if (best->value) {
      key_ = std::move(best->key);
      memtable_value_ = std::move(best->value);
      valid_ = true;
      return Status::Ok();
    }
    // A tombstone: it hides this key in older sources; continue past it.
    target = std::move(best->key);
    mode = forward ? Tree::SeekMode::kGT : Tree::SeekMode::kLT;
    unbounded = false;
  }
}

Result<std::string> EngineIterator::value() {
  TK_ASSERT(valid_);
  if (memtable_value_) return *memtable_value_;
  return engine_.tree_->ReadValue(tree_entry_);
}

}  // namespace tierkv::tiers
