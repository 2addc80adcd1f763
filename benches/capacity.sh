#!/usr/bin/env bash
# Capacity: how many live speaker streams one recorder takes with no loss, and its CPU and memory per
# stream, side by side with ffmpeg receiving the same streams the way a user would (one
# `ffmpeg -i stream.sdp -c copy out.ogg` per stream).
#
#   benches/capacity.sh                      # defaults below
#   STREAMS="250 500 1000" SECONDS_PER_RUN=20 FFMPEG_STREAMS=40 benches/capacity.sh
#
# The load generator is `roomcast speak --streams N` (50 packets/s per stream, real Opus from the
# sample, RTP with the audio-level extension, RTCP SR/SDES). CPU is user+system time from
# getrusage of each receiver process tree, divided by the wall time it was receiving.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_tools test

STREAMS=${STREAMS:-"100 1000 2000 3000"}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
FFMPEG_STREAMS=${FFMPEG_STREAMS:-100}
BENCH_DIR=${BENCH_DIR:-bench-data/capacity}
voice=samples/conversation/maya.opus

cargo build --release --quiet
bin=$PWD/target/release/roomcast
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"

# Runs a command and prints "CPU_SECONDS MAX_RSS_KB WALL_SECONDS" for it and all its children.
measure() {
    python3 - "$@" <<'EOF'
import resource, subprocess, sys, time
t = time.time()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)
wall = time.time() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stdout.buffer.write(p.stdout)
print(f"\nMEASURE {ru.ru_utime + ru.ru_stime:.3f} {ru.ru_maxrss} {wall:.3f}")
sys.exit(p.returncode)
EOF
}

port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1] & ~1)'; }

echo "| streams | packets sent | received | lost | recorder CPU (% of a core) | CPU per stream (µs/s) | max RSS (MB) | RSS per stream (KB) |"
echo "|---|---|---|---|---|---|---|---|"
best=0
for n in $STREAMS; do
    p=$(port)
    out="$BENCH_DIR/room-$n"
    measure "$bin" --json record "rtp://127.0.0.1:$p" --max-duration $((SECONDS_PER_RUN + 2)) --out "$out" >"$BENCH_DIR/rec-$n.json" &
    rec=$!
    sleep 1
    "$bin" --json speak "$voice" --to "rtp://127.0.0.1:$p" --streams "$n" --limit "$SECONDS_PER_RUN" --name load >"$BENCH_DIR/speak-$n.json"
    wait $rec
    read -r cpu rss wall < <(grep '^MEASURE' "$BENCH_DIR/rec-$n.json" | cut -d' ' -f2-)
    sed -i '/^MEASURE/d' "$BENCH_DIR/rec-$n.json"
    sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packets_sent"])' "$BENCH_DIR/speak-$n.json")
    read -r got lost < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["network"]; print(r["packets"], r["lost"])' "$BENCH_DIR/rec-$n.json")
    share=$(python3 -c "print(f'{100*$cpu/$wall:.1f}')")
    per=$(python3 -c "print(f'{1e6*$cpu/$wall/$n:.0f}')")
    per_kb=$(python3 -c "print(f'{$rss/$n:.0f}')")
    echo "| $n | $sent | $got | $((sent - got)) | $share % | $per | $((rss / 1024)) | $per_kb |"
    if [[ $got -eq $sent ]] && python3 -c "import sys; sys.exit(0 if $cpu/$wall < 0.5 else 1)"; then best=$n; fi
    rm -rf "$out"
done
echo
echo "Largest tested N with no loss under half a core: $best streams"

# ffmpeg: one process per stream, each with its own SDP and port.
p=$(port)
ffdir="$BENCH_DIR/ffmpeg"
mkdir -p "$ffdir"
pids=()
for k in $(seq 0 $((FFMPEG_STREAMS - 1))); do
    sdp="$ffdir/s$k.sdp"
    printf 'v=0\no=- 0 0 IN IP4 127.0.0.1\ns=load\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio %d RTP/AVP 111\na=rtpmap:111 opus/48000/2\n' $((p + 2 * k)) >"$sdp"
done
cat >"$ffdir/run.sh" <<EOF
for k in \$(seq 0 $((FFMPEG_STREAMS - 1))); do
    ffmpeg -nostdin -v error -protocol_whitelist file,udp,rtp -i "$ffdir/s\$k.sdp" -t $((SECONDS_PER_RUN + 1)) -c copy -y "$ffdir/out\$k.ogg" &
done
wait
EOF
measure bash "$ffdir/run.sh" >"$ffdir/measure.txt" &
ff=$!
sleep 2
"$bin" --json speak "$voice" --to "rtp://127.0.0.1:$p" --streams "$FFMPEG_STREAMS" --spread-ports --limit "$SECONDS_PER_RUN" --name load >"$ffdir/speak.json"
wait $ff
read -r ffcpu ffrss ffwall < <(grep '^MEASURE' "$ffdir/measure.txt" | cut -d' ' -f2-)
# The same number of streams into one roomcast recorder, for the per-stream comparison.
p=$(port)
measure "$bin" --json record "rtp://127.0.0.1:$p" --max-duration $((SECONDS_PER_RUN + 2)) --out "$ffdir/room" >"$ffdir/rec.json" &
rec=$!
sleep 1
"$bin" --json speak "$voice" --to "rtp://127.0.0.1:$p" --streams "$FFMPEG_STREAMS" --limit "$SECONDS_PER_RUN" --name load >/dev/null
wait $rec
read -r rccpu rcrss rcwall < <(grep '^MEASURE' "$ffdir/rec.json" | cut -d' ' -f2-)
python3 - "$FFMPEG_STREAMS" "$ffcpu" "$ffwall" "$rccpu" "$rcwall" <<'EOF'
import sys
n, ffcpu, ffwall, rccpu, rcwall = int(sys.argv[1]), *map(float, sys.argv[2:])
ff = 1e6 * ffcpu / ffwall / n
rc = 1e6 * rccpu / rcwall / n
print(f"\n{n} streams: ffmpeg (one process per stream) {ff:.0f} µs CPU per stream-second, "
      f"roomcast (one recorder) {rc:.0f} µs: {ff / rc:.1f}x less CPU per stream")
EOF
