#!/usr/bin/env bash
# Patch B, measured: instructions in mdb_put() for an overwrite pass over COUNT reserved
# values of SIZE bytes, part of them spilled, pristine vs patched (callgrind counts only
# calls through overwrite_put(); deterministic). MDB_IDL_LOGN sets where spilling starts:
# an overflow run is one dirty-list entry, so 20,000 values spill with 13 or less.
#   bench/reserve_callgrind.sh [COUNT] [SIZE] [IDL_LOGN]     (defaults: 20000 12288 13)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-20000}; size=${2:-12288}; logn=${3:-13}
out_dir=$(cargo build -p hedge-lmdb-sys --features pristine --message-format=json 2>/dev/null \
  | grep '"reason":"build-script-executed"' | grep 'hedge-lmdb-sys' \
  | sed -n 's/.*"out_dir":"\([^"]*\)".*/\1/p' | tail -n 1)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
declare -A total
for variant in pristine patched; do
  if [ "$variant" = pristine ]; then tree="$out_dir/src/hedge_pristine"; else tree="$out_dir/src/hedge"; fi
  tree="$tree/libraries/liblmdb"
  gcc -O2 -g -pthread -DMDB_IDL_LOGN="$logn" -I"$tree" bench/c/reserve_overwrite.c \
    "$tree/mdb.c" "$tree/midl.c" -o "$work/bench-$variant"
  valgrind --tool=callgrind --toggle-collect=overwrite_put --callgrind-out-file="$work/cg-$variant" \
    "$work/bench-$variant" "$work/db-$variant" "$count" "$size" 2>/dev/null | sed "s/^/$variant: /"
  total[$variant]=$(sed -n 's/^summary: //p' "$work/cg-$variant")
done
echo
echo "| MDB_IDL_LOGN | values | size | pristine instr/put | patched instr/put | patched/pristine |"
echo "|---:|---:|---:|---:|---:|---:|"
awk -v p="${total[pristine]}" -v q="${total[patched]}" -v n="$count" -v s="$size" -v l="$logn" \
  'BEGIN { printf "| %d | %d | %d | %.0f | %.0f | %.3f (%+.1f%%) |\n", l, n, s, p/n, q/n, q/p, 100*(q/p-1) }'
