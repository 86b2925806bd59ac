#!/usr/bin/env bash
# The main job on the built-in example: two kith nodes on loopback. Node A shares a folder, node B
# fetches it by its magnet link alone; B scans it with ClamAV before releasing it, and the result is
# verified byte for byte and shown. Then A shares the EICAR test file and B quarantines it.
# Everything stays on 127.0.0.1: DHT, LSD, UPnP and NAT-PMP are off for both nodes. There is no
# Internet for freshclam here, so the nodes use a small signature database built by sigtool
# (tests/clamav/make_test_db.sh) instead of the system's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
KITH="$PWD/build/src/cli/kith"

work=$(mktemp -d /tmp/kith-demo.XXXXXX)
cleanup() {
  [ -n "${daemon_pid:-}" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

tests/clamav/make_test_db.sh "$work/signatures" > /dev/null
loopback=(--set bt.listen=127.0.0.1:0 --set api.listen=127.0.0.1:0 --set dht.enabled=false
          --set lsd.enabled=false --set nat.upnp=false --set nat.natpmp=false
          --set channel.listen=127.0.0.1:0 --set lan.discovery=false --set sync.local_discovery=false
          --set safety.system_signatures=false --set "safety.signatures=$work/signatures")
a=("$KITH" --home "$work/node-a" "${loopback[@]}")
b=("$KITH" --home "$work/node-b" "${loopback[@]}")

cp -r examples/sample-folder "$work/sample-folder"
head -c $((32 << 20)) /dev/urandom > "$work/sample-folder/recording.bin"

echo "== node A: start a daemon"
"${a[@]}" daemon 2> "$work/node-a.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -f "$work/node-a/daemon.json" ] && break; sleep 0.1; done
[ -f "$work/node-a/daemon.json" ] || { cat "$work/node-a.log"; exit 1; }

echo "== node A: share $work/sample-folder, signed"
link=$("${a[@]}" share --sign "$work/sample-folder")
echo "$link"

echo "== node B: get it by the link alone (no daemon: a transient node)"
"${b[@]}" get "$link" --to "$work/downloads"

echo "== verify: every file byte-identical"
diff -r "$work/sample-folder" "$work/downloads/sample-folder"
(cd "$work/downloads/sample-folder" && find . -type f | sort | xargs sha256sum)
echo "verified: identical"

echo "== node A: share the EICAR anti-virus test file; node B must quarantine it (exit 3)"
mkdir -p "$work/suspicious"
printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-' 'STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > "$work/suspicious/eicar.com"
eicar_link=$("${a[@]}" share "$work/suspicious")
rc=0
"${b[@]}" get "$eicar_link" --to "$work/downloads" || rc=$?
[ "$rc" -eq 3 ] || { echo "expected exit 3 (quarantined), got $rc"; exit 1; }
[ ! -e "$work/downloads/suspicious" ] || { echo "EICAR reached the destination"; exit 1; }
"${b[@]}" quarantine list

echo "== node A: transfers"
"${a[@]}" list
echo "== node B: transfers"
"${b[@]}" list
