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
