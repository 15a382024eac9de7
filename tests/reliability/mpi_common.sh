# Sourced by the mpi_* ctest scripts (docs/distributed.md): their arguments PICONAS_BINARY
# WORK_DIR MPIRUN, a fresh WORK_DIR, one thread per rank, the 3-rank launcher and `same`.
# --oversubscribe: 3 ranks on 2 cores; --allow-run-as-root: CI runs as root.
set -euo pipefail
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited non-zero"' ERR
piconas=$1
work=$2
mpirun=$3
rm -rf "$work" && mkdir -p "$work"
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1
mpi=("$mpirun" --oversubscribe --allow-run-as-root -np 3)

same() {  # same FILE_A FILE_B WHAT: byte-identical, else the first differences and exit 1
  if ! cmp -s "$1" "$2"; then
    echo "FAIL: $3: $1 and $2 differ"
    diff <(head -c 3000 "$1") <(head -c 3000 "$2") | head -20
    exit 1
  fi
}

# rank_pid PATTERN K: the pid of the K-th rank (pgrep order; K >= 2 skips the root) of the job
# whose command line contains PATTERN, once the ranks have started; empty after 10 s.
rank_pid() {
  local pid=""
  for _ in $(seq 100); do
    pid=$(pgrep -f -- "$1" | xargs -r ps -o pid=,args= -p | grep -v -e mpirun -e timeout |
          awk '{print $1}' | sed -n "$2p" || true)
    [ -n "$pid" ] && break
    sleep 0.1
  done
  echo "$pid"
}

# kill_one_rank OUT K MAX_SECONDS ARGS...: runs `piconas ARGS --out OUT` on the 3 ranks, kills
# its K-th rank with kill -9 after a random 0..MAX_SECONDS s and requires that the job ends (no
# hang) with OpenMPI's message unless it had already finished; killed_code is the job's exit code.
kill_one_rank() {
  local out=$1 k=$2 max=$3
  shift 3
  timeout 300 "${mpi[@]}" "$piconas" "$@" --out "$out" >/dev/null 2>"$out.err" &
  local job=$!
  local victim
  victim=$(rank_pid "--out $out" "$k")
  [ -n "$victim" ] || { echo "FAIL: no rank to kill"; exit 1; }
  sleep "$((RANDOM % max)).$((RANDOM % 10))"
  kill -9 "$victim" 2>/dev/null || true
  killed_code=0
  wait "$job" || killed_code=$?
  [ "$killed_code" -ne 124 ] || { echo "FAIL: the job hung after kill -9 of one rank"; exit 1; }
  if [ "$killed_code" -ne 0 ]; then
    grep -q "exited on signal 9" "$out.err" || { echo "FAIL: no clear message:"; cat "$out.err"; exit 1; }
  fi
}
