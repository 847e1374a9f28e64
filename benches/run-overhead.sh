#!/usr/bin/env bash
# `sigil run` against the bare command, in the same run:
#   1. throughput: `sigil run -- cat BIGFILE > /dev/null` against `cat BIGFILE > /dev/null` on a
#      1 GiB log-like file with 10 secrets (target: at least 50% of cat's throughput), and
#      `cat BIGFILE | cat > /dev/null`, the same bytes through a bare pipe;
#   2. cat's own wall and CPU time, alone and inside `sigil run` (the pipe's cost to the child);
#   3. start-up: `sigil run -- true` against `true` (target: at most 10 ms more).
# Needs hyperfine (`apt-get install -y hyperfine`). Run from anywhere: benches/run-overhead.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p sigil-cli --bin sigil
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
sigil="$target_dir/release/sigil"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq 1 10); do
    printf 'SECRET_%s=value-%s-%s\n' "$i" "$i" "$(printf '%032d' "$i" | tr 0 x)"
done > "$work/secrets.env"

# 1 GiB of CI-log-like lines with a secret every 64 KiB.
python3 - "$work/big.log" <<'PY'
import sys
size = 1 << 30
line = b"2026-11-25T10:00:00.000Z [info] step build: compiling crate foo v1.2.3 (path/to/foo)\n"
chunk = bytearray()
while len(chunk) < (64 << 10):
    chunk += line
chunk = bytes(chunk[: (64 << 10) - 60]) + b" token value-3-" + b"x" * 31 + b"3\n"
chunk = chunk[: 64 << 10]
with open(sys.argv[1], "wb") as out:
    for _ in range(size // len(chunk)):
        out.write(chunk)
PY
cat "$work/big.log" > /dev/null # warm the page cache

echo "== throughput, 1 GiB, 10 secrets"
# The second baseline is the pipe alone: the bytes cross one pipe, as a child's output must to
# reach a redactor, with nothing redacted.
hyperfine --warmup 1 --runs 10 \
    "cat $work/big.log > /dev/null" \
    "cat $work/big.log | cat > /dev/null" \
    "$sigil run --secrets $work/secrets.env -- cat $work/big.log > /dev/null"

echo "== the child's own time: what writing into a pipe costs cat itself"
# A child that writes into any pipe pays a kernel copy per byte that `> /dev/null` does not:
# cat's own CPU time inside `sigil run` bounds the throughput of any reader of that pipe.
for _ in 1 2 3; do
    bash -c 'TIMEFORMAT="cat alone: %R s wall, %U s user, %S s sys"; time cat "$0" > /dev/null' \
        "$work/big.log"
    "$sigil" run --secrets "$work/secrets.env" -- bash -c \
        'TIMEFORMAT="cat inside sigil run: %R s wall, %U s user, %S s sys"; time cat "$0"' \
        "$work/big.log" > /dev/null
done

echo "== start-up"
hyperfine --warmup 20 --runs 200 -N \
    "true" \
    "$sigil run --secrets $work/secrets.env -- true"
