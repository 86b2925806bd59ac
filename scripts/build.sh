#!/usr/bin/env bash
# Installs what is missing and builds kith (CMake preset "default": build/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -- -j"$(nproc)"
