#!/usr/bin/env bash
# Quick start, part 1: the main job on the shipped sample room.
# Builds roomcast (installing cmake and a C compiler if missing), imports the three-speaker sample
# conversation in samples/conversation/ into a session, and masters it to MP3, Opus and WAV with
# per-speaker multitrack files. Everything lands in demo-output/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_tools build

echo "==> building roomcast (release)"
cargo build --release --quiet
bin=target/release/roomcast

out=demo-output/room-notes
# The demo owns demo-output/: a previous demo's session is replaced, nothing else is touched.
if [[ -e $out ]]; then
    if [[ -f $out/room.json ]] && grep -q '"title": "Room Notes (demo)"' "$out/room.json"; then
        rm -rf "$out"
    else
        echo "roomcast demo: $out exists and is not a previous demo session; move it away first" >&2
        exit 1
    fi
fi
mkdir -p demo-output

echo "==> importing the sample room (3 speakers; Priya joins 38 s in)"
"$bin" import \
    --speaker Maya=samples/conversation/maya.opus \
    --speaker Theo=samples/conversation/theo.opus \
    --speaker Priya=samples/conversation/priya.opus \
    --offset Priya=38 \
    --chapter 0=Welcome --chapter 34.5="Our guest" \
    --title "Room Notes (demo)" \
    --out "$out"

echo "==> mastering"
"$bin" mix "$out" --format mp3,opus,wav --multitrack wav

echo
echo "Done. The session is $out/:"
echo "  room.json, events.jsonl     the room: speakers, when they were present, chapters"
echo "  tracks/*.opus               each speaker's Opus, exactly as recorded, aligned on the room clock"
echo "  master.mp3 / .opus / .wav   the podcast master (-16 LUFS, true peak under -1 dBTP)"
echo "  master.json                 what was measured"
echo "  multitrack/*.wav            per-speaker files of equal length for a DAW"
echo "Listen: ffplay $out/master.mp3   (or any player)"
