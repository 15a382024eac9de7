#!/usr/bin/env bash
# ctest "mpi_run" (docs/distributed.md): `mpirun -np 3 piconas run` equals a single-process run
# with the same thread count in the search, the successive-halving shortlist (a rung's
# candidates train on the ranks at once) and the plain shortlist (halving_eta 0), byte for byte;
# the winner's data-parallel training (exactly tested by mpi_train) stays within 1 % of the
# single process's loss after its 8 steps, and the run ends with its report. A rank killed with
# kill -9 inside the search or the shortlist ends the job with a clear message; rerunning the same
# command ends with the same search history and rungs.
# Usage: mpi_run.sh PICONAS_BINARY WORK_DIR MPIRUN
source "$(dirname "$0")/mpi_common.sh"

# --- the whole pipeline with a halving shortlist of 4 + 3 largest (rungs of 7, 4 and 2) ----
# (rungs ranked on a fixed set of 500 images: the default's path, at a tenth of its size)
run=(run --search-steps 10 --population 8 --top-k 4 --halving-eta 2 --halving-images 300 --halving-val-images 500 --seed 7
     --threads 1 --scoring-images 16 --epochs 1 --train-limit 600 --eval-images 50
     --verify-images 2 --mcu-images 0 --calib-images 16)
"$piconas" "${run[@]}" --out "$work/one" >/dev/null 2>&1
timeout 300 "${mpi[@]}" "$piconas" "${run[@]}" --out "$work/three" >"$work/three.out" 2>"$work/three.err"
grep -q "report: $work/three/report.md" "$work/three.out" || { echo "FAIL: no report"; cat "$work/three.err"; exit 1; }
for f in search/history.csv search/best.json shortlist/halving.csv shortlist/halving.json; do
  same "$work/one/$f" "$work/three/$f" "$f, 1 process vs 3 ranks"
done
one_loss=$(tail -1 "$work/one/train/metrics.csv" | cut -d, -f3)
three_loss=$(tail -1 "$work/three/train/metrics.csv" | cut -d, -f3)
awk -v a="$one_loss" -v b="$three_loss" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.01 * a) }' ||
  { echo "FAIL: winner's train loss: 1 process $one_loss, 3 ranks $three_loss"; exit 1; }

# --- the plain shortlist: candidate k trains on rank k % 3 ----------------------------------
plain=(run --search-steps 6 --population 8 --top-k 4 --halving-eta 0 --shortlist-epochs 1
       --shortlist-limit 300 --seed 8 --threads 1 --scoring-images 16 --stop-after shortlist)
"$piconas" "${plain[@]}" --out "$work/plain_one" >/dev/null 2>&1
timeout 300 "${mpi[@]}" "$piconas" "${plain[@]}" --out "$work/plain_three" >/dev/null 2>&1
numbers() {  # the shortlist's results without paths and timings
  grep -E '"(winner|rank|arch|val_accuracy|best_epoch|train_loss|train_accuracy|val_loss)"' "$1"
}
numbers "$work/plain_one/stages/shortlist.json" > "$work/plain_one.txt"
numbers "$work/plain_three/stages/shortlist.json" > "$work/plain_three.txt"
test "$(grep -c val_accuracy "$work/plain_one.txt")" -ge 8 || { echo "FAIL: shortlist.json has too few results"; exit 1; }
same "$work/plain_one.txt" "$work/plain_three.txt" "plain shortlist results, 1 process vs 3 ranks"

# --- kill -9 one rank inside the search or the halving shortlist, rerun: the same rungs ------
short=("${run[@]}" --stop-after shortlist)
kill_one_rank "$work/killed" 2 6 "${short[@]}"
if [ "$killed_code" -ne 0 ]; then
  echo "mpi_run: kill -9 of a rank ended the run with exit code $killed_code; rerunning the same command"
  timeout 300 "${mpi[@]}" "$piconas" "${short[@]}" --out "$work/killed" >/dev/null 2>&1
fi
for f in search/history.csv shortlist/halving.csv shortlist/halving.json; do
  same "$work/one/$f" "$work/killed/$f" "$f after kill -9 of one rank and a rerun"
done
echo "mpi_run: 3 ranks equal 1 process (search, halving and plain shortlists); winner trained data-parallel; kill -9 of a rank and a rerun give the same rungs"
