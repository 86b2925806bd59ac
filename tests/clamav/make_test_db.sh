#!/usr/bin/env bash
# Builds a small ClamAV signature database for tests and the demo (no Internet needed, so no
# freshclam): the EICAR test file by MD5 (.hdb) and SHA-256 (.hsb), and by a body signature (.ndb)
# that also finds it inside archives and at any offset. Usage: make_test_db.sh OUTDIR
# Prints OUTDIR. The EICAR string is assembled here so that this script is not itself a detection.
set -euo pipefail
out=${1:?usage: make_test_db.sh OUTDIR}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-' 'STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > "$work/eicar.com"
# sigtool names each hash signature after the file; give them our own names.
sigtool --md5 "$work/eicar.com" | sed 's/:eicar\.com$/:Kith.Test.Eicar.MD5/' > "$out/kith-test.hdb"
sigtool --sha256 "$work/eicar.com" | sed 's/:eicar\.com$/:Kith.Test.Eicar.SHA256/' > "$out/kith-test.hsb"
# Body signature: the first 40 bytes of the EICAR string, anywhere in any file type (target 0).
hex=$(head -c 40 "$work/eicar.com" | sigtool --hex-dump | tr -d '\n')
echo "Kith.Test.Eicar.Body:0:*:${hex}" > "$out/kith-test.ndb"
echo "$out"
