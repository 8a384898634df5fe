// A node's client-facing server: one listener per executor on a shared port, one fiber per
// connection.
//
// Every executor listens on the same address with SO_REUSEPORT (Env ListenOptions::reuse_port),
// so the kernel (or the simulator) spreads connections over the shard threads and no thread hands
// sockets to another. Each executor owns its listener, its accept fiber and its connection fibers;
// ServeNode, on executor 0, reaches the others only with Env::Post messages. Executor 0 listens
// first so that a port of 0 (tests) is resolved once and every executor then binds the same real
// port.
// Shutdown: when Env::WaitForStopRequest returns, each executor closes its listener and cancels
// and joins its accept and connection fibers; ServeNode returns after all have acknowledged.
// Rejected: one acceptor thread handing sockets out (a cross-thread hop per connection, and a
// Socket belongs to the executor that created it).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/env.h"
#include "core/status.h"
#include "server/config.h"
#include "tiers/engine.h"

namespace tierkv::server {

struct NodeOptions {
  std::string bind = "127.0.0.1";  // numeric address (or "localhost")
  uint16_t port = 6379;            // 0: any free port, reported through on_listening
  std::string dir = ".";           // data directory (must exist)
  // The settings in force (databases, requirepass, maxclients...; CONFIG GET shows them).
  Config config;
  // The storage engine options of shard `shard` of `shards`; unset: EngineOptionsForShard(config,
  // ...) with the engine directories under `dir`. ServeNode opens one engine per executor
  // (server/shards.h) once it listens and closes them (a final checkpoint each) after the last
  // connection ended.
  std::function<tiers::EngineOptions(int shard, int shards)> engine_options;
  // Called on executor 0 once every executor listens, with the bound port. Optional.
  std::function<void(uint16_t port)> on_listening;
};

// Serves clients until the Env's stop request, then closes listeners and connections (and the
// shards' engines) and returns Ok. Returns an error without serving when the data cannot be opened
// (the message starts with "data in <dir>") or an executor cannot listen (e.g. Busy: the address
// is in use). Must be called from a fiber on executor 0. Suspends.
Status ServeNode(Env& env, const NodeOptions& options);

}  // namespace tierkv::server
