#!/usr/bin/env bash
# What fixing a room after the fact costs, on the hour-long four-speaker room of the transcription
# benchmark (benches/transcribe_speed.sh makes it, with its whisper transcript): roomcast's `redact`
# (master mixed again with the span silent, transcript and every export rewritten, the room indexed
# again, all staged and committed), `speakers --rename` (the same work: the master's tags change), and
# `clip` (no new master), next to what a user without roomcast would run for the audio alone: ffmpeg
# muting the span in the master and encoding it again (the transcript and search left as they were).
#
#   RUNS=3 benches/redact.sh        figures for BENCHMARKS.md, "Fixing a room after the fact"
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
bin=target/release/roomcast
src=bench-data/speed/hour/session
[[ -f $src/transcript.json ]] || { echo "redact.sh: $src has no transcript; run benches/transcribe_speed.sh first" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "redact.sh: needs ffmpeg" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$src" "$work/room"
export ROOMCAST_LIBRARY=$work/lib
"$bin" --json mix "$work/room" --format mp3 >/dev/null
"$bin" --json index "$work/room" >/dev/null
room=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/room/room.json")
measure() { # label, command...: one line "label wall_s peak_rss_mb"
    local label=$1; shift
    /usr/bin/time -f "$label %e %M" "$@" >/dev/null 2>"$work/time" || { cat "$work/time" >&2; exit 1; }
    tail -1 "$work/time" | awk '{printf "%s %s %s %.1f\n", $1, $2, $3, $4 / 1024}'
}
echo "run tool wall_s peak_rss_mb"
for run in $(seq "$runs"); do
    measure "$run roomcast-redact" "$bin" redact "$room" --speaker Ana --from $((600 + run)) --to $((630 + run))
    measure "$run ffmpeg-mute" ffmpeg -v error -y -i "$work/room/master.mp3" \
        -af "volume=enable='between(t,600,630)':volume=0" -c:a libmp3lame -b:a 128k -compression_level 5 "$work/muted.mp3"
    if (( run % 2 )); then rename="Ben=Ben B"; else rename="Ben B=Ben"; fi
    measure "$run roomcast-rename" "$bin" speakers "$room" --rename "$rename"
    measure "$run roomcast-clip" "$bin" clip "$room" --from $((900 + run)) --to $((930 + run)) --title "Clip $run"
done
