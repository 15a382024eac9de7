#!/usr/bin/env bash
# Search scaling over MPI ranks (docs/distributed.md): the same random search (batches of 8
# candidates, 64 scoring images, 1 thread per rank) with 64 and with 8 candidates (the second
# gives the fixed cost: start-up and data loading) on 1 and 2 ranks, alternated `repeats` times
# so both see the same machine load; prints wall seconds and each rank's user CPU seconds per
# run and checks that the outputs of every rank count are byte-identical.
# Usage: bench/mpi_scaling.sh build/bin/piconas WORK_DIR [repeats]
set -euo pipefail
piconas=$1
work=$2
repeats=${3:-3}
rm -rf "$work" && mkdir -p "$work"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
args=(search --strategy random --batch 8 --max-sram 65536 --seed 11 --threads 1 --checkpoint-every 0)
uptime
for r in $(seq "$repeats"); do
  for steps in 64 8; do
    for ranks in 1 2; do
      out="$work/r${r}_s${steps}_n${ranks}"
      start=$(date +%s.%N)
      mpirun --oversubscribe --allow-run-as-root -np "$ranks" /usr/bin/time -a -o "$out.cpu" -f "%U" \
        "$piconas" "${args[@]}" --steps "$steps" --output "$out" >/dev/null 2>&1
      end=$(date +%s.%N)
      echo "ranks $ranks run $r: $(echo "$end - $start" | bc) s wall, $steps candidates;" \
        "user CPU s per rank: $(tr '\n' ' ' < "$out.cpu")"
      cmp -s "$work/r1_s${steps}_n1/history.csv" "$out/history.csv" || { echo "outputs differ"; exit 1; }
    done
  done
done
uptime
