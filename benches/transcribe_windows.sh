#!/usr/bin/env bash
# Transcription work: audio seconds sent to whisper and windows run by `roomcast transcribe`, against
# transcribing the mixed room in one pass as whisper.cpp's CLI would (duration / 30 s windows), on
# the sample room and on a generated 60-minute 4-speaker room.
#
#   benches/transcribe_windows.sh                  # MINUTES=60 SPEAKERS=4
#
# No real whisper model can be downloaded on the development machines: the runs use whisper.cpp's
# stand-in tiny model (real format, no weights), so the window and audio counts are real and the
# timings are not a model's. With a real model in models/ (MODEL=tiny.en), the timings are real too.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_tools test

SHARED=${ROOMCAST_SHARED:-../shared}
MINUTES=${MINUTES:-60}
SPEAKERS=${SPEAKERS:-4}
MODEL=${MODEL:-$SHARED/models/for-tests-ggml-tiny.en.bin}
BENCH_DIR=${BENCH_DIR:-bench-data/transcribe}
export ROOMCAST_MODELS=${ROOMCAST_MODELS:-$SHARED/models}

cargo build --release --quiet
bin=$PWD/target/release/roomcast
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"

# A room of SPEAKERS people taking turns: each turn is a real LJ Speech clip, 0.5-2 s pauses between
# turns, and now and then the next speaker starts 1 s early (overlap).
python3 - "$SHARED/samples/ljspeech" "$BENCH_DIR" "$MINUTES" "$SPEAKERS" <<'EOF'
import glob, random, sys, wave
src, out, minutes, n = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
clips = []
for path in sorted(glob.glob(src + "/*.wav")):
    with wave.open(path) as w:
        clips.append(w.readframes(w.getnframes()))
rate, width = 22050, 2
total = int(minutes * 60 * rate)
tracks = [bytearray(total * width) for _ in range(n)]
rng = random.Random(7)
at, k = int(0.5 * rate), 0
while True:
    clip = clips[rng.randrange(len(clips))]
    frames = len(clip) // width
    if at + frames > total:
        break
    tracks[k][at * width:(at + frames) * width] = clip
    at += frames + int(rng.uniform(0.5, 2.0) * rate)
    if rng.random() < 0.1:
        at -= int(1.0 * rate) + int(0.5 * rate)
    k = (k + 1) % n
for i, t in enumerate(tracks):
    with wave.open(f"{out}/speaker{i + 1}.wav", "wb") as w:
        w.setnchannels(1); w.setsampwidth(width); w.setframerate(rate); w.writeframes(bytes(t))
EOF

args=()
for i in $(seq 1 "$SPEAKERS"); do args+=(--speaker "Speaker $i=$BENCH_DIR/speaker$i.wav"); done
"$bin" import "${args[@]}" --title "Generated room" --out "$BENCH_DIR/room" >/dev/null
"$bin" import --speaker Maya=samples/conversation/maya.opus --speaker Theo=samples/conversation/theo.opus \
    --speaker Priya=samples/conversation/priya.opus --offset Priya=38 --out "$BENCH_DIR/sample" >/dev/null

echo "| room | length | speakers | mode | windows | audio sent to whisper | one pass over the mix | transcribe wall time |"
echo "|---|---|---|---|---|---|---|---|"
for room in sample room; do
    for language in en auto; do
        start=$(date +%s.%N)
        "$bin" --json transcribe "$BENCH_DIR/$room" --model "$MODEL" --language "$language" >"$BENCH_DIR/$room-$language.json" 2>/dev/null
        end=$(date +%s.%N)
        python3 - "$BENCH_DIR/$room-$language.json" "$room" "$language" "$start" "$end" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["report"]
room, language, wall = sys.argv[2], sys.argv[3], float(sys.argv[5]) - float(sys.argv[4])
mode = "shared windows (--language en)" if language != "auto" else "detected per speaker, then shared (--language auto)"
d = r["room_duration"]
print(f"| {room} | {d / 60:.1f} min | {len(r['speakers'])} | {mode} | {r['windows']} | {r['seconds_sent_to_whisper']:.0f} s "
      f"| {r['one_pass_windows']} windows, {d:.0f} s | {wall:.1f} s |")
EOF
    done
done
echo
echo "model: $MODEL"
