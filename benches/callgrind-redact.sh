#!/usr/bin/env bash
# Instructions per KiB of the redactor's own work (memcpy left out), in memory (`redact_to`)
# and as 4 KiB stream writes, on the redactor bench's workload kept in cache (1 MiB, 40 passes,
# minus a run that only builds it). Needs valgrind.
#
# Run: benches/callgrind-redact.sh [SECRETS...]   (default: 1 8 100)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p sigil-benches --example redact_passes
driver=${CARGO_TARGET_DIR:-target}/release/examples/redact_passes
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$driver" "$@" >/dev/null 2>&1
    callgrind_annotate --inclusive=no --threshold=100 "$out/cg" 2>/dev/null |
        awk '/PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
             /memmove|memcpy/ && !/=>/ { gsub(",", "", $1); copy += $1 }
             END { print total - copy }'
}
passes=40
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(1 8 100)
for secrets in "${sets[@]}"; do
    for mode in redact stream; do
        setup=$(instructions "$secrets" "$mode" 0)
        work=$(instructions "$secrets" "$mode" "$passes")
        echo "$secrets secrets, $mode: $(( (work - setup) / passes / 1024 )) instructions per KiB"
    done
done
