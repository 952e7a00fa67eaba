# kill_lib.sh — sourced by tests/cli/kill*.sh after cli_lib.sh: campaigns of
# SIGKILLs against `slm train` (one process, and FSDP over 2 ranks under
# mpirun) and `slm sweep`, every run killed and started again until it ends,
# then checked against what an uninterrupted run gives. The kill times come
# from a seeded generator (an LCG, the same on every machine) whose seed is
# printed: SLM_KILL_SEED=N reruns a campaign's times, though the machine's
# load still moves where each kill lands.
#
# A training (--save-every 1) is killed, in turn, at a random moment of a step
# and the save after it (once its log has shown a new step, the time to the
# next one is measured and the kill comes a random share of that time later),
# and in a save (0-19 ms after a save's temporary appears). A sweep is killed,
# in turn, a random share of the time to its first new record after that
# record (in a bench, mostly), and 0-49 ms after a bench wrote its record
# file (the sweep looks every 50 ms: before or after its append). Each kill
# is a line: what it aimed at and what it left.
#
# Needs: $slm, $dir, $seed; train_setup before train_campaign.

rng=$seed
kills=0 in_save=0 removed_n=0 trials=0
mpi="timeout 300 mpirun -np 2 --oversubscribe -x ASAN_OPTIONS=detect_leaks=0:exitcode=23"
[ "$(id -u)" -eq 0 ] && mpi="$mpi --allow-run-as-root"
export LC_ALL=C
# one thread a process: on a busy machine two OpenMP threads of a tiny model wait on each other for most of a step
export OMP_NUM_THREADS=1

# rand N: into $r, the next number in [0, N) of the seeded sequence.
rand() {
    rng=$(((rng * 1103515245 + 12345) % 2147483648))
    r=$((rng / 65536 % $1))
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
sleep_ms() { sleep "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"; }
lines() { if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# Whether process $1 is running (not yet exited: a zombie has), without a fork.
running() { [ -r "/proc/$1/stat" ] && read -r _ _ state _ <"/proc/$1/stat" && [ "$state" != Z ]; }
# present DIR GLOB: whether a file of DIR matches GLOB, without a fork.
present() {
    for f in "$1"/$2; do [ -e "$f" ] && return 0; done
    return 1
}

# launch OUT CMD...: CMD in a session of its own, so that one kill reaches
# mpirun and every rank, ended past 300 s (a run that hangs fails the test
# instead of holding it); its pid, the session's id, in $pid.
launch() {
    to=$1
    shift
    setsid timeout 300 "$@" >"$to" 2>&1 &
    pid=$!
}
# stop: SIGKILL to every process of the session; waits until none is left.
# $rc: the exit status of the leader (137 when the kill ended it).
stop() {
    kill -KILL "$pid" 2>/dev/null
    pkill -KILL -s "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    while pgrep -s "$pid" >/dev/null; do sleep 0.05; done
}
# wait_growth FILE N: until FILE has more than N lines or the run has ended (at most 300 s).
wait_growth() {
    n=0
    while [ "$(lines "$1")" -le "$2" ] && running "$pid" && [ $n -lt 30000 ]; do
        sleep 0.01
        n=$((n + 1))
    done
}

# train_setup STEPS: a token file, and $run the tiny model's flags for STEPS steps.
train_setup() {
    steps=$1
    sh scripts/corpus.sh "$dir/corpus.txt" 60000
    "$slm" tokenize --text "$dir/corpus.txt" --vocab 512 --tokenizer "$dir/tok.bpe" --out "$dir/data.tok" >/dev/null
    run="--model tiny --seq-len 32 --micro-batch 2 --global-batch 4 --steps $steps --data $dir/data.tok"
    run="$run --eval-every 4 --eval-batches 1 --save-every 1"
}

# The files of a save in trial directory $1 that no checkpoint holds:
# temporaries, and shards the manifest ck does not name (all, without one).
leftovers() {
    for f in $(ls "$1"); do
        case $f in
        ck.tmp.* | ck.step*.tmp.*) echo "$f" ;;
        ck.step*) grep -qF "\"$f\"" "$1/ck" 2>/dev/null || echo "$f" ;;
        esac
    done
}
# The files the run's output ($1) says it removed, as names in the trial directory.
removed_by() { sed -n 's|^removed .*/\([^/ ]*\) (.*|\1|p' "$1" | sort; }
# A log without its timings, one line per logged line, sorted and unique.
logged() { sed -e 's/,"step_time_s":[^,}]*//' -e 's/,"tokens_per_s":[^,}]*//' "$1" | sort -u; }

