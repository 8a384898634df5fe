#!/usr/bin/env bash
# Installs the Debian packages tierkv needs, only those missing (apt-get update runs once, and
# only when something is missing). Sourced by run.sh and test.sh.
set -euo pipefail

TIERKV_PACKAGES=(
  meson ninja-build pkg-config g++
  liburing-dev libpmem2-dev libboost-context-dev librapidcheck-dev doctest-dev
  libspdlog-dev libfmt-dev libxxhash-dev libzstd-dev libssl-dev
)
# Only for tests and benchmarks: the real Redis to compare against, its client tools, redis-py,
# and RocksDB (the baseline of `tierkv-bench engine`).
TIERKV_TEST_PACKAGES=(redis-server redis-tools python3-redis librocksdb-dev)

tierkv_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "tierkv: installing ${missing[*]}" >&2
    if [ "$(id -u)" -ne 0 ]; then
      echo "tierkv: need root to apt-get install ${missing[*]}" >&2
      return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}
