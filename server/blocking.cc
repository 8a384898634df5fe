// Blocking commands (BLPOP, BLMOVE, BZPOPMIN...): parking clients on keys and serving them in
// arrival order.
//
// A blocking handler that finds nothing calls Ctx::Block; the dispatcher then parks the client
// on each key's owner (the shard's wait list for that key, first come first) while the command
// still holds its locks, so a push that follows cannot be missed, and the client's fiber waits
// on its home executor. A command that changes a key with waiters marks it ready
// (Server::KeyChanged); once that command has released its locks, the owner serves the waiters
// of its ready keys in order: it claims the first (an atomic flag, so a deadline or a departure
// racing with it is settled once), re-runs its command there with the command's own locks, and
// sends the reply home; when the command finds nothing again (another client took the element
// first) the waiter stays first in line and the key stops being served. A command whose keys
// span shards is not re-run by an owner (it would need other shards' locks): the owner wakes the
// home, which re-runs it through the dispatcher and parks it again if needed.
// Redis serves blocked clients right after the command that pushed, before any other command;
// here a command already queued on the key's lock may run first. Order among blocked clients is
// Redis's.
#include <algorithm>

#include "core/assert.h"
#include "server/server.h"

namespace tierkv::server {

using net::ReplyWriter;

BlockedPtr Server::NewBlocked(const CommandSpec& spec, const std::vector<std::string>& args,
                              const ClientState& client, int home, bool single_shard,
                              LockIds lock_ids) {
  auto blocked = std::make_shared<BlockedClient>();
  blocked->spec = &spec;
  blocked->args = args;
  blocked->db = client.db;
  blocked->protocol = client.protocol;
  blocked->home = home;
  blocked->single_shard = single_shard;
  blocked->lock_ids = std::move(lock_ids);
  return blocked;
}

void Server::Park(const BlockedPtr& blocked, const std::vector<std::string>& keys) {
  ExecutorState& state = local();
  const int here = env_.CurrentExecutor().index();
  for (const std::string& key : keys) {
    if (shards_.OwnerOf(key) != here) continue;
    std::deque<BlockedPtr>& waiters = state.blocked[LockId(blocked->db, key)];
    if (std::find(waiters.begin(), waiters.end(), blocked) == waiters.end()) {
      waiters.push_back(blocked);
    }
  }
}

void Server::ParkEverywhere(const BlockedPtr& blocked, const std::vector<std::string>& keys) {
  std::vector<int> owners;
  for (const std::string& key : keys) {
    const int owner = shards_.OwnerOf(key);
    if (std::find(owners.begin(), owners.end(), owner) == owners.end()) owners.push_back(owner);
  }
  for (int owner : owners) {
    Result<bool> parked = shards_.RunOn<bool>(
        owner,
        [this, &blocked, &keys](Shard&) -> Result<bool> {
          Park(blocked, keys);
          return true;
        },
        /*interruptible=*/false);
    TK_ASSERT(parked.has_value());
  }
}

void Server::WakeHome(const BlockedPtr& blocked, BlockedClient::Wake wake) {
  blocked->wake = wake;
  PostTracked(blocked->home, [blocked] {
    blocked->woken = true;
    if (blocked->waiter != nullptr) blocked->waiter->Complete(0);
  });
}

void Server::ServeBlocked() {
  ExecutorState& state = local();
  // One pass at a time per executor: a second caller's ready keys are served by the running pass.
  if (state.serving_blocked || state.ready.empty()) return;
  state.serving_blocked = true;
  while (!state.ready.empty()) {  // bounded: every waiter is served, dropped, or stops its key
    const std::string id = std::move(state.ready.back());
    state.ready.pop_back();
    while (true) {
      auto it = state.blocked.find(id);
      if (it == state.blocked.end()) break;
      if (it->second.empty()) {
        state.blocked.erase(it);
        break;
      }
      BlockedPtr waiter = it->second.front();
      if (waiter->claimed.exchange(true)) {  // answered already (deadline, departure, a shard)
        it->second.pop_front();
        continue;
      }
      if (!waiter->single_shard) {
        it->second.pop_front();
        WakeHome(waiter, BlockedClient::Wake::kRetry);
        continue;
      }
      state.locks.Lock(waiter->lock_ids);
      std::string out;
      ReplyWriter writer(out, waiter->protocol);
      RunResult run = RunHere(*waiter->spec, waiter->args, writer, waiter->db, nullptr, true);
      state.locks.Unlock(waiter->lock_ids);
      if (run.block) {
        // Nothing for it after all: it keeps its place, and this key has nothing for anyone.
        waiter->claimed.store(false);
        if (waiter->abandoned.load() && !waiter->claimed.exchange(true)) {
          WakeHome(waiter, BlockedClient::Wake::kTimedOut);
        }
        break;
      }
      it = state.blocked.find(id);  // the run suspended: the table may have changed
      if (it != state.blocked.end()) std::erase(it->second, waiter);
      waiter->reply = std::move(out);
      waiter->durability = std::move(run.durability);
      WakeHome(waiter, BlockedClient::Wake::kServed);
    }
  }
  state.serving_blocked = false;
}

void Server::WaitBlocked(const CommandSpec& spec, ClientState& client,
                         std::vector<std::string>& args, ReplyWriter& reply,
                         Server::DispatchResult parked) {
  ExecutorState& state = local();
  state.blocked_clients++;
  Executor& executor = env_.CurrentExecutor();
  auto wait = [&](Deadline deadline, bool interruptible) {
    Completion done(executor);
    parked.blocked->waiter = &done;
    WakeReason reason = parked.blocked->woken ? WakeReason::kWoken : done.Wait(deadline, interruptible);
    parked.blocked->waiter = nullptr;
    return reason;
  };
  auto write_timeout = [&] {
    if (parked.on_timeout == Ctx::TimeoutReply::kNullArray) {
      reply.NullArray();
    } else {
      reply.NullBulk();
    }
  };
  while (true) {  // bounded by the deadline: each pass ends parked again, answered, or gone
    const BlockedPtr blocked = parked.blocked;
    WakeReason reason = wait(parked.deadline, true);
    if (reason != WakeReason::kWoken) {
      blocked->abandoned.store(true);
      if (!blocked->claimed.exchange(true)) {
        if (reason == WakeReason::kTimedOut) write_timeout();
        break;
      }
      // An owner is serving it right now: its answer (or its giving up) comes shortly.
      while (!blocked->woken) (void)wait(kNoDeadline, false);
    }
    if (blocked->wake == BlockedClient::Wake::kServed) {
      client.durability.Merge(blocked->durability);
      reply.out() += blocked->reply;
      break;
    }
    if (blocked->wake == BlockedClient::Wake::kTimedOut || blocked->abandoned.load()) {
      write_timeout();
      break;
    }
    // kRetry: a key of a multi-shard command changed; run it again, with its deadline.
    const Deadline deadline = parked.deadline;
    DispatchResult again = Dispatch(spec, client, args, reply, false);
    if (!again.blocked) break;
    parked = std::move(again);
    parked.deadline = deadline;
  }
  state.blocked_clients--;
}

}  // namespace tierkv::server
