#!/usr/bin/env bash
# Installs every Debian package that kith's build, tests, demo and benchmarks need.
# Idempotent: installs only what is missing. Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential g++ cmake ninja-build pkg-config clang libclang-rt-14-dev
  # libraries
  libtorrent-rasterbar-dev libboost-dev libboost-system-dev
  libsodium-dev libssl-dev libsqlite3-dev
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libexpected-dev libgtest-dev libgmock-dev libqrencode-dev
  # tests: interop clients and helpers
  aria2 transmission-cli transmission-daemon qbittorrent-nox python3 curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
