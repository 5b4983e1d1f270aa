#!/usr/bin/env bash
# Patch C, measured: instructions in mdb_put() per value of SIZE bytes (1 and 4 overflow
# pages by default), PUTS values in one txn, into an env whose free list holds F single,
# non-adjacent pages (0, 10,000, 50,000), pristine vs patched (callgrind counts only calls
# through measured_put(); deterministic). Also prints how far each run grew the file: the
# patch must not change it.
#   bench/alloc_callgrind.sh [PUTS] [SIZES] [FREE]   (defaults: 1000 "3000 12288" "0 10000 50000")
set -euo pipefail
cd "$(dirname "$0")/.."
puts=${1:-1000}; sizes=${2:-3000 12288}; frees=${3:-0 10000 50000}
out_dir=$(cargo build -p hedge-lmdb-sys --features pristine --message-format=json 2>/dev/null \
  | grep '"reason":"build-script-executed"' | grep 'hedge-lmdb-sys' \
  | sed -n 's/.*"out_dir":"\([^"]*\)".*/\1/p' | tail -n 1)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for variant in pristine patched; do
  if [ "$variant" = pristine ]; then tree="$out_dir/src/hedge_pristine"; else tree="$out_dir/src/hedge"; fi
  tree="$tree/libraries/liblmdb"
  gcc -O2 -g -pthread -I"$tree" bench/c/alloc_fragmented.c "$tree/mdb.c" "$tree/midl.c" \
    -o "$work/bench-$variant"
done
echo "| value | pages | free pages | pristine instr/put | patched instr/put | patched/pristine | file growth (pages, both) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for size in $sizes; do
  for free in $frees; do
    declare -A ir grew
    for variant in pristine patched; do
      valgrind --tool=callgrind --toggle-collect=measured_put --callgrind-out-file="$work/cg" \
        "$work/bench-$variant" "$work/db-$variant" "$free" "$size" "$puts" >"$work/out" 2>/dev/null
      ir[$variant]=$(sed -n 's/^summary: //p' "$work/cg")
      grew[$variant]=$(awk '{ print $5 - $3 }' "$work/out")
      rm -f "$work/db-$variant" "$work/db-$variant-lock"
    done
    [ "${grew[pristine]}" = "${grew[patched]}" ] || echo "file growth differs: ${grew[pristine]} vs ${grew[patched]}" >&2
    awk -v s="$size" -v f="$free" -v p="${ir[pristine]}" -v q="${ir[patched]}" -v n="$puts" \
      -v g="${grew[patched]}" -v ps=4096 \
      'BEGIN { printf "| %d B | %d | %d | %.0f | %.0f | %.3f | %d |\n", s, int((s + 16 + ps - 1) / ps), f, p/n, q/n, q/p, g }'
  done
done
