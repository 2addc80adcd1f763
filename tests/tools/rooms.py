#!/usr/bin/env python3
"""Test rooms with known truth, built from the shared speech (../shared/samples) and espeak-ng.

Each room is a folder of per-speaker 16 kHz mono WAV files (what `roomcast import` takes) and
truth.json: the speakers, every utterance (speaker, start, end, reference text, where its speech
really starts and ends) and, where known exactly, every word's start and end. Times are seconds on
the room clock. Rooms are deterministic for a given seed.

  rooms.py overlap --shared DIR --out DIR [--speakers 3] [--minutes 3] [--overlap 0.15] [--seed 7]
      Speakers taking turns with real speech (LJ Speech, LibriSpeech, JFK), quick hand-overs,
      and about --overlap of the speech talked over by someone else.
  rooms.py words --out DIR [--seed 3] [--held-out]
      One speaker whose words were synthesized one at a time (espeak-ng) and joined with known
      pauses: every word boundary is known to the sample. --held-out: another text, voice
      (en-gb-scotland) and seed (41), never used to tune how words are timed; what the timing is
      judged on.
  rooms.py chorus --shared DIR --out DIR [--speakers 3] [--minutes 1.5] [--seed 9]
      Every speaker talking at once all the time: each their own run of utterances with short
      pauses (0.4-1.5 s) between them, as a stress test of live captions.
  rooms.py noisy --shared DIR --out DIR [--seed 5]
      Two speakers with a few utterances each, and minutes of room tone, keyboard clicks,
      breathing and a cough on their tracks between them.
  rooms.py sample --timeline samples/conversation/timeline.txt --out DIR
      Only truth.json, for the shipped sample room (its lines as rendered, from its timeline).
  rooms.py clips --shared DIR --out DIR [--gain 1.0] [--room-tone]
      The 55 utterances of wer_set.tsv, one speaker each, all starting at the room's first sample
      (per-speaker transcription sees each exactly as a clip of its own). --gain scales the
      speech (0.5: a speaker 6 dB quieter); --room-tone puts room tone (about -60 dBFS) under each
      track and lets it run a second past the speech, as a microphone left open would.
"""
import argparse
import json
import os
import random
import subprocess
import tempfile

import numpy as np

RATE = 16_000


