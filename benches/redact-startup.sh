#!/usr/bin/env bash
# Start-up cost of `sigil redact` against `cat` on an empty input (target: at most 5 ms more).
# Needs hyperfine (`apt-get install -y hyperfine`). Run from anywhere:
#   benches/redact-startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p sigil-cli --bin sigil
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
sigil="$target_dir/release/sigil"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$work/empty"
# Eight values with every encoding on, as a run with a few secrets would have.
for i in 1 2 3 4 5 6 7 8; do
    printf 'TOKEN_%s=tok-%s-0123456789abcdefghij\n' "$i" "$i"
done > "$work/secrets.env"

# Both read the empty file named on the command line: no shell in between (-N).
hyperfine --warmup 20 --runs 500 -N \
    "cat $work/empty" \
    "$sigil redact --secrets $work/secrets.env $work/empty"
