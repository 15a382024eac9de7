#!/usr/bin/env bash
# ctest "app_score_list": `piconas score --arch-file` (a file, or - for stdin) prints the same
# lines as one `piconas score --arch` call per architecture, for 1 and 2 threads, and names the
# line of a bad architecture. Usage: score_list.sh PICONAS_BINARY WORK_DIR
set -euo pipefail
piconas=$1
work=$2
rm -rf "$work" && mkdir -p "$work"
export OMP_WAIT_POLICY=passive
metrics=naswot,jacob_cov,synflow,logsynflow,snip,grad_norm,skip
base='blocks:in=1x28x28,classes=10,act=relu6,stem=16k3s2'
{
  echo "$base|ir:k3e2s1c16|ir:k5e6s2c32|ir:k7e6s1c32|head=0"
  echo "# a comment, then a blank line"
  echo
  echo "$base|ds:k3s2c32|cn:k3e2s1c32|ir:k3e4s2c64|head=0"
  echo "  $base|ds:k5s1c16|ds:k3s2c64|ir:k5e2s1c64|head=0  "
} > "$work/archs.txt"
grep -v '^#' "$work/archs.txt" | sed 's/^ *//; s/ *$//' | grep . | while read -r arch; do
  "$piconas" score --arch "$arch" --metrics "$metrics" --images 16 --threads 2 2>/dev/null ||
    echo "FAIL: piconas score --arch $arch" >&2
done > "$work/single.jsonl"
"$piconas" score --arch-file "$work/archs.txt" --metrics "$metrics" --images 16 --threads 1 \
  2>/dev/null > "$work/list1.jsonl"
"$piconas" score --arch-file - --metrics "$metrics" --images 16 --threads 2 \
  < "$work/archs.txt" 2>/dev/null > "$work/list2.jsonl"
test "$(wc -l < "$work/single.jsonl")" -eq 3
cmp "$work/single.jsonl" "$work/list1.jsonl"
cmp "$work/single.jsonl" "$work/list2.jsonl"
printf '%s|ir:k3e2s1c16|ds:k3s2c32|ds:k3s1c32|head=0\nblocks:nonsense\n' "$base" > "$work/bad.txt"
if out=$("$piconas" score --arch-file "$work/bad.txt" 2>&1 >/dev/null); then
  echo "FAIL: a bad line was accepted"; exit 1
fi
echo "$out" | grep -q "bad.txt line 2" || { echo "FAIL: error does not name the line: $out"; exit 1; }
echo "app_score_list: list output equals single calls for 1 and 2 threads"
