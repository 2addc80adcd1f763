#!/usr/bin/env python3
"""Scores a roomcast transcript against a test room's truth (tests/tools/rooms.py), independently of
roomcast's own code: WER with whisper's English normalizer and jiwer (wer.py), speaker attribution
from the truth's timeline, and word times against exactly known word boundaries.

  score.py TRUTH.json TRANSCRIPT.json [--mix-text FILE]

Prints JSON:
  per_speaker      {name: {wer, errors, words}}, and "all": corpus WER over every speaker's own text
  plain            the same over text lowercased without punctuation
  words            words in the transcript
  off_speaker      words whose time lies outside every utterance of their own speaker (+-0.3 s)
  wrong_speaker    of those, words that lie inside another speaker's utterance
  timing           (rooms with known word boundaries) start/end errors in ms: median, p90, matched
  outside_speech   words more than 0.5 s from any utterance of anyone (text invented from noise)
  mix              with --mix-text: WER of that one text (whisper over the mixed room) against the
                   room's whole reference in time order
"""
import argparse
import difflib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wer  # noqa: E402


def percentile(values, p):
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("truth")
    p.add_argument("transcript")
    p.add_argument("--mix-text")
    args = p.parse_args()
    truth = json.load(open(args.truth, encoding="utf-8"))
    doc = json.load(open(args.transcript, encoding="utf-8"))
    norm = wer.whisper_normalizer()
    names = [s["name"] for s in truth["speakers"]]
    utts = truth["utterances"]
    segs = doc["segments"]

    per, refs, hyps, prefs, phyps = {}, [], [], [], []
    for name in names:
        ref = " ".join(u["text"] for u in utts if u["speaker"] == name)
        hyp = " ".join(s["text"] for s in segs if s["name"] == name)
        refs.append(norm(ref))
        hyps.append(norm(hyp))
        prefs.append(wer.plain(ref))
        phyps.append(wer.plain(hyp))
        per[name] = wer.score([refs[-1]], [hyps[-1]])
        per[name]["first_word_lost"] = [
            u["text"] for u in utts if u["speaker"] == name and wer.first_word_deleted(
                wer.plain(u["text"]),
                wer.plain(" ".join(s["text"] for s in segs if s["name"] == name
                                   and s["start"] <= u["end"] + 0.5 and s["end"] >= u["start"] - 0.5)))
        ]
    per["all"] = wer.score(refs, hyps)
    per["all"]["first_word_lost"] = [t for n in names for t in per[n]["first_word_lost"]]

    def inside(t, u, margin):
        return u["speech_start"] - margin <= t <= u["speech_end"] + margin

    words = [(s["name"], w) for s in segs for w in s.get("words", [])]
    off, wrong, outside = [], [], []
    for name, w in words:
        mid = (w["start"] + w["end"]) / 2
        own = [u for u in utts if u["speaker"] == name]
        if not any(inside(mid, u, 0.3) for u in own):
            off.append({"speaker": name, "word": w["text"], "at": w["start"]})
            if any(inside(mid, u, 0.0) for u in utts if u["speaker"] != name):
                wrong.append(off[-1])
        if not any(inside(mid, u, 0.5) for u in utts):
            outside.append({"speaker": name, "word": w["text"], "at": w["start"]})

    result = {
        "per_speaker": per,
        "plain": wer.score(prefs, phyps),
        "words": len(words),
        "off_speaker": len(off),
        "off_speaker_words": off[:20],
        "wrong_speaker": len(wrong),
        "outside_speech": len(outside),
        "outside_speech_words": outside[:20],
    }

    if "words" in truth:
        ref_words = truth["words"]
        hyp_words = [w for _, w in words]
        key = lambda t: wer.plain(t)  # noqa: E731
        a = [key(w["word"]) for w in ref_words]
        b = [key(w["text"]) for w in hyp_words]
        starts, ends = [], []
        for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
            for k in range(block.size):
                r, h = ref_words[block.a + k], hyp_words[block.b + k]
                starts.append(abs(h["start"] - r["start"]) * 1000)
                ends.append(abs(h["end"] - r["end"]) * 1000)
        result["timing"] = {
            "matched": len(starts),
            "reference_words": len(ref_words),
            "start_median_ms": percentile(starts, 0.5),
            "start_p90_ms": percentile(starts, 0.9),
            "end_median_ms": percentile(ends, 0.5),
            "end_p90_ms": percentile(ends, 0.9),
        }

    # Real speech: where each utterance's first and last word lie against where its sound starts
    # and ends (rooms.py measures those on the clip itself).
    starts, ends = [], []
    for u in utts:
        own = [w for s in segs if s["name"] == u["speaker"] for w in s.get("words", [])
               if u["start"] - 0.5 <= w["start"] <= u["end"] + 0.5]
        if own:
            starts.append(abs(own[0]["start"] - u["speech_start"]) * 1000)
            ends.append(abs(own[-1]["end"] - u["speech_end"]) * 1000)
    result["utterance_edges"] = {
        "utterances": len(starts),
        "start_median_ms": percentile(starts, 0.5),
        "start_p90_ms": percentile(starts, 0.9),
        "end_median_ms": percentile(ends, 0.5),
        "end_p90_ms": percentile(ends, 0.9),
    }

    if args.mix_text:
        ref = " ".join(u["text"] for u in sorted(utts, key=lambda u: u["start"]))
        hyp = open(args.mix_text, encoding="utf-8").read()
        result["mix"] = wer.score([norm(ref)], [norm(hyp)])
        result["mix_plain"] = wer.score([wer.plain(ref)], [wer.plain(hyp)])
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
