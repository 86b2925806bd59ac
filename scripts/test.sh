#!/usr/bin/env bash
# Installs, builds and runs every test: unit (gtest), integration (real kith processes on loopback),
# interop (aria2c, Transmission, qBittorrent-nox as the other end) and fuzz-corpus replays.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# Two tests at a time: the integration tests each run several processes on this 2-core machine.
ctest --preset default -j2 "$@"
