#!/usr/bin/env bash
# Installs what is missing, builds, and runs a tierkv node in the foreground on
# 127.0.0.1:6379 with its data in ./data. Extra arguments go to tierkv-server.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
tierkv_install "${TIERKV_PACKAGES[@]}"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build -j2 tools/tierkv-server
mkdir -p data
exec build/tools/tierkv-server --port 6379 --bind 127.0.0.1 --dir ./data "$@"
