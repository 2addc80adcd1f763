#!/usr/bin/env bash
# Job queue benchmark: how many rooms an hour W workers publish through the library's queue (real
# transcription on whisper tiny.en), and what the queue itself costs per job.
#
#   benches/workers.sh                          # ROOMS=24 rooms, WORKERS="1 2 4", PostgreSQL and SQLite
#   ROOMS=8 WORKERS="1 2" benches/workers.sh    # a quick look
#   BACKENDS=postgres benches/workers.sh        # PostgreSQL only (BACKENDS=sqlite: a library folder only)
#   REPEAT=3 benches/workers.sh                 # every (backend, W) run 3 times, interleaved; the
#                                               # best of each is tabled too (a shared machine's noise)
#   QUEUE_JOBS=2000 benches/workers.sh          # more jobs in the queue-overhead rounds (default 500)
#   QUEUE_REPEAT=5 benches/workers.sh           # queue-overhead rounds per thread count (default 3)
#   QUEUE_ONLY=1 benches/workers.sh             # the queue-overhead rounds only
#   PG_OPTIONS="-c synchronous_commit=off" benches/workers.sh   # server settings of your own
#
# The rooms: ROOMS sessions made once with `roomcast import` from the shared real speech
# ($ROOMCAST_SHARED, else ../shared): two speakers taking turns, "Ana" LJ Speech clips and "Ben"
# LibriSpeech test-clean clips, each speaker's clips joined (sox) to 10-20 s, Ben starting when Ana
# is done: rooms of 20-40 s. For each backend and each W in WORKERS: a fresh library (a new
# database; a new library folder), fresh copies of the sessions, every room queued with
# `publish --queue --language en` (one process per room, timed apart), then W
# `roomcast worker --until-idle --poll 0.2` processes started at once, timed until the last exits.
# Afterwards `roomcast jobs` must list every job done after one attempt, and the workers' reports
# must add up to the rooms (none failed, none lost). The workers' CPU time (getrusage of the
# children) and the whole machine's (/proc/stat) are measured over each run: what the rest of the
# machine used meanwhile is the difference, the noise the figures carry on a shared machine.
#
# Then the queue's own cost, without the work: `cargo bench --bench queue` (benches/queue.rs) on a
# fresh database and library folder: QUEUE_JOBS jobs enqueued, claimed, renewed and finished through
# the library API by 1, 2 and 4 threads, each with its own connection, QUEUE_REPEAT rounds each.
#
# PostgreSQL is a throwaway server of the Debian package's (the newest /usr/lib/postgresql/N/bin),
# initdb'd in a temporary folder with its default settings (fsync on; PG_OPTIONS adds others),
# listening on a unix socket there only, and stopped (its folder removed) when the script ends, as
# in benches/search.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
source scripts/pg.sh
need_tools bench

ROOMS=${ROOMS:-24}
REPEAT=${REPEAT:-1}
WORKERS=${WORKERS:-1 2 4}
BACKENDS=${BACKENDS:-postgres sqlite}
QUEUE_JOBS=${QUEUE_JOBS:-500}
QUEUE_REPEAT=${QUEUE_REPEAT:-3}
DIR=${BENCH_DIR:-bench-data/workers}
SHARED=${ROOMCAST_SHARED:-../shared}
for b in $BACKENDS; do
    [[ $b == sqlite || $b == postgres ]] || {
        echo "workers.sh: unknown backend '$b' in BACKENDS (sqlite, postgres)" >&2
        exit 2
    }
done
SHARED=$(cd "$SHARED" && pwd) || {
    echo "workers.sh: no shared folder (set ROOMCAST_SHARED to the folder with models/ and samples/)" >&2
    exit 2
}
model=$SHARED/models/ggml-tiny.en.bin
[[ -f $model ]] || {
    echo "workers.sh: $model is missing (the real whisper tiny.en)" >&2
    exit 2
}

cargo build --release --quiet
bin=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/roomcast
rm -rf "$DIR"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
export ROOMCAST_MODELS=$SHARED/models ROOMCAST_MODEL=$model

if [[ " $BACKENDS " == *" postgres "* ]]; then
    start_postgres
    fresh_database() { # NAME: a new, empty database; prints its URL
        "${as_pg[@]}" "$pg_bin/dropdb" -h "$pg" -U postgres --if-exists "$1"
        "${as_pg[@]}" "$pg_bin/createdb" -h "$pg" -U postgres "$1"
        echo "postgresql:///$1?host=$pg&user=postgres"
    }
fi

results=$DIR/results.jsonl
: >"$results"
if [[ ${QUEUE_ONLY:-0} != 1 ]]; then
    # The rooms, once: each speaker's clips joined to 10-20 s (sox), imported as a session.
    echo "==> making $ROOMS rooms from $SHARED/samples" >&2
    python3 - "$bin" "$SHARED/samples" "$DIR" "$ROOMS" <<'PY'
