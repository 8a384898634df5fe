// tierkv-server: one tierkv node on the production Env.
//
//   tierkv-server [path/to/tierkv.conf] [--name value ...]
//
// As redis-server: the optional first argument is a config file (redis.conf syntax, see
// tierkv.conf and docs/config.md); `--name value` options follow and override it, later ones
// winning. The settings are server/config.h's table. `threads 0` (the default) runs one shard
// thread (executor) per core. loglevel is Redis's (debug verbose notice warning), mapped to
// spdlog's trace debug info warn.
// Exit status: 0 after a stop request, 1 when the arguments or the config file are bad, the data
// directory cannot be created or the node cannot listen (e.g. the port is in use).
// Like every program in tools/, this file may touch the OS directly (the core count, reading the
// config file before the Env exists, stderr); everything it starts goes through the Env.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "core/limits.h"
#include "io/prod_env.h"
#include "server/config.h"
#include "server/node.h"

namespace {

constexpr std::string_view kUsage =
    "usage: tierkv-server [path/to/tierkv.conf] [--name value ...]\n"
    "  e.g. tierkv-server tierkv.conf --port 6380 --dir ./data --maxmemory 1gb\n"
    "  Settings and defaults: docs/config.md (or CONFIG GET *).\n";

// The config file is read before the Env exists: the Env's executor count is one of its settings.
tierkv::Result<std::string> ReadConfigFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return tierkv::Err(tierkv::StatusCode::kNotFound, "cannot open");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return tierkv::Err(tierkv::StatusCode::kIoError, "cannot read");
  return text.str();
}

int DefaultThreads() {
  unsigned cores = std::thread::hardware_concurrency();  // 0 when unknown
  if (cores == 0) return 1;
  return static_cast<int>(std::min<unsigned>(cores, tierkv::limits::kMaxExecutors));
}

// spdlog's level for Redis's loglevel.
std::string SpdlogLevel(std::string_view redis_level) {
  if (redis_level == "debug") return "trace";
  if (redis_level == "verbose") return "debug";
  if (redis_level == "warning") return "warn";
  return "info";  // notice
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fmt::print(stdout, "{}", kUsage);
      return 0;
    }
  }
  tierkv::server::Config config;
  if (tierkv::Status loaded = config.ApplyArgs(argc, argv, ReadConfigFile); !loaded.ok()) {
    fmt::print(stderr, "tierkv-server: {}\n{}", loaded.message(), kUsage);
    return 1;
  }
  std::vector<std::string> bind = config.bind_addresses();
  if (bind.size() != 1) {
    fmt::print(stderr, "tierkv-server: bind: tierkv listens on one address for now (got {})\n",
               bind.size());
    return 1;
  }
  if (!config.String("logfile").empty()) {
    fmt::print(stderr, "tierkv-server: logfile: only standard error is supported for now\n");
    return 1;
  }
  int threads = static_cast<int>(config.Int("threads"));
  if (threads == 0) threads = DefaultThreads();
  const std::string& dir = config.String("dir");

  tierkv::io::ProdEnvOptions env_options;
  env_options.node_name = "node";
  env_options.executors = threads;
  env_options.log_level = SpdlogLevel(config.String("loglevel"));
  env_options.handle_signals = true;
  tierkv::io::ProdEnv env(env_options);

  int exit_code = 0;
  env.Run([&] {
    tierkv::Status created = env.CreateDir(dir);
    if (!created.ok()) {
      fmt::print(stderr, "tierkv-server: cannot create data directory {}: {}\n", dir,
                 created.ToString());
      exit_code = 1;
      return;
    }
    tierkv::server::NodeOptions options;
    options.bind = bind[0];
    options.port = static_cast<uint16_t>(config.Int("port"));
    options.dir = dir;
    options.config = config;
    options.engine_options = [config](int shard, int shards) {
      return tierkv::server::EngineOptionsForShard(config, shard, shards);
    };
    tierkv::Status served = tierkv::server::ServeNode(env, options);
    if (!served.ok()) {
      if (served.message().starts_with("data in ")) {
        fmt::print(stderr, "tierkv-server: cannot open the {}\n", served.message());
      } else {
        fmt::print(stderr, "tierkv-server: cannot serve on {}: {}\n",
                   tierkv::NetAddress{options.bind, options.port}.ToString(), served.ToString());
      }
      exit_code = 1;
    }
  });
  return exit_code;
}