# aim_step T: waits for a random moment of a step and the save after it, the
# time from one log line to the next measured in the run.
aim_step() {
    wait_growth "$1/log.jsonl" "$before"
    t0=$(now_ms) before=$(lines "$1/log.jsonl")
    wait_growth "$1/log.jsonl" "$before"
    rand $(($(now_ms) - t0 + 1))
    sleep_ms $r
    aim="$r ms into a step"
}
# aim_save T: once the run has logged a step (and removed the leftovers),
# waits until a save's temporary appears, polling without a pause not to miss
# a short save, then 0-19 ms more.
aim_save() {
    wait_growth "$1/log.jsonl" "$before"
    while running "$pid" && ! present "$1" '*.tmp.*'; do :; done
    rand 20
    sleep_ms $r
    aim="$r ms after a save began"
}

# train_trial T N CMD...: one training of CMD from scratch in directory T,
# killed N times at random and resumed with --resume, then run to its end.
# Every resumed run must remove exactly what the kill before it left.
train_trial() {
    t=$1 n_kill=$2 k=0 left="" bad_removed=0
    shift 2
    mkdir -p "$t"
    while :; do
        resume=""
        [ -e "$t/ck" ] && resume="--resume $t/ck"
        before=$(lines "$t/log.jsonl")
        launch "$t/run.out" "$@" --save "$t/ck" --log-file "$t/log.jsonl" $resume
        if [ $k -lt "$n_kill" ]; then
            if [ $((kills % 2)) -eq 0 ]; then aim_step "$t"; else aim_save "$t"; fi
            stop
        else
            wait "$pid"
            rc=$?
        fi
        [ "$(removed_by "$t/run.out" | tr '\n' ' ')" = "$(echo "$left" | grep . | sort | tr '\n' ' ')" ] ||
            bad_removed=$((bad_removed + 1))
        removed_n=$((removed_n + $(removed_by "$t/run.out" | wc -l)))
        [ $rc -ne 137 ] && break
        k=$((k + 1)) kills=$((kills + 1))
        left=$(leftovers "$t")
        [ -n "$left" ] && in_save=$((in_save + 1))
        echo "kill $kills: $(basename "$t"), $aim, after log line $(lines "$t/log.jsonl"):" \
            "${left:+in a save, left }$(echo ${left:-nothing of a save left})"
    done
    trials=$((trials + 1))
    [ $rc -eq 0 ] || grep -q "is at step $steps already" "$t/run.out"
    check $? "$(basename "$t"): killed $k times, then ran to its end (exit $rc: $(grep '^slm:' "$t/run.out"))"
    [ $bad_removed -eq 0 ]
    check $? "$(basename "$t"): each resumed run removed exactly what the kill before it left ($bad_removed did not)"
}

