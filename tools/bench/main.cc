// tierkv-bench: benchmark programs. Each prints a Markdown table measured in one run, with the
// baseline beside tierkv's numbers.
//   tierkv-bench env [...]     fiber switch, cross-executor messages, O_DIRECT reads, fdatasync
//   tierkv-bench engine [...]  the storage engine against RocksDB on the same workloads
#include <fmt/format.h>

#include <string>

namespace tierkv::bench {
int RunEnvBench(int argc, char** argv);
int RunEngineBench(int argc, char** argv);
}

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "env") return tierkv::bench::RunEnvBench(argc - 2, argv + 2);
  if (mode == "engine") return tierkv::bench::RunEngineBench(argc - 2, argv + 2);
  fmt::print(stderr, "usage: tierkv-bench env|engine [options]\n");
  return 2;
}
