// tierkv-server: one tierkv node on the production Env.
//
//   tierkv-server [--port 6379] [--bind 127.0.0.1] [--threads N] [--dir ./data] [--loglevel info]
//
// Wires io::ProdEnv (io_uring, real clocks, SIGINT/SIGTERM as the stop request) into ServeNode.
// --threads defaults to the number of cores: one shard thread (executor) per core. Options also
// accept the --name=value form. Log levels are spdlog's (trace debug info warn error critical
// off); Redis's names (verbose notice warning) are accepted too.
// Exit status: 0 after a stop request, 1 when the arguments are bad, the data directory cannot
// be created or the node cannot listen (e.g. the port is in use).
// Like every program in tools/, this file may touch the OS directly (the core count, stderr);
// everything it starts goes through the Env.
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/limits.h"
#include "io/prod_env.h"
#include "server/node.h"

namespace {

constexpr std::string_view kUsage =
    "usage: tierkv-server [--port 6379] [--bind 127.0.0.1] [--threads N] [--dir ./data]\n"
    "                     [--loglevel trace|debug|info|warn|error|critical|off]\n";

struct Flags {
  uint16_t port = 6379;
  std::string bind = "127.0.0.1";
  int threads = 0;  // 0: one per core
  std::string dir = "./data";
  std::string log_level = "info";
};

std::optional<int64_t> ParseInt(std::string_view text, int64_t min, int64_t max) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// spdlog's level name for `name`, also accepting Redis's loglevel names.
std::optional<std::string> LogLevel(std::string_view name) {
  if (name == "verbose") return "debug";
  if (name == "notice") return "info";
  if (name == "warning") return "warn";
  for (std::string_view level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    if (name == level) return std::string(name);
  }
  return std::nullopt;
}

// Applies one `--name value` option; returns an error message, or an empty string.
std::string ApplyFlag(std::string_view name, std::string_view value, Flags& flags) {
  if (name == "--port") {
    auto port = ParseInt(value, 0, 65535);
    if (!port) return fmt::format("invalid --port '{}'", value);
    flags.port = static_cast<uint16_t>(*port);
  } else if (name == "--bind") {
    flags.bind = value;
  } else if (name == "--threads") {
    auto threads = ParseInt(value, 1, tierkv::limits::kMaxExecutors);
    if (!threads) {
      return fmt::format("invalid --threads '{}' (1 to {})", value, tierkv::limits::kMaxExecutors);
    }
    flags.threads = static_cast<int>(*threads);
  } else if (name == "--dir") {
    if (value.empty()) return "invalid empty --dir";
    flags.dir = value;
  } else if (name == "--loglevel") {
    auto level = LogLevel(value);
    if (!level) return fmt::format("invalid --loglevel '{}'", value);
    flags.log_level = *level;
  } else {
    return fmt::format("unknown option '{}'", name);
  }
  return "";
}

// Parses argv into `flags`; returns an error message, or an empty string.
std::string ParseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    std::string_view name = arg;
    std::string_view value;
    if (size_t equals = arg.find('='); arg.starts_with("--") && equals != std::string_view::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return fmt::format("option '{}' needs a value", arg);
    }
    std::string error = ApplyFlag(name, value, flags);
    if (!error.empty()) return error;
  }
  return "";
}

int DefaultThreads() {
  unsigned cores = std::thread::hardware_concurrency();  // 0 when unknown
  if (cores == 0) return 1;
  return static_cast<int>(std::min<unsigned>(cores, tierkv::limits::kMaxExecutors));
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
  Flags flags;
  if (std::string error = ParseFlags(argc, argv, flags); !error.empty()) {
    fmt::print(stderr, "tierkv-server: {}\n{}", error, kUsage);
    return 1;
  }
  if (flags.threads == 0) flags.threads = DefaultThreads();

  tierkv::io::ProdEnvOptions env_options;
  env_options.node_name = "node";
  env_options.executors = flags.threads;
  env_options.log_level = flags.log_level;
  env_options.handle_signals = true;
  tierkv::io::ProdEnv env(env_options);

  int exit_code = 0;
  env.Run([&] {
    tierkv::Status created = env.CreateDir(flags.dir);
    if (!created.ok()) {
      fmt::print(stderr, "tierkv-server: cannot create data directory {}: {}\n", flags.dir,
                 created.ToString());
      exit_code = 1;
      return;
    }
    tierkv::server::NodeOptions options;
    options.bind = flags.bind;
    options.port = flags.port;
    options.dir = flags.dir;
    tierkv::Status served = tierkv::server::ServeNode(env, options);
    if (!served.ok()) {
      fmt::print(stderr, "tierkv-server: cannot serve on {}: {}\n",
                 tierkv::NetAddress{flags.bind, flags.port}.ToString(), served.ToString());
      exit_code = 1;
    }
  });
  return exit_code;
}
