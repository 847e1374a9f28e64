#!/usr/bin/env bash
# `sigil redact` as a whole command on the redactor bench's workload (256 MiB of CI log lines,
# a value or an encoded form every 64 KiB), against `cat` on the same file, output discarded.
# The file is read through a 64 KiB buffer that stays in cache: the way real streams reach
# the redactor. Needs hyperfine (`apt-get install -y hyperfine`). Run from anywhere:
#   benches/redact-throughput.sh [SECRETS...]   (default: 8 100)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q --release -p sigil-cli --bin sigil
cargo build -q --release -p sigil-benches --example redact_workload
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
sigil="$target_dir/release/sigil"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(8 100)
for secrets in "${sets[@]}"; do
    "$target_dir/release/examples/redact_workload" "$work" "$secrets"
    hyperfine --warmup 3 --runs 20 -N \
        "cat $work/log-$secrets" \
        "$sigil redact --secrets $work/secrets-$secrets.json $work/log-$secrets"
done