import glob, os, subprocess, sys
bin, samples, d, rooms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lj = sorted(glob.glob(f"{samples}/ljspeech/*.wav"))
libri = sorted(glob.glob(f"{samples}/librispeech_test_clean/*.flac"))
assert lj and libri, f"no LJ Speech or LibriSpeech clips under {samples}"
secs = lambda f: float(subprocess.check_output(["soxi", "-D", f], text=True))
cursor = {"lj": 0, "libri": 0}
def joined(name, clips, out):
    # Clips from the list's cursor on (wrapping) until there are 10 s of speech (at most 20 s).
    picked, total = [], 0.0
    while total < 10.0:
        f = clips[cursor[name] % len(clips)]
        cursor[name] += 1
        picked.append(f)
        total += secs(f)
    subprocess.check_call(["sox", *picked, out])
    return secs(out)
os.makedirs(f"{d}/clips")
total = 0.0
for i in range(rooms):
    ana, ben = f"{d}/clips/{i:03}-ana.wav", f"{d}/clips/{i:03}-ben.wav"
    a = joined("lj", lj, ana)
    b = joined("libri", libri, ben)
    total += a + b
    subprocess.check_call([bin, "--json", "import", "--speaker", f"Ana={ana}", "--speaker", f"Ben={ben}",
                           "--offset", f"Ben={a + 0.5:.2f}", "--title", f"Workers bench {i:03}",
                           "--started-at", f"2026-01-01T{i // 60:02}:{i % 60:02}:00Z",
                           "--out", f"{d}/sessions/room-{i:03}"], stdout=subprocess.DEVNULL)
print(f"{rooms} rooms, {total / 60:.1f} min of speech ({total / rooms:.1f} s a room, two speakers taking turns)")
PY
    for round in $(seq "$REPEAT"); do
        for backend in $BACKENDS; do
            for w in $WORKERS; do
                run=$backend-w$w-r$round
                mkdir -p "$DIR/$run/logs"
                cp -a "$DIR/sessions" "$DIR/$run/sessions"
                if [[ $backend == sqlite ]]; then location=$DIR/$run/library; else location=$(fresh_database "roomcast_w${w}_r$round"); fi
                export ROOMCAST_LIBRARY=$location XDG_DATA_HOME=$DIR/$run/xdg ROOMCAST_ROOMS_DIR=$DIR/$run/rooms
                echo "==> round $round: $backend, $w worker(s): queueing $ROOMS rooms" >&2
                q0=$(date +%s.%N)
                for s in "$DIR/$run/sessions"/room-*; do
                    "$bin" --json publish "$s" --queue --language en >/dev/null
                done
                q1=$(date +%s.%N)
                echo "==> round $round: $backend, $w worker(s): working" >&2
                # On PostgreSQL, the connections the workers hold are counted twice a second, by one
                # psql (reaped after the CPU times are taken, so its own time is not the workers').
                count_connections=()
                [[ $backend == postgres ]] && count_connections=("$pg_bin/psql" -h "$pg" -U postgres -d "roomcast_w${w}_r$round" -X -At)
                python3 - "$bin" "$w" "$DIR/$run/logs" "$backend" "$ROOMS" "$q0" "$q1" "$round" "${count_connections[@]}" >>"$results" <<'PY'
