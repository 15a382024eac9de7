#!/usr/bin/env bash
# Kill tests (ctest "kill_resume"): kill -9 a training run, a search, `piconas run`'s halving
# shortlist and an export at a random moment, resume them, and require the same final result as
# an uninterrupted run and no half-written output. Usage: kill_resume.sh PICONAS_BINARY WORK_DIR
set -euo pipefail
piconas=$1
work=$2
rm -rf "$work" && mkdir -p "$work"
export OMP_WAIT_POLICY=passive
seed=${KILL_SEED:-$RANDOM}
echo "kill_resume: random seed $seed"
RANDOM=$seed

# Starts "$@" in the background, kills it with SIGKILL after a random 0.2-1.5 s, waits.
kill_at_random() {
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "0.$((RANDOM % 9 + 2))$((RANDOM % 10))"
  [ $((RANDOM % 2)) -eq 0 ] && sleep 0.6
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

same() {  # same FILE_A FILE_B WHAT
  if ! cmp -s "$1" "$2"; then
    echo "FAIL: $3 differs after kill -9 and resume: $1 vs $2"
    diff <(head -c 2000 "$1") <(head -c 2000 "$2") | head -20
    exit 1
  fi
}

# --- training: checkpoints every 5 steps; resume until done -------------------------------
train=(train --arch tiny-bench --limit 2000 --epochs 2 --batch 64 --checkpoint-every 5 --seed 3 --threads 2 --no-test)
"$piconas" "${train[@]}" --out "$work/train_whole" >/dev/null 2>&1
kill_at_random "$piconas" "${train[@]}" --out "$work/train_killed"
for attempt in 1 2 3; do
  if [ -f "$work/train_killed/last.ckpt" ]; then
    "$piconas" "${train[@]}" --out "$work/train_killed" --resume >/dev/null 2>&1 && break
  else
    rm -rf "$work/train_killed"
    "$piconas" "${train[@]}" --out "$work/train_killed" >/dev/null 2>&1 && break
  fi
done
"$piconas" eval "$work/train_whole/last.ckpt" --json "$work/eval_whole.json" >/dev/null
"$piconas" eval "$work/train_killed/last.ckpt" --json "$work/eval_killed.json" >/dev/null
grep -v '"checkpoint"' "$work/eval_whole.json" > "$work/eval_whole.cmp"
grep -v '"checkpoint"' "$work/eval_killed.json" > "$work/eval_killed.cmp"
same "$work/eval_whole.cmp" "$work/eval_killed.cmp" "training (evaluation of the final weights)"
cut -d, -f1-6 "$work/train_whole/metrics.csv" > "$work/m_whole.csv"
cut -d, -f1-6 "$work/train_killed/metrics.csv" > "$work/m_killed.csv"
same "$work/m_whole.csv" "$work/m_killed.csv" "training metrics.csv (losses and accuracies)"

# --- search: checkpoints every 5 steps -----------------------------------------------------
search=(search --population 20 --sample-size 5 --steps 120 --checkpoint-every 5 --max-sram 65536 --seed 5 --threads 2)
"$piconas" "${search[@]}" --output "$work/search_whole" >/dev/null 2>&1
kill_at_random "$piconas" "${search[@]}" --output "$work/search_killed"
if [ -f "$work/search_killed/search_state.json" ]; then
  "$piconas" "${search[@]}" --output "$work/search_killed" --resume >/dev/null 2>&1
else
  rm -rf "$work/search_killed"
  "$piconas" "${search[@]}" --output "$work/search_killed" >/dev/null 2>&1
fi
same "$work/search_whole/history.csv" "$work/search_killed/history.csv" "search history.csv"
same "$work/search_whole/best.json" "$work/search_killed/best.json" "search best.json"

# --- rl search: the policy is checkpointed; uninterrupted on 1 thread, killed on 2 ---------
rl=(search --strategy rl --batch 4 --steps 80 --checkpoint-every 4 --max-sram 65536 --seed 6)
"$piconas" "${rl[@]}" --threads 1 --output "$work/rl_whole" >/dev/null 2>&1
kill_at_random "$piconas" "${rl[@]}" --threads 2 --output "$work/rl_killed"
if [ -f "$work/rl_killed/search_state.json" ]; then
  "$piconas" "${rl[@]}" --threads 2 --output "$work/rl_killed" --resume >/dev/null 2>&1
else
  rm -rf "$work/rl_killed"
  "$piconas" "${rl[@]}" --threads 2 --output "$work/rl_killed" >/dev/null 2>&1
fi
same "$work/rl_whole/history.csv" "$work/rl_killed/history.csv" "rl search history.csv"
same "$work/rl_whole/best.json" "$work/rl_killed/best.json" "rl search best.json"

# --- piconas run's successive-halving shortlist: killed in the search or inside a rung -----
# Twice: rungs ranked on their own hold-out (--halving-val-images 0), and on one fixed validation
# set of 500 train-split images for every rung and candidate (the default is such a set of 5,000).
run_args=(run --search-steps 10 --population 8 --top-k 4 --halving-eta 2 --halving-images 300 --seed 7
          --threads 2 --stop-after shortlist)
kill_run() {  # kill_run NAME EXTRA_FLAGS...
  local name=$1
  shift
  "$piconas" "${run_args[@]}" "$@" --out "$work/${name}_whole" >/dev/null 2>&1
  "$piconas" "${run_args[@]}" "$@" --out "$work/${name}_killed" >/dev/null 2>&1 &
  local pid=$!
  sleep "$((RANDOM % 8 + 2)).$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  "$piconas" "${run_args[@]}" "$@" --out "$work/${name}_killed" >/dev/null 2>&1
  same "$work/${name}_whole/shortlist/halving.csv" "$work/${name}_killed/shortlist/halving.csv" "$name shortlist/halving.csv"
  same "$work/${name}_whole/shortlist/halving.json" "$work/${name}_killed/shortlist/halving.json" "$name shortlist/halving.json"
}
kill_run run --halving-val-images 0
kill_run run_val --halving-val-images 500
grep -q '"val_images": 500' "$work/run_val_killed/shortlist/halving.json" ||
  { echo "FAIL: --halving-val-images 500 is not in run_val's halving.json"; exit 1; }
# Every rung training of the killed and resumed run validated on the same images.
sets=$( (grep -ho '"val_set_fnv1a": *"[0-9a-f]*' "$work"/run_val_killed/shortlist/rung*/*/summary.json || true) |
  sort -u | wc -l)
[ "$sets" -eq 1 ] || { echo "FAIL: run_val's rungs validated on $sets different sets"; exit 1; }

# --- export: every file is written atomically, a rerun gives the same bytes ---------------
export_args=(export "$work/train_whole/last.ckpt" --eval 200)
"$piconas" "${export_args[@]}" --out "$work/export_whole" >/dev/null 2>&1
kill_at_random "$piconas" "${export_args[@]}" --out "$work/export_killed"
for f in "$work"/export_killed/*.c "$work"/export_killed/*.h; do
  [ -f "$f" ] && same "$f" "$work/export_whole/$(basename "$f")" "export file left by the killed run"
done
"$piconas" "${export_args[@]}" --out "$work/export_killed" >/dev/null 2>&1
for f in model.c model.h; do same "$work/export_whole/$f" "$work/export_killed/$f" "export $f"; done

# --- export over an earlier export: the folder switches as one unit (issue 13) -------------
# Another calibration gives other scales: a kill must leave the old pair or the new pair,
# never a new model.h next to an old model.c, and no temporary file inside the folder.
"$piconas" "${export_args[@]}" --calib 64 --out "$work/export_new" >/dev/null 2>&1
cmp -s "$work/export_whole/model.h" "$work/export_new/model.h" && { echo "FAIL: calibrations agree"; exit 1; }
cp -r "$work/export_whole" "$work/export_over"
kill_at_random "$piconas" "${export_args[@]}" --calib 64 --out "$work/export_over"
pair=none
for ref in export_whole export_new; do
  cmp -s "$work/$ref/model.h" "$work/export_over/model.h" && cmp -s "$work/$ref/model.c" "$work/export_over/model.c" &&
    pair=$ref
done
[ "$pair" != none ] || { echo "FAIL: export killed while overwriting left a mixed model.h / model.c"; exit 1; }
if ls "$work/export_over" | grep -q '\.tmp\.'; then echo "FAIL: temporary file inside the export folder"; exit 1; fi
echo "kill_resume: training, search, rl search, run shortlist (halving, also on a fixed validation set) and export survive kill -9 (seed $seed)"