# train_campaign NAME KILLS PER_TRIAL CMD...: the uninterrupted run of CMD,
# then trials of at most PER_TRIAL kills each until KILLS kills in all (a run
# that ends before its kill is one fewer); every trial must log bitwise what
# the uninterrupted run logged (losses, gradient norms, learning rates,
# validation losses) and leave its checkpoint and nothing else.
train_campaign() {
    name=$1 want=$2 per_trial=$3 got=0 i=1
    shift 3
    mkdir -p "$dir/$name.straight"
    "$@" --save "$dir/$name.straight/ck" --log-file "$dir/$name.straight/log.jsonl" >"$dir/$name.straight/run.out" 2>&1
    check $? "$name: the uninterrupted run"
    logged "$dir/$name.straight/log.jsonl" >"$dir/$name.straight.log"
    while [ $got -lt "$want" ] && [ $i -le "$want" ]; do
        t=$dir/$name.$i
        quota=$((want - got < per_trial ? want - got : per_trial))
        train_trial "$t" $quota "$@"
        got=$((got + k))
        logged "$t/log.jsonl" >"$t.log"
        cmp -s "$dir/$name.straight.log" "$t.log" && grep -q "\"step\":$steps," "$t.log"
        check $? "$(basename "$t"): $(wc -l <"$t/log.jsonl") lines logged over its runs, each bitwise one of the \
uninterrupted run's $(wc -l <"$dir/$name.straight.log") lines, up to step $steps"
        shards=$(ls "$t" | grep -c '^ck\.step')
        [ -z "$(leftovers "$t")" ] && [ -e "$t/ck" ] && { [ "$shards" -eq 0 ] || grep -q "rank1-of-2" "$t/ck"; }
        check $? "$(basename "$t"): its checkpoint (and $shards shards) and no file of a save left: $(ls "$t" | tr '\n' ' ')"
        i=$((i + 1))
    done
    [ $got -ge "$want" ]
    check $? "$name: $got kills in $((i - 1)) trials (wanted $want)"
}

# The record files in the sweep's log directory whose record the results file $1
# does not hold (one that does was left by a kill just after its append).
unappended() {
    for f in "$1".logs/*.record; do
        [ -e "$f" ] && ! grep -qxF "$(cat "$f")" "$1" && echo "$f"
    done
}

# sweep_campaign NAME ROUNDS KILLS MICRO: a grid of quick points (vanilla
# and flash attention at each micro batch of the list MICRO, "1, 2") swept
# with --rounds ROUNDS, killed KILLS times at random and started again until
# it is done; every point must be recorded ROUNDS times, no measurement twice.
sweep_campaign() {
    name=$1 rounds=$2 n_kill=$3 k=0
    out=$dir/$name.jsonl points=$((2 * ($(echo "$4" | tr -cd , | wc -c) + 1)))
    printf '{"model": "tiny", "seq_len": 32, "micro_batch": [%s], "attention": ["vanilla", "flash"],\n' "$4" \
        >"$dir/$name.grid.json"
    printf ' "warmup_steps": 1, "min_steps": 2, "min_time": 0, "timeout_s": 120}\n' >>"$dir/$name.grid.json"
    while :; do
        before=$(lines "$out")
        t0=$(now_ms)
        launch "$dir/$name.out" "$slm" sweep "$dir/$name.grid.json" --out "$out" --rounds "$rounds"
        if [ $k -lt "$n_kill" ]; then
            wait_growth "$out" "$before"
            if [ $((k % 2)) -eq 0 ]; then
                rand $(($(now_ms) - t0 + 1))
                aim="$r ms after record $(lines "$out")"
            else
                while running "$pid" && ! present "$out.logs" '*.record'; do :; done
                rand 50
                aim="$r ms after a bench wrote its record"
            fi
            sleep_ms $r
            stop
        else
            wait "$pid"
            rc=$?
        fi
        [ $rc -ne 137 ] && break
        k=$((k + 1)) kills=$((kills + 1))
        echo "kill $kills: $name, $aim, $(unappended "$out" | wc -l) record file(s) left to append"
    done
    trials=$((trials + 1))
    check $rc "$name: killed $k times, then swept to its end (exit $rc)"
    per_point=$(grep -o '"config_hash":"[0-9a-f]*"' "$out" | sort | uniq -c | awk '{print $1}' | sort -u | tr '\n' ' ')
    [ "$(grep -c '"status":"ok"' "$out")" -eq $((points * rounds)) ] && [ "$per_point" = "$rounds " ] &&
        [ "$(sort -u "$out" | wc -l)" -eq $((points * rounds)) ] && [ -z "$(unappended "$out")" ]
    check $? "$name: $points points x $rounds rounds, each recorded once ($(wc -l <"$out") records, $(sort -u "$out" |
        wc -l) distinct, records per point: $per_point), no record file left unappended: $(unappended "$out")"
}

# The campaign's figures, one line.
kill_summary() {
    echo "kill campaign (seed $seed): $trials trials, $kills kills, $in_save of the training kills left a save's" \
        "files, $removed_n files removed by the runs after them"
}
