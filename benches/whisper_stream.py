"""whisper.cpp's `stream` example (whisper-stream) on a room's speaker audio, in real time, measured
as benches/live_captions.py measures roomcast's live captions: latency from the end of each
utterance to the text that will not change any more, and WER against the truth.

    python3 whisper_stream.py BIN MODEL ROOM_DIR OUT_DIR MODE

BIN is whisper-stream built with SDL2; it hears the speaker's WAV through SDL's disk audio driver
(SDL_AUDIODRIVER=disk reads SDL_DISKAUDIOFILEIN in real time, one buffer per buffer's duration).
ROOM_DIR is a one-speaker room of tests/tools/rooms.py. MODE:
  sliding   --step 500 --length 5000 (the example's README): a line is re-decoded every 0.5 s and
            kept (a new line) every 4.5 s; a kept line is final.
  vad       --step 0 --length 10000 -vth 0.6: after 1 s of quiet, the last 10 s are decoded; each
            "Transcription N" block is final (and may repeat what an earlier one said).
Time zero is when the example opened the capture device (its stderr says so; it starts capturing
right after). Prints one JSON object.
"""
import json
import os
import re
import selectors
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "tools"))
import wer  # noqa: E402


def main():
    binary, model, room, out, mode = sys.argv[1:6]
    os.makedirs(out, exist_ok=True)
    truth = json.load(open(os.path.join(room, "truth.json")))
    (speaker,) = truth["speakers"]
    raw = os.path.join(out, "in.raw")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", speaker["file"], "-af", "apad=pad_dur=8", "-f", "f32le",
                    "-ac", "1", "-ar", "16000", raw], check=True)
    args = {"sliding": ["--step", "500", "--length", "5000"],
            "vad": ["--step", "0", "--length", "10000", "-vth", "0.6"]}[mode]
    env = dict(os.environ, SDL_AUDIODRIVER="disk", SDL_DISKAUDIOFILEIN=raw, SDL_DISKAUDIOFILE="/dev/null")
    started = time.time()
    p = subprocess.Popen([binary, "-m", model, "-t", "2", *args], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ, "out")
    sel.register(p.stderr, selectors.EVENT_READ, "err")
    t0, pieces, err = None, [], b""
    deadline = started + truth["duration"] + 15
    while time.time() < deadline:
        for key, _ in sel.select(timeout=0.2):
            chunk = os.read(key.fileobj.fileno(), 65536)
            now = time.time()
            if key.data == "err":
                err += chunk
                if t0 is None and b"obtained spec" in err:
                    t0 = now
            else:
                pieces.append((now, chunk.decode("utf-8", "replace")))
    p.terminate()
    p.wait()
    text = "".join(c for _, c in pieces)
    open(os.path.join(out, f"{mode}.txt"), "w").write(text)
    # Times at which each character arrived.
    finals = []  # (arrival, text)
    if mode == "sliding":
        # A line is final when its newline comes; what it says is what follows its last clear.
        line, when = "", None
        for now, chunk in pieces:
            for ch in re.split(r"(\n)", chunk):
                if ch == "\n":
                    kept = re.split(r"\x1b\[2K\r", line)[-1].strip()
                    if kept and not kept.startswith("[Start"):
                        finals.append((now, kept))
                    line = ""
                else:
                    line += ch
    else:
        block, opened = None, None
        for now, chunk in pieces:
            for l in chunk.split("\n"):
                if l.startswith("### Transcription") and "START" in l:
                    block = []
                elif l.startswith("### Transcription") and "END" in l and block is not None:
                    said = " ".join(re.sub(r"^\[[^]]*\]\s*", "", b).strip() for b in block).strip()
                    if said:
                        finals.append((now, said))
                    block = None
                elif block is not None and l.strip():
                    block.append(l)
    latency = []
    for u in truth["utterances"]:
        end = t0 + u["speech_end"]
        # The first final after the utterance ended holds its end (both modes decode what was just heard).
        after = [a for a, _ in finals if a >= end]
        if after:
            latency.append(after[0] - end)
    reference = " ".join(u["text"] for u in truth["utterances"])
    hypothesis = " ".join(t for _, t in finals)
    norm = wer.whisper_normalizer()
    score = wer.score([norm(reference)], [norm(hypothesis)])

    def pct(v, q):
        v = sorted(v)
        return round(v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))], 2) if v else None

    open(os.path.join(out, f"{mode}.err"), "wb").write(err)
    print(json.dumps({"mode": mode, "finals": len(finals), "dropped_audio_warnings": err.count(b"dropping audio"), "capture_opened_after_s": round(t0 - started, 2) if t0 else None,
                      "latency_s": {"n": len(latency), "median": pct(latency, 0.5), "p90": pct(latency, 0.9),
                                    "max": pct(latency, 1.0)},
                      "wer": score}))


if __name__ == "__main__":
    main()
