#!/usr/bin/env bash
# ctest "mpi_search" (docs/distributed.md): `mpirun -np 3 piconas search` writes history.csv and
# best.json byte-identical to a single-process run (freerea, rl and random; 1 thread per rank,
# 2 threads in the single process); kill -9 of one rank at a random moment ends the job with
# mpirun's message and a non-zero exit within seconds, and rerunning with --resume ends with
# the uninterrupted outputs; so does kill -9 of mpirun itself (the whole job: no rank survives)
# resumed on 2 ranks; an error on one rank ends the job with that rank's message.
# Usage: mpi_search.sh PICONAS_BINARY WORK_DIR MPIRUN
source "$(dirname "$0")/mpi_common.sh"
seed=${KILL_SEED:-$RANDOM}
echo "mpi_search: random seed $seed"
RANDOM=$seed

common=(search --max-sram 65536 --images 16 --seed 5 --checkpoint-every 3)
freerea=("${common[@]}" --population 12 --sample-size 4 --steps 12)
rl=("${common[@]}" --strategy rl --batch 5 --steps 20)
random=("${common[@]}" --strategy random --batch 7 --steps 14 --metrics naswot,synflow,jacob_cov)
for name in freerea rl random; do
  declare -n args=$name
  "$piconas" "${args[@]}" --threads 2 --output "$work/${name}_one" >/dev/null 2>&1
  timeout 120 "${mpi[@]}" "$piconas" "${args[@]}" --threads 1 --output "$work/${name}_three" \
    >"$work/${name}_three.out" 2>"$work/${name}_three.err"
  same "$work/${name}_one/history.csv" "$work/${name}_three/history.csv" "$name history.csv, 1 process vs 3 ranks"
  same "$work/${name}_one/best.json" "$work/${name}_three/best.json" "$name best.json, 1 process vs 3 ranks"
  test "$(wc -l < "$work/${name}_three.out")" -eq 1 || { echo "FAIL: $name: stdout is not one line"; exit 1; }
done

# --- kill -9 one rank (not the root) at a random moment, then resume on 3 ranks ----------
long=("${common[@]}" --population 12 --sample-size 4 --steps 60)
"$piconas" "${long[@]}" --threads 2 --output "$work/long_one" >/dev/null 2>&1
start=$(date +%s)
timeout 60 "${mpi[@]}" "$piconas" "${long[@]}" --threads 1 --output "$work/long_killed" \
  >/dev/null 2>"$work/killed.err" &
job=$!
victim=$(rank_pid "--output $work/long_killed" 2)
[ -n "$victim" ] || { echo "FAIL: no rank to kill"; exit 1; }
sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
kill -9 "$victim" 2>/dev/null || true
code=0
wait "$job" || code=$?
elapsed=$(( $(date +%s) - start ))
if [ "$code" -eq 0 ]; then
  # The victim had already finished: nothing to test this time but the outputs.
  echo "mpi_search: the search ended before the kill"
else
  [ "$code" -ne 124 ] || { echo "FAIL: the job hung after kill -9 of one rank (timeout)"; exit 1; }
  grep -q "exited on signal 9" "$work/killed.err" ||
    { echo "FAIL: no clear message after kill -9 of one rank:"; cat "$work/killed.err"; exit 1; }
  echo "mpi_search: kill -9 of rank pid $victim ended the job in ${elapsed} s with exit code $code"
  if [ -f "$work/long_killed/search_state.json" ]; then
    timeout 120 "${mpi[@]}" "$piconas" "${long[@]}" --threads 1 --output "$work/long_killed" \
      --resume >/dev/null 2>&1
  else
    rm -rf "$work/long_killed"
    timeout 120 "${mpi[@]}" "$piconas" "${long[@]}" --threads 1 --output "$work/long_killed" \
      >/dev/null 2>&1
  fi
fi
same "$work/long_one/history.csv" "$work/long_killed/history.csv" "history.csv after kill -9 of one rank and resume"
same "$work/long_one/best.json" "$work/long_killed/best.json" "best.json after kill -9 of one rank and resume"

# --- kill -9 of mpirun (the whole job) at a random moment, then resume on 2 ranks ----------
timeout 60 "${mpi[@]}" "$piconas" "${long[@]}" --threads 1 --output "$work/job_killed" >/dev/null 2>&1 &
job=$!
launcher=""
for _ in $(seq 100); do
  launcher=$(pgrep -f -- "^$mpirun .*--output $work/job_killed" | head -1 || true)
  [ -n "$launcher" ] && break
  sleep 0.1
done
sleep "$((RANDOM % 4 + 1)).$((RANDOM % 10))"
kill -9 "$launcher" 2>/dev/null || true
wait "$job" 2>/dev/null || true
for _ in $(seq 200); do  # the ranks notice their launcher's death within seconds (more under load)
  pgrep -f -- "--output $work/job_killed" >/dev/null || break
  sleep 0.1
done
if pgrep -f -- "--output $work/job_killed" >/dev/null; then
  echo "FAIL: ranks survive kill -9 of mpirun by 20 s"
  exit 1
fi
two=("$mpirun" --oversubscribe --allow-run-as-root -np 2)
if [ -f "$work/job_killed/search_state.json" ]; then
  timeout 120 "${two[@]}" "$piconas" "${long[@]}" --threads 1 --output "$work/job_killed" --resume >/dev/null 2>&1
else
  rm -rf "$work/job_killed"
  timeout 120 "${two[@]}" "$piconas" "${long[@]}" --threads 1 --output "$work/job_killed" >/dev/null 2>&1
fi
same "$work/long_one/history.csv" "$work/job_killed/history.csv" "history.csv after kill -9 of mpirun and resume on 2 ranks"
same "$work/long_one/best.json" "$work/job_killed/best.json" "best.json after kill -9 of mpirun and resume on 2 ranks"

# --- an error on the root while the other ranks wait: one message, exit 1, no hang --------
code=0
timeout 60 "${mpi[@]}" "$piconas" "${freerea[@]}" --threads 1 --output "$work/none" --resume \
  >/dev/null 2>"$work/error.err" || code=$?
[ "$code" -ne 124 ] || { echo "FAIL: the job hung after an error on rank 0"; exit 1; }
[ "$code" -ne 0 ] || { echo "FAIL: resume without a checkpoint succeeded"; exit 1; }
grep -q "error on rank 0 of 3: search: cannot resume" "$work/error.err" ||
  { echo "FAIL: no clear error:"; cat "$work/error.err"; exit 1; }
echo "mpi_search: 3 ranks equal 1 process (freerea, rl, random); kill -9 of a rank or of mpirun and resume; errors end the job"