import json, os, resource, subprocess, sys, threading, time
bin, w, logs, backend, rooms, q0, q1 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
round_, count_connections, connections, running = int(sys.argv[8]), sys.argv[9:], [], True
psql = count_connections and subprocess.Popen(count_connections, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
def sample():
    while running:
        psql.stdin.write("SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database();\n")
        psql.stdin.flush()
        connections.append(int(psql.stdout.readline()))
        time.sleep(0.5)
hz = os.sysconf("SC_CLK_TCK")
def machine():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = f[3] + f[4]
    return (sum(f[:8]) - idle) / hz, sum(f[:8]) / hz
load = open("/proc/loadavg").read().split()[0]
r0, (b0, t0) = resource.getrusage(resource.RUSAGE_CHILDREN), machine()
start = time.monotonic()
procs = [subprocess.Popen([bin, "--json", "worker", "--until-idle", "--poll", "0.2", "--name", f"w{k}"],
                          stdout=subprocess.PIPE, stderr=open(f"{logs}/w{k}.err", "w")) for k in range(w)]
sampler = threading.Thread(target=sample)
if count_connections:
    sampler.start()
outs = [p.communicate()[0] for p in procs]
wall = time.monotonic() - start
running = False
if count_connections:
    sampler.join()
r1, (b1, t1) = resource.getrusage(resource.RUSAGE_CHILDREN), machine()
if psql:
    psql.communicate()
for k, (p, out) in enumerate(zip(procs, outs)):
    open(f"{logs}/w{k}.json", "wb").write(out)
    assert p.returncode == 0, f"worker w{k} exited {p.returncode}: see {logs}/w{k}.err"
reports = [json.loads(o) for o in outs]
jobs = json.loads(subprocess.check_output([bin, "--json", "jobs", "--limit", "100000"]))
ours = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(json.dumps({
    "backend": backend, "workers": w, "round": round_, "rooms": rooms, "enqueue_s": q1 - q0, "wall_s": wall,
    "worker_cpu_s": ours, "machine_busy_s": b1 - b0, "machine_s": t1 - t0, "load_at_start": float(load),
    "done": sum(r["done"] for r in reports), "failed": sum(r["failed"] for r in reports),
    "lost": sum(r["lost"] for r in reports), "per_worker": [r["done"] for r in reports],
    "jobs": len(jobs), "jobs_done": sum(j["state"] == "done" for j in jobs),
    "max_attempts": max((j["attempts"] for j in jobs), default=0),
    "max_connections_held": max(connections, default=None),
}))
PY
                tail -1 "$results" >&2
            done
        done
    done
    unset ROOMCAST_LIBRARY
    python3 - "$results" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
order = {"postgres": 0, "sqlite": 1}
runs.sort(key=lambda r: (order[r["backend"]], r["workers"], r["round"]))
name = lambda r: {"sqlite": "SQLite", "postgres": "PostgreSQL"}[r["backend"]]
others = lambda r: max(r["machine_busy_s"] - r["worker_cpu_s"], 0.0) / r["wall_s"]
print()
print("| backend | workers | round | queueing (CLI, a process per room) | wall | jobs/min | vs 1 worker | worker CPU per job | "
      "machine CPU busy | other processes' CPU | done / failed / lost | jobs per worker | max attempts | "
      "PostgreSQL connections held (max) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
# "vs 1 worker": against the same round's run of one worker, when there is one.
base = {(r["backend"], r["round"]): r["rooms"] / r["wall_s"] * 60 for r in runs if r["workers"] == 1}
bad = []
for r in runs:
    rate = r["rooms"] / r["wall_s"] * 60
    vs = base.get((r["backend"], r["round"]))
    cores = r["machine_s"] / r["wall_s"]
    print(f"| {name(r)} | {r['workers']} | {r['round']} | {r['enqueue_s']:.1f} s | {r['wall_s']:.0f} s | {rate:.1f} | "
          f"{f'{rate / vs:.2f}x' if vs else '-'} | {r['worker_cpu_s'] / r['rooms']:.1f} s | "
          f"{r['machine_busy_s'] / r['machine_s'] * 100:.0f}% of {cores:.0f} cores | {others(r):.2f} cores | "
          f"{r['done']} / {r['failed']} / {r['lost']} | {' '.join(map(str, r['per_worker']))} | {r['max_attempts']} | "
          f"{r.get('max_connections_held') if r.get('max_connections_held') is not None else '-'} |")
    if not (r["done"] == r["rooms"] == r["jobs"] == r["jobs_done"] and r["failed"] == r["lost"] == 0 and r["max_attempts"] == 1):
        bad.append(f"{name(r)}, {r['workers']} worker(s), round {r['round']}")
print()
best = {}
for r in runs:
    k = (r["backend"], r["workers"])
    if k not in best or r["wall_s"] < best[k]["wall_s"]:
        best[k] = r
if len(best) < len(runs):
    print("Best of the rounds (the least disturbed run of each):")
    print()
    print("| backend | workers | jobs/min (best) | vs 1 worker (best) | jobs/min, every round | other processes' CPU in the best run |")
    print("|---|---|---|---|---|---|")
    for (backend, w), r in best.items():
        rate = r["rooms"] / r["wall_s"] * 60
        one = best.get((backend, 1))
        vs = rate / (one["rooms"] / one["wall_s"] * 60) if one else None
        every = ", ".join(f"{x['rooms'] / x['wall_s'] * 60:.1f}" for x in runs if (x["backend"], x["workers"]) == (backend, w))
        print(f"| {name(r)} | {w} | {rate:.1f} | {f'{vs:.2f}x' if vs else '-'} | {every} | {others(r):.2f} cores |")
    print()
if bad:
    print(f"NOT every job done once: {', '.join(bad)} (see results.jsonl and the logs)")
    sys.exit(1)
PY
fi

echo "==> the queue's own cost: $QUEUE_JOBS jobs a round, 1, 2 and 4 threads, $QUEUE_REPEAT rounds each" >&2
queue_libraries=()
for backend in $BACKENDS; do
    if [[ $backend == sqlite ]]; then
        rm -rf "$DIR/queue-library"
        queue_libraries+=("$DIR/queue-library")
    else
        queue_libraries+=("$(fresh_database roomcast_queue)")
    fi
done
XDG_DATA_HOME=$DIR/queue-xdg cargo bench --quiet --bench queue -- --jobs "$QUEUE_JOBS" --repeat "$QUEUE_REPEAT" "${queue_libraries[@]}"
echo
echo "machine: $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "${pg_version:+PostgreSQL $pg_version, }$(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD)"