def load(path):
    """Any audio file, as 16 kHz mono float32 (ffmpeg decodes and resamples)."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, dtype="<f4").copy()


def write_wav(path, samples):
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    import wave

    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def speech_extent(samples, floor_db=-45.0):
    """First and last sample (seconds) where the 10 ms RMS is within floor_db of the clip's peak."""
    win = RATE // 100
    n = len(samples) // win
    if n == 0:
        return 0.0, len(samples) / RATE
    rms = np.sqrt(np.mean(samples[: n * win].reshape(n, win) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(rms / rms.max())
    loud = np.nonzero(db > floor_db)[0]
    return loud[0] * win / RATE, (loud[-1] + 1) * win / RATE


def shared_utterances(shared):
    """(path, reference text) for every utterance of wer_set.tsv."""
    out = []
    with open(os.path.join(shared, "samples", "wer_set.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            path, text = line.rstrip("\n").split("\t", 1)
            out.append((os.path.join(shared, path), text))
    return out


def save(out, speakers, tracks, utterances, words=None, extra=None):
    os.makedirs(out, exist_ok=True)
    length = max(len(t) for t in tracks)
    files = []
    for name, track in zip(speakers, tracks):
        track = np.pad(track, (0, length - len(track)))
        path = os.path.join(out, name.lower() + ".wav")
        write_wav(path, track)
        files.append(path)
    truth = {
        "duration": length / RATE,
        "speakers": [{"name": n, "file": f} for n, f in zip(speakers, files)],
        "utterances": sorted(utterances, key=lambda u: u["start"]),
    }
    if words is not None:
        truth["words"] = words
    if extra:
        truth.update(extra)
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as f:
        json.dump(truth, f, indent=1)


def place(track, at, samples):
    a = int(round(at * RATE))
    if len(track) < a + len(samples):
        track = np.pad(track, (0, a + len(samples) - len(track)))
    track[a : a + len(samples)] += samples
    return track


def overlap(args):
    rng = random.Random(args.seed)
    clips = [(p, t, load(p)) for p, t in shared_utterances(args.shared)]
    names = ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay"][: args.speakers]
    gains = [1.0, 0.5, 0.7, 0.35, 0.8, 0.6][: args.speakers]
    tracks = [np.zeros(0, dtype=np.float32) for _ in names]
    utterances = []
    t, last, speaker = 0.5, None, 0
    busy = [0.0] * len(names)
    order = list(range(len(clips)))
    rng.shuffle(order)
    k = 0
    while t < args.minutes * 60:
        path, text, audio = clips[order[k % len(order)]]
        k += 1
        # Someone who is not talking already (a speaker never overlaps themselves).
        free = [i for i in range(len(names)) if i != last and busy[i] <= t] or [min(range(len(names)), key=lambda i: busy[i])]
        speaker = rng.choice(free)
        t = max(t, busy[speaker])
        last = speaker
        s0, s1 = speech_extent(audio)
        tracks[speaker] = place(tracks[speaker], t, audio * gains[speaker])
        busy[speaker] = t + len(audio) / RATE + 0.2
        utterances.append(
            {
                "speaker": names[speaker],
                "start": round(t, 3),
                "end": round(t + len(audio) / RATE, 3),
                "speech_start": round(t + s0, 3),
                "speech_end": round(t + s1, 3),
                "text": text,
                "source": os.path.relpath(path, args.shared),
            }
        )
        # The next speaker comes in before this one is done (an overlap) or after a quick pause.
        length = s1
        if rng.random() < min(0.9, args.overlap * 3.5):
            t = t + length - rng.uniform(0.5, min(4.0, length * 0.7))
        else:
            t = t + length + rng.uniform(0.15, 1.2)
    save(args.out, names, tracks, utterances)


def chorus(args):
    rng = random.Random(args.seed)
    clips = [(p, t, load(p)) for p, t in shared_utterances(args.shared)]
    names = ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hal"][: args.speakers]
    tracks, utterances = [], []
    for i, name in enumerate(names):
        track = np.zeros(0, dtype=np.float32)
        t = 0.5 + 0.3 * i
        while t < args.minutes * 60:
            path, text, audio = clips[rng.randrange(len(clips))]
            s0, s1 = speech_extent(audio)
            track = place(track, t, audio * 0.7)
            utterances.append({"speaker": name, "start": round(t, 3), "end": round(t + len(audio) / RATE, 3),
                               "speech_start": round(t + s0, 3), "speech_end": round(t + s1, 3), "text": text,
                               "source": os.path.relpath(path, args.shared)})
            t += s1 + rng.uniform(0.4, 1.5)
        tracks.append(track)
    save(args.out, names, tracks, utterances)


# Sentences end with a full stop: each is an utterance of its own.
WORDS_TEXT = (
    "the forms of printed letters should be beautiful and their arrangement on the page should be "
    "reasonable. for a full hour he had paced up and down waiting but he could wait no longer. "
    "ask not what your country. can do for you ask what you can do for your country. "
    "every speaker deserves a track of their own so the names are always right"
)

# The held-out room's text: words and sentences of its own, read by another voice.
HELD_OUT_TEXT = (
    "the library closed early on friday so we carried the boxes of letters across the square. "
    "a small dog followed us all the way to the bridge and then sat down in the rain. "
    "my brother laughed when he saw the wet paper. "
    "we dried every page by the kitchen fire before supper"
)


def words(args):
    text, voice = (HELD_OUT_TEXT, "en-gb-scotland") if args.held_out else (WORDS_TEXT, "en-us")
    seed = args.seed if args.seed is not None else (41 if args.held_out else 3)
    rng = random.Random(seed)
    tmp = tempfile.mkdtemp()
    track = np.zeros(int(0.6 * RATE), dtype=np.float32)
    t = 0.6
    out_words, utterances = [], []
    sentence_start, sentence = t, []
    for i, token in enumerate(text.split()):
        word = token.rstrip(".")
        wav = os.path.join(tmp, f"w{i}.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", wav, word], check=True)
        audio = load(wav)
        s0, s1 = speech_extent(audio, floor_db=-40.0)
        audio = audio[int(s0 * RATE) : int(s1 * RATE)] * 0.6
        track = place(track, t, audio)
        out_words.append({"word": word, "start": round(t, 3), "end": round(t + len(audio) / RATE, 3)})
        sentence.append(word)
        t += len(audio) / RATE
        # Pauses between words as people leave them: some words run into the next, most pauses
        # are short, some long.
        t += rng.choice([0.0, 0.0, 0.03, 0.08, 0.12, 0.15, 0.2, 0.25, 0.3, 0.45, 0.6])
        if token.endswith(".") and sentence:
            utterances.append(
                {"speaker": "Wren", "start": round(sentence_start, 3), "end": round(t, 3),
                 "speech_start": round(sentence_start, 3), "speech_end": out_words[-1]["end"],
                 "text": " ".join(sentence)}
            )
            t += 1.5
            sentence_start, sentence = t, []
    if sentence:
        utterances.append(
            {"speaker": "Wren", "start": round(sentence_start, 3), "end": round(t, 3),
             "speech_start": round(sentence_start, 3), "speech_end": out_words[-1]["end"],
             "text": " ".join(sentence)}
        )
    track = np.pad(track, (0, RATE))
    # Room tone under everything, about -60 dBFS: the pauses are quiet, not digital silence.
    tone = np.random.default_rng(seed).standard_normal(len(track)).astype(np.float32)
    track = track + np.convolve(tone, np.ones(8) / 8, mode="same").astype(np.float32) * 0.003
    save(args.out, ["Wren"], [track], utterances, words=out_words)


def noisy(args):
    rng = random.Random(args.seed)
    np_rng = np.random.default_rng(args.seed)
    clips = [(p, t, load(p)) for p, t in shared_utterances(args.shared)]
    names = ["Ana", "Ben"]
    length = int(args.minutes * 60 * RATE)
    tracks = []
    events = []
    utterances = []
    for s, name in enumerate(names):
        # Room tone: low-passed noise at about -62 dBFS, all the time.
        tone = np_rng.standard_normal(length).astype(np.float32)
        tone = np.convolve(tone, np.ones(8) / 8, mode="same") * 0.0025
        track = tone.copy()
        # Four utterances, far apart.
        picks = rng.sample(range(len(clips)), 4)
        at = 5.0 + s * 9.0
        for j, c in enumerate(picks):
            path, text, audio = clips[c]
            s0, s1 = speech_extent(audio)
            track = place(track, at, audio * 0.7)
            utterances.append({"speaker": name, "start": round(at, 3), "end": round(at + len(audio) / RATE, 3),
                               "speech_start": round(at + s0, 3), "speech_end": round(at + s1, 3), "text": text})
            gap_start = at + len(audio) / RATE + 1.0
            at += len(audio) / RATE + rng.uniform(35.0, 55.0)
            gap_end = at - 1.0
            # Between utterances: keyboard clicks, breathing and a cough, none of it speech.
            t = gap_start + 2.0
            while t < gap_end - 3.0:
                kind = rng.choice(["keys", "keys", "breath", "breath", "cough"] if j % 2 == 0 else ["keys", "breath"])
                if kind == "keys":
                    for _ in range(rng.randint(5, 25)):
                        n = int(0.012 * RATE)
                        click = np_rng.standard_normal(n).astype(np.float32) * np.exp(-np.arange(n) / (0.002 * RATE))
                        track = place(track, t, click * 0.08)
                        t += rng.uniform(0.08, 0.3)
                    events.append({"speaker": name, "kind": "keyboard", "at": round(t, 3)})
                elif kind == "breath":
                    n = int(rng.uniform(0.8, 1.6) * RATE)
                    env = np.sin(np.linspace(0, np.pi, n)) ** 2
                    breath = np.convolve(np_rng.standard_normal(n), np.ones(4) / 4, mode="same") * env * 0.02
                    track = place(track, t, breath.astype(np.float32))
                    events.append({"speaker": name, "kind": "breath", "at": round(t, 3)})
                    t += n / RATE
                else:
                    n = int(0.35 * RATE)
                    env = np.exp(-np.arange(n) / (0.08 * RATE)) * (1 - np.exp(-np.arange(n) / (0.005 * RATE)))
                    # A cough is a burst of broadband noise with a voiced rasp under it.
                    rasp = np.sin(2 * np.pi * 140 * np.arange(n) / RATE) * 0.5
                    cough = (np_rng.standard_normal(n) + rasp) * env * 0.25
                    track = place(track, t, cough.astype(np.float32))
                    events.append({"speaker": name, "kind": "cough", "at": round(t, 3)})
                    t += 0.5
                t += rng.uniform(2.0, 6.0)
        tracks.append(track[: max(length, len(track))])
    save(args.out, names, tracks, utterances, extra={"noises": events})


def clips(args):
    utterances, tracks, names = [], [], []
    for i, (path, text) in enumerate(shared_utterances(args.shared)):
        audio = load(path) * args.gain
        s0, s1 = speech_extent(audio)
        name = f"S{i + 1:02}"
        names.append(name)
        end = len(audio) / RATE
        if args.room_tone:
            audio = np.pad(audio, (0, RATE))
            tone = np.random.default_rng(i).standard_normal(len(audio)).astype(np.float32)
            audio = audio + np.convolve(tone, np.ones(8) / 8, mode="same").astype(np.float32) * 0.003
        tracks.append(audio)
        utterances.append({"speaker": name, "start": 0.0, "end": round(end, 3),
                           "speech_start": round(s0, 3), "speech_end": round(s1, 3), "text": text,
                           "source": os.path.relpath(path, args.shared)})
    save(args.out, names, tracks, utterances)


def sample(args):
    utterances, names = [], []
    with open(args.timeline, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            times, name, text = line.rstrip("\n").split("\t", 2)
            start, end = (float(t) for t in times.split("-"))
            if name not in names:
                names.append(name)
            utterances.append({"speaker": name, "start": start, "end": end, "speech_start": start,
                               "speech_end": end, "text": text})
    os.makedirs(args.out, exist_ok=True)
    truth = {"duration": max(u["end"] for u in utterances), "speakers": [{"name": n} for n in names],
             "utterances": utterances}
    with open(os.path.join(args.out, "truth.json"), "w", encoding="utf-8") as f:
        json.dump(truth, f, indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="room", required=True)
    o = sub.add_parser("overlap")
    o.add_argument("--speakers", type=int, default=3)
    o.add_argument("--minutes", type=float, default=3.0)
    o.add_argument("--overlap", type=float, default=0.15)
    o.add_argument("--seed", type=int, default=7)
    w = sub.add_parser("words")
    w.add_argument("--seed", type=int)
    w.add_argument("--held-out", action="store_true")
    n = sub.add_parser("noisy")
    n.add_argument("--minutes", type=float, default=4.0)
    n.add_argument("--seed", type=int, default=5)
    ch = sub.add_parser("chorus")
    ch.add_argument("--speakers", type=int, default=3)
    ch.add_argument("--minutes", type=float, default=1.5)
    ch.add_argument("--seed", type=int, default=9)
    c = sub.add_parser("clips")
    c.add_argument("--gain", type=float, default=1.0)
    c.add_argument("--room-tone", action="store_true")
    s = sub.add_parser("sample")
    s.add_argument("--timeline", required=True)
    for q in (o, w, n, ch, c, s):
        q.add_argument("--shared", default=os.environ.get("ROOMCAST_SHARED", "../shared"))
        q.add_argument("--out", required=True)
    args = p.parse_args()
    {"overlap": overlap, "words": words, "noisy": noisy, "chorus": chorus, "clips": clips, "sample": sample}[args.room](args)


if __name__ == "__main__":
    main()
