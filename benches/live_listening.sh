#!/usr/bin/env bash
# Live listening: the demo room (three speakers, 80 s, played by `roomcast speak` in real time) is
# recorded into a library with its live mix, `roomcast serve` streams it, and
#   1. benches/glass_to_ear.py listens to the continuous stream and to HLS for the whole room: the
#      glass-to-ear delay of both (median, p90), and the stream's loudness and true peak (ffmpeg
#      ebur128, from 10 s in);
#   2. LISTENERS continuous-stream clients and LISTENERS HLS clients (benches/live_listeners.py)
#      listen for 40 s: serve's CPU and RSS, the fewest bytes a client got, the longest gap;
#   3. the recorder's CPU with the live mix on and off (same room, run twice), next to ffmpeg
#      receiving the same three speakers' RTP live, mixing them with amix and encoding MP3.
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

# One recording of the room; the recorder's user+system CPU seconds go to $lib.time.
# $1: library, $2...: record flags.
record_room() {
    local lib=$1; shift
    local port=$((20000 + RANDOM % 20000))
    ROOMCAST_LIBRARY=$lib /usr/bin/time -f "%U %S" -o "$lib.time" "$bin" --json record "rtp://127.0.0.1:$port" \
        --title "Bench room" --max-duration 82 --no-captions "$@" > "$lib.report.json" &
    local pids=($!)
    sleep 1
    for s in maya theo priya; do
        "$bin" speak "$room/$s.opus" --to "rtp://127.0.0.1:$port" --name "${s^}" > /dev/null &
        pids+=($!)
    done
    wait "${pids[@]}"
}

lib=$PWD/$BENCH_DIR/lib
ROOMCAST_LIBRARY=$lib "$bin" --json serve --addr 127.0.0.1:0 > "$BENCH_DIR/serve.json" 2> "$BENCH_DIR/serve.log" &
serve=$!
trap 'kill $serve 2>/dev/null || true' EXIT
sleep 1
base=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$BENCH_DIR/serve.json")
( record_room "$lib" ) &
recording=$!
sleep 5
id=$(ls "$lib/rooms" | head -1)
python3 benches/glass_to_ear.py capture "$base" "$id" 80 "$BENCH_DIR/heard" &
capture=$!
sleep 5
python3 benches/live_listeners.py "$base" "$id" "$serve" 40 "$LISTENERS" | tee "$BENCH_DIR/listeners.json"
wait $recording
wait $capture || true
"$bin" mix "$lib/rooms/$id" --format mp3 > /dev/null
echo "== glass-to-ear: packet at the recorder -> audio at the listener (s)"
python3 benches/glass_to_ear.py analyze "$BENCH_DIR/heard" "$lib/rooms/$id/master.mp3" "$lib/rooms/$id/room.json"
echo "== loudness of the live stream, from 10 s in (ffmpeg ebur128)"
ffmpeg -hide_banner -nostats -ss 10 -i "$BENCH_DIR/heard/stream.mp3" -af ebur128=peak=true -f null - 2>&1 | sed -n '/Summary/,$p' | grep -E "I:|Peak:"
echo "== live mix report"; python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["outputs"]["live_mix"]))' "$lib.report.json"

echo "== recorder CPU: live mix on vs off (the same room; the recorder process only)"
for mix in --live-mix --no-live-mix; do
    l=$PWD/$BENCH_DIR/cpu$mix
    record_room "$l" "$mix"
    echo "$mix: $(awk '{print $1+$2}' "$l.time") s CPU for an 80 s room of 3 speakers"
done

echo "== ffmpeg: the same three speakers' RTP received live, mixed (amix), leveled and encoded to MP3 64k"
port=$((20000 + RANDOM % 20000))
inputs=() labels=""
for i in 0 1 2; do
    p=$((port + 2 * i))
    printf 'v=0\no=- 0 0 IN IP4 127.0.0.1\ns=speaker %s\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio %s RTP/AVP 111\na=rtpmap:111 opus/48000/2\n' $i $p > "$BENCH_DIR/s$i.sdp"
    inputs+=(-protocol_whitelist file,udp,rtp -i "$BENCH_DIR/s$i.sdp")
    labels+="[$i:a]aresample=async=1:first_pts=0[a$i];"
done
/usr/bin/time -f "%U %S" -o "$BENCH_DIR/ffmpeg.time" timeout -s INT 90 ffmpeg -v error -nostdin -y "${inputs[@]}" -t 80 \
    -filter_complex "${labels}[a0][a1][a2]amix=inputs=3:normalize=0,loudnorm=I=-16:TP=-1" -ac 1 -ar 48000 -b:a 64k -f mp3 "$BENCH_DIR/ffmpeg-mix.mp3" &
ff=$!
sleep 2
i=0
for s in maya theo priya; do
    "$bin" speak "$room/$s.opus" --to "rtp://127.0.0.1:$((port + 2 * i))" --name "${s^}" > /dev/null &
    i=$((i + 1))
done
wait $ff
echo "ffmpeg RTP+amix+loudnorm+mp3: $(awk '{print $1+$2}' "$BENCH_DIR/ffmpeg.time") s CPU for the room"
ffprobe -v error -show_entries format=duration -of csv=p=0 "$BENCH_DIR/ffmpeg-mix.mp3" | sed 's/^/ffmpeg mix duration (s): /'
