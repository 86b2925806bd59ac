#!/usr/bin/env bash
# Installs every Debian package that kith's build, tests, demo and benchmarks need, and the web UI
# test's npm packages (tests/ui, playwright-core only; it drives Debian's Chromium, no browser download).
# Idempotent: installs only what is missing. Run as root (or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # toolchain
  build-essential g++ cmake ninja-build pkg-config clang libclang-rt-14-dev
  # libraries
  libtorrent-rasterbar-dev libboost-dev libboost-system-dev
  libsodium-dev libssl-dev libsqlite3-dev
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libexpected-dev libgtest-dev libgmock-dev libclamav-dev libqrencode-dev
  libprotobuf-dev protobuf-compiler
  # folder sync (src/bep): LZ4 for BEP's compressed messages
  liblz4-dev
  # ICE (src/ice): UDP hole punching; GLib comes with it
  libnice-dev
  # calls (src/media): GStreamer's webrtcbin, Opus/VP8, WAV, echo cancellation (webrtcdsp), its ICE (nice)
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice
  # safety: sigtool builds the tests' signature database, clamscan is the benchmark's reference
  clamav zip
  # tests: interop clients and helpers (coturn: the TURN server src/net/turn_test.cpp runs)
  aria2 transmission-cli transmission-daemon qbittorrent-nox python3 curl coturn
  # tests: a hostile contact-channel client written in Python (tests/integration/hostile_peer.py)
  python3-cryptography openssl
  # tests/netlab: network namespaces, a bridge and a NAT router (nftables); a router answering UPnP and
  # NAT-PMP (the binary only: this package installs no service)
  iproute2 nftables miniupnpd-nftables
  # bench/dht.py: libtorrent's Python bindings (for Debian's /usr/bin/python3)
  python3-libtorrent
  # folder sync: Syncthing is the other end of the interop tests and the anchor of bench/sync.py;
  # an exFAT file system through FUSE for the case-insensitive test (test_sync_case_insensitive.py)
  syncthing exfat-fuse exfatprogs
  # bench/calls.py: the anchor for calls (SIP, Opus, WAV in and out, no sound card needed)
  baresip
  # web UI test: the browser (playwright-core drives it; node and npm come below)
  chromium
)
# Node.js 18+ and npm for tests/ui: Debian's, unless a node with npm is already installed (e.g. from
# another source; mixing the two breaks npm).
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# tests/ui: exactly the versions in package-lock.json; skipped when they are already installed.
want=$(node -p "require('./tests/ui/package-lock.json').packages['node_modules/playwright-core'].version")
have=$(node -p "try { require('./tests/ui/node_modules/playwright-core/package.json').version } catch { '' }")
if [ "$want" != "$have" ]; then
  echo "install-deps: npm ci in tests/ui (playwright-core $want)"
  (cd tests/ui && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
else
  echo "install-deps: tests/ui npm packages present"
fi
