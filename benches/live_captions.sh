#!/usr/bin/env bash
# Live captions on 2 cores with the real tiny.en: rooms played into `record --captions` in real
# time and read over SSE by benches/live_captions.py (latency, first partial, live WER next to the
# offline transcript of the same recording, repeats, recorder CPU/RSS/packets). Rooms:
#   one       one speaker, 90 s, quick pauses           (latency with one speaker talking)
#   demo      the shipped demo room, three speakers      (samples/conversation)
#   three     three speakers talking at once, 90 s       (rooms.py chorus)
#   five      five at once, 60 s                         (what 2 cores sustain; RSS with 5)
#   hog       `three` again with two busy loops beside the recorder, captions on and off, and
#             `three` with captions off: the tracks' voice packets must be identical
#             (benches/same_tracks.py, by ffprobe)
#   idle      11 speakers sending room tone for 60 s, captions on and off: the cost of listening
#   noise     30 minutes of room tone, breathing, keyboard and coughs with 8 utterances (NOISE=1)
#
#   benches/live_captions.sh [ROOM...]     all but noise by default
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_tools test
SHARED=${ROOMCAST_SHARED:-$PWD/../shared}
export ROOMCAST_MODEL=${ROOMCAST_MODEL:-$SHARED/models/ggml-tiny.en.bin}
OUT=${BENCH_DIR:-bench-data/live-captions}
cargo build --release --quiet
mkdir -p "$OUT"
rooms=("$@"); [ ${#rooms[@]} -gt 0 ] || rooms=(one demo three five hog idle)
run() { local name=$1; shift; rm -rf "$OUT/$name"; python3 benches/live_captions.py "$@" "$OUT/$name" | tee "$OUT/$name.json"; }
py=tests/tools/rooms.py
for r in "${rooms[@]}"; do
    echo "== $r"
    case $r in
    one) python3 $py overlap --shared "$SHARED" --out "$OUT/room-one" --speakers 1 --minutes 1.5 --overlap 0 --seed 21
         run one "$OUT/room-one" --offline ;;
    demo) python3 $py sample --timeline samples/conversation/timeline.txt --out "$OUT/room-demo"
          python3 - "$OUT/room-demo/truth.json" <<'PY'
import json, os, sys
t = json.load(open(sys.argv[1]))
joins = {c[1]: float(c[3]) for c in (l.split("\t") for l in open("samples/conversation/script.tsv")) if c[0] == "speaker"}
for s in t["speakers"]:
    s["file"] = os.path.abspath(f"samples/conversation/{s['name'].lower()}.opus")
    s["offset"] = joins[s["name"]]
json.dump(t, open(sys.argv[1], "w"), indent=1)
PY
          run demo "$OUT/room-demo" --offline ;;
    three) python3 $py chorus --shared "$SHARED" --out "$OUT/room-three" --speakers 3 --minutes 1.5
           run three "$OUT/room-three" --offline ;;
    five) python3 $py chorus --shared "$SHARED" --out "$OUT/room-five" --speakers 5 --minutes 1
          run five "$OUT/room-five" ;;
    hog) python3 $py chorus --shared "$SHARED" --out "$OUT/room-three" --speakers 3 --minutes 1.5
         run hog-captions "$OUT/room-three" --hog 2
         run hog-off "$OUT/room-three" --hog 2 --no-captions
         run quiet-off "$OUT/room-three" --no-captions
         for other in hog-captions hog-off three; do
             [ -d "$OUT/$other/lib/rooms" ] || continue
             echo "tracks of quiet-off vs $other: $(python3 benches/same_tracks.py "$OUT"/quiet-off/lib/rooms/* "$OUT"/$other/lib/rooms/*)"
         done ;;
    idle) ffmpeg -v error -y -f lavfi -i "anoisesrc=color=pink:amplitude=0.001:sample_rate=48000" -t 60 -ac 1 \
              -c:a libopus -b:a 24k "$OUT/room-tone.opus"
          run idle-captions x --idle "$OUT/room-tone.opus" --streams 11 --seconds 60
          run idle-off x --idle "$OUT/room-tone.opus" --streams 11 --seconds 60 --no-captions ;;
    noise) python3 $py noisy --shared "$SHARED" --out "$OUT/room-noise" --minutes 30
           run noise "$OUT/room-noise" ;;
    esac
done
