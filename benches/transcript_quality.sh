#!/usr/bin/env bash
# Transcript quality on the real tiny.en, scored by independent tools (tests/tools/score.py: jiwer
# and OpenAI's English normalizer): the 55 utterances of ../shared/samples/wer_set.tsv (as clips,
# and 6 dB quieter over room tone), the sample room, a three-speaker room with overlaps
# (per-speaker WER against whisper over its mixed-down master in one pass, same model), words with
# known boundaries (the room word timing was tuned on, and a held-out one), and a noisy room.
#
#   benches/transcript_quality.sh                 # OVERLAP_MINUTES=10
#   BIN=/path/to/roomcast benches/transcript_quality.sh   # another build (a change's before)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_tools bench

SHARED=${ROOMCAST_SHARED:-../shared}
export ROOMCAST_SHARED=$SHARED ROOMCAST_MODELS=${ROOMCAST_MODELS:-$SHARED/models}
MODEL=${MODEL:-$SHARED/models/ggml-tiny.en.bin}
OVERLAP_MINUTES=${OVERLAP_MINUTES:-10}
DIR=${BENCH_DIR:-bench-data/quality}
THREADS=${THREADS:-2}

cargo build --release --quiet
bin=$(realpath "${BIN:-target/release/roomcast}")
one_pass=$(cargo bench --bench whisper_one_pass --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "whisper_one_pass" and m.get("executable"):
        print(m["executable"])')
rm -rf "$DIR"
mkdir -p "$DIR"

room() { # NAME KIND ARGS... -> imports DIR/NAME/session
    local name=$1 kind=$2
    shift 2
    python3 tests/tools/rooms.py "$kind" --out "$DIR/$name" "$@"
    local args
    args=$(python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))
print(" ".join("--speaker %s=%s" % (s["name"], s["file"]) for s in t["speakers"]))' "$DIR/$name/truth.json")
    # shellcheck disable=SC2086 # one argument per word
    "$bin" import $args --title "$name" --out "$DIR/$name/session" >/dev/null
}

transcribe() { # SESSION -> prints wall time
    /usr/bin/time -f "%e s wall, %U+%S s CPU, %M KB" "$bin" --json transcribe "$1" --model "$MODEL" \
        --language en --threads "$THREADS" 2>&1 >"$1/report.json" | tail -1
}

summary() { # TRUTH_DIR SESSION [MIX_TEXT]
    local mix=()
    [[ -n ${3:-} ]] && mix=(--mix-text "$3")
    python3 tests/tools/score.py "$1/truth.json" "$2/transcript.json" "${mix[@]}" | python3 -c 'import json, sys
s = json.load(sys.stdin)
a = s["per_speaker"]["all"]
print("  WER %.2f %% (whisper normalizer), %.2f %% (lowercase, no punctuation); %d words; %d off their speaker, %d on another speaker, %d outside all speech; first words lost: %d" % (
    100 * a["wer"], 100 * s["plain"]["wer"], s["words"], s["off_speaker"], s["wrong_speaker"], s["outside_speech"], len(a["first_word_lost"])))
for k, v in s["per_speaker"].items():
    if k != "all" and len(s["per_speaker"]) <= 8:
        print("    %-6s %.2f %% (%d of %d)" % (k, 100 * v["wer"], v["errors"], v["words"]))
if "timing" in s:
    print("  word times vs exact boundaries: %s" % s["timing"])
print("  utterance edges (real speech): %s" % s["utterance_edges"])
if "mix" in s:
    print("  whisper over the mixed master, one pass: WER %.2f %% (%.2f %% plain); per speaker / mix = %.2f" % (
        100 * s["mix"]["wer"], 100 * s["mix_plain"]["wer"], a["wer"] / s["mix"]["wer"]))'
}

echo "==> 55 utterances (wer_set.tsv), one speaker each"
room clips clips
echo "  transcribe: $(transcribe "$DIR/clips/session")"
summary "$DIR/clips" "$DIR/clips/session"

echo "==> the same 55, 6 dB quieter over room tone, from each track's first sample"
room quiet clips --gain 0.5 --room-tone
echo "  transcribe: $(transcribe "$DIR/quiet/session")"
summary "$DIR/quiet" "$DIR/quiet/session"

echo "==> the sample room (espeak-ng voices)"
"$bin" import --speaker Maya=samples/conversation/maya.opus --speaker Theo=samples/conversation/theo.opus \
    --speaker Priya=samples/conversation/priya.opus --offset Priya=38 --out "$DIR/sample/session" >/dev/null
python3 tests/tools/rooms.py sample --timeline samples/conversation/timeline.txt --out "$DIR/sample"
echo "  transcribe: $(transcribe "$DIR/sample/session")"
summary "$DIR/sample" "$DIR/sample/session"

echo "==> a ${OVERLAP_MINUTES}-minute three-speaker room with overlaps"
room overlap overlap --minutes "$OVERLAP_MINUTES" --speakers 3 --overlap 0.15
echo "  transcribe: $(transcribe "$DIR/overlap/session")"
"$bin" mix "$DIR/overlap/session" --format wav --mono >/dev/null
ffmpeg -v error -y -i "$DIR/overlap/session/master.wav" -ac 1 -ar 16000 -c:a pcm_s16le "$DIR/overlap/mix16k.wav"
/usr/bin/time -f "  whisper one pass over the mix: %e s wall" "$one_pass" "$MODEL" "$DIR/overlap/mix16k.wav" "$THREADS" \
    >"$DIR/overlap/mix.txt"
summary "$DIR/overlap" "$DIR/overlap/session" "$DIR/overlap/mix.txt"

echo "==> words synthesized one at a time, joined with known pauses, over room tone"
room words words
echo "  transcribe: $(transcribe "$DIR/words/session")"
summary "$DIR/words" "$DIR/words/session"

echo "==> the held-out word room: its own text, voice and pauses, never tuned on"
room heldout words --held-out
echo "  transcribe: $(transcribe "$DIR/heldout/session")"
summary "$DIR/heldout" "$DIR/heldout/session"

echo "==> minutes of room tone, keyboard, breathing and coughs between utterances"
room noisy noisy --minutes 4
echo "  transcribe: $(transcribe "$DIR/noisy/session")"
summary "$DIR/noisy" "$DIR/noisy/session"
