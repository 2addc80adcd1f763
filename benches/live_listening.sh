#!/usr/bin/env bash
# Live listening: the demo room (three speakers, 80 s, played by `roomcast speak` in real time) is
# recorded into a library with its live mix, `roomcast serve` streams it, and
#   1. ffmpeg captures the continuous stream for the whole room: its loudness and true peak
#      (ffmpeg ebur128, from 10 s in), and where it sits in the final master (glass-to-ear delay);
#   2. LISTENERS continuous-stream clients and LISTENERS HLS clients (benches/live_listeners.py)
#      listen for 40 s: serve's CPU and RSS, the fewest bytes a client got, the longest gap;
#   3. the recorder's CPU with the live mix on and off (same room, run twice), next to ffmpeg
#      mixing the same three speakers with amix and encoding MP3 in real time.
#
#   benches/live_listening.sh            LISTENERS=100 by default
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_tools test
LISTENERS=${LISTENERS:-100}
BENCH_DIR=${BENCH_DIR:-bench-data/live-listening}
cargo build --release --quiet
bin=$PWD/target/release/roomcast
rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR"
room=samples/conversation

# One recording of the room: prints the recorder's CPU seconds. $1: library, $2...: record flags.
record_room() {
    local lib=$1; shift
    local port=$((20000 + RANDOM % 20000))
    ROOMCAST_LIBRARY=$lib "$bin" --json record "rtp://127.0.0.1:$port" --title "Bench room" \
        --max-duration 82 --no-captions "$@" > "$lib.report.json" &
    local rec=$!
    sleep 1
    for s in maya theo priya; do
        "$bin" speak "$room/$s.opus" --to "rtp://127.0.0.1:$port" --name "${s^}" > /dev/null &
    done
    echo $rec > "$lib.pid"
    wait $rec
    wait
}

lib=$PWD/$BENCH_DIR/lib
ROOMCAST_LIBRARY=$lib "$bin" --json serve --addr 127.0.0.1:0 > "$BENCH_DIR/serve.json" 2> "$BENCH_DIR/serve.log" &
serve=$!
trap 'kill $serve 2>/dev/null || true' EXIT
sleep 1
base=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$BENCH_DIR/serve.json")
( record_room "$lib" ) &
recording=$!
sleep 6
id=$(ls "$lib/rooms" | head -1)
capture_started=$(date +%s.%N)
ffmpeg -v error -nostdin -y -i "$base/rooms/$id/live.mp3" -c copy -f mp3 "$BENCH_DIR/heard.mp3" &
capture=$!
sleep 4
python3 benches/live_listeners.py "$base" "$id" "$serve" 40 "$LISTENERS" | tee "$BENCH_DIR/listeners.json"
wait $recording
wait $capture || true
"$bin" mix "$lib/rooms/$id" --format mp3 > /dev/null
started=$(python3 -c 'import json,sys,datetime; print(datetime.datetime.fromisoformat(json.load(open(sys.argv[1]))["started_at"]).timestamp())' "$lib/rooms/$id/room.json")
echo "== loudness of the live stream, from 10 s in (ffmpeg ebur128)"
ffmpeg -hide_banner -nostats -ss 10 -i "$BENCH_DIR/heard.mp3" -af ebur128=peak=true -f null - 2>&1 | sed -n '/Summary/,$p' | grep -E "I:|Peak:"
echo "== glass-to-ear: where the captured stream's start sits in the master"
python3 tests/tools/align.py "$BENCH_DIR/heard.mp3" "$lib/rooms/$id/master.mp3" | python3 -c "
import json,sys; a=json.load(sys.stdin); edge=$capture_started-$started
print(json.dumps({**a, 'live_edge_s': round(edge,2), 'stream_behind_live_edge_s': round(edge-a['lag'],2)}))"
echo "== live mix report"; python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["outputs"]["live_mix"]))' "$lib.report.json"

echo "== recorder CPU: live mix on vs off (the same room)"
for mix in --live-mix --no-live-mix; do
    l=$PWD/$BENCH_DIR/cpu$mix
    /usr/bin/time -f "%U %S" -o "$l.time" bash -c "$(declare -f record_room); bin=$bin room=$room record_room $l $mix" 2>/dev/null
    echo "$mix: $(awk '{print $1+$2}' "$l.time") s CPU for an 80 s room (recorder + 3 speak processes)"
done
echo "== ffmpeg: the same three speakers mixed (amix) and encoded to MP3 64k in real time"
/usr/bin/time -f "%U %S" -o "$BENCH_DIR/ffmpeg.time" ffmpeg -v error -nostdin -y -re -i "$room/maya.opus" -re -i "$room/theo.opus" -re -i "$room/priya.opus" \
    -filter_complex "amix=inputs=3:normalize=0,loudnorm=I=-16:TP=-1" -ac 1 -ar 48000 -b:a 64k -f mp3 "$BENCH_DIR/ffmpeg-mix.mp3"
echo "ffmpeg amix+loudnorm+mp3: $(awk '{print $1+$2}' "$BENCH_DIR/ffmpeg.time") s CPU for 80 s"
