"""One live room recorded with captions, measured as a listener sees it: the room (tests/tools/rooms.py,
with its truth) is played into `roomcast record --captions` in real time by `roomcast speak`, one
process per speaker, while an SSE client reads /rooms/ID/live from `roomcast serve` as a browser
would. Prints one JSON object.

    python3 live_captions.py ROOM_DIR OUT_DIR [--no-captions] [--hog N] [--offline] [--idle FILE --streams N --seconds S]

ROOM_DIR holds truth.json and one WAV per speaker. Measured:
  latency           end of each utterance's speech (truth) -> its final caption at the client (s)
  first_partial     speech start -> first caption of it, for utterances over 3 s of speech (s)
  lag               how far the captions fell behind at the end (the last final vs. the room's end)
  live              score.py on the live finals: WER, words on the wrong speaker, words from noise
  offline           with --offline: score.py on `roomcast transcribe` of the same recording
  repeats           phrases said three times in a row by the captions and not by the speaker
  recorder          CPU seconds, peak RSS and the packet counts of every track (`record --json`)
--hog N runs N busy loops beside the recorder. --idle plays FILE as N speakers (one `speak
--streams N`) for S seconds instead of a room: what captioning costs while nobody talks.
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(REPO, "target", "release", "roomcast")
TOOLS = os.path.join(REPO, "tests", "tools")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    v = sorted(values)
    if not v:
        return None
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return round(v[lo] + (v[hi] - v[lo]) * (k - lo), 2)


def stats(values):
    return {"n": len(values), "median": percentile(values, 50), "p90": percentile(values, 90),
            "max": round(max(values), 2) if values else None}


def sse(url, events, done):
    request = urllib.request.Request(url, headers={"Accept": "text/event-stream"})
    deadline = time.time() + 15
    while True:
        try:
            response = urllib.request.urlopen(request, timeout=600)
            break
        except urllib.error.HTTPError:
            # The room folder is there a moment before the library lists it.
            if time.time() > deadline:
                done.set()
                return
            time.sleep(0.1)
    event, data = "message", []
    for raw in response:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":
            if data:
                try:
                    events.append({"arrived": time.time(), "event": event, "data": json.loads("\n".join(data))})
                except ValueError:
                    pass
                if event == "end":
                    break
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    done.set()


def track_packets(folder):
    """Packets in each track, as ffprobe counts them (independently of roomcast's reader)."""
    out = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".opus"):
            r = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "a:0", "-show_entries",
                                "stream=nb_read_packets", "-of", "csv=p=0", os.path.join(folder, name)],
                               capture_output=True, text=True)
            out[name] = int(r.stdout.strip() or 0)
    return out


def repeats(text):
    """Phrases of 1-4 words said three or more times in a row."""
    words = re.findall(r"[a-z']+", text.lower())
    found = []
    for n in range(1, 5):
        for i in range(len(words) - 3 * n + 1):
            p = words[i: i + n]
            if words[i + n: i + 2 * n] == p and words[i + 2 * n: i + 3 * n] == p:
                found.append(" ".join(p))
    return sorted(set(found))


def main():
    a = argparse.ArgumentParser()
    a.add_argument("room")
    a.add_argument("out")
    a.add_argument("--no-captions", action="store_true")
    a.add_argument("--hog", type=int, default=0)
    a.add_argument("--offline", action="store_true")
    a.add_argument("--idle")
    a.add_argument("--streams", type=int, default=11)
    a.add_argument("--seconds", type=float, default=60)
    args = a.parse_args()
    os.makedirs(args.out, exist_ok=True)
    lib = os.path.join(os.path.abspath(args.out), "lib")
    env = dict(os.environ, ROOMCAST_LIBRARY=lib)
    truth = None if args.idle else json.load(open(os.path.join(args.room, "truth.json")))
    duration = args.seconds if args.idle else truth["duration"]

    serve = subprocess.Popen([BIN, "--json", "serve", "--addr", "127.0.0.1:0"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base = json.loads(serve.stdout.readline())["listening"]
    port = free_port()
    url = f"rtp://127.0.0.1:{port}"
    timefile = os.path.join(args.out, "recorder.time")
    record = subprocess.Popen(
        ["/usr/bin/time", "-f", "%U %S %M", "-o", timefile, BIN, "--json", "record", url,
         "--no-captions" if args.no_captions else "--captions", "--no-live-mix", "--until-empty",
         "--max-duration", str(int(duration + 60)), "--title", "Captions bench"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    rooms = os.path.join(lib, "rooms")
    deadline = time.time() + 20
    while time.time() < deadline and not (os.path.isdir(rooms) and os.listdir(rooms)):
        time.sleep(0.05)
    room_id = os.listdir(rooms)[0]
    session = os.path.join(rooms, room_id)
    events, done = [], threading.Event()
    if not args.no_captions:
        threading.Thread(target=sse, args=(f"{base}/rooms/{room_id}/live", events, done), daemon=True).start()
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.hog)]
    time.sleep(0.5)
    if args.idle:
        speakers = [subprocess.Popen([BIN, "--json", "speak", args.idle, "--to", url, "--name", "Quiet",
                                      "--streams", str(args.streams)], stdout=subprocess.PIPE, text=True)]
    else:
        # A speaker who joins later (truth "offset", seconds) starts speaking then.
        t0 = time.time()
        speakers = []
        for s in sorted(truth["speakers"], key=lambda s: s.get("offset", 0)):
            time.sleep(max(0, t0 + s.get("offset", 0) - time.time()))
            speakers.append(subprocess.Popen([BIN, "--json", "speak", s["file"], "--to", url, "--name", s["name"]],
                                             stdout=subprocess.PIPE, text=True))
        speakers = [(s.get("offset", 0), p) for s, p in zip(sorted(truth["speakers"], key=lambda s: s.get("offset", 0)), speakers)]
    if args.idle:
        speakers = [(0, p) for p in speakers]
    spoken = [dict(json.loads(p.communicate()[0]), offset=o) for o, p in speakers]
    report = json.loads(record.communicate()[0])
    for h in hogs:
        h.kill()
    done.wait(timeout=30)
    serve.terminate()
    user, system, rss = open(timefile).read().split()[-3:]
    result = {
        "room": args.room, "captions": not args.no_captions, "hogs": args.hog,
        "recorder": {"cpu_s": round(float(user) + float(system), 2), "peak_rss_mb": round(int(rss) / 1024, 1),
                     "seconds": round(duration, 1),
                     "cpu_percent_of_one_core": round(100 * (float(user) + float(system)) / duration, 1),
                     "tracks": track_packets(os.path.join(session, "tracks")),
                     "network": report.get("network"), "captions_report": report.get("outputs", {}).get("captions")},
    }
    json.dump(events, open(os.path.join(args.out, "events.json"), "w"))
    json.dump(report, open(os.path.join(args.out, "record.json"), "w"))
    if args.idle or args.no_captions:
        result["finals"] = sum(1 for e in events if e["event"] == "final")
        result["words"] = sum(len(e["data"].get("text", "").split()) for e in events if e["event"] == "final")
        print(json.dumps(result))
        return

    import datetime
    started = datetime.datetime.fromisoformat(json.load(open(os.path.join(session, "room.json")))["started_at"]).timestamp()
    sent = min(s["started_at_unix"] - s["offset"] for s in spoken)
    offset = sent - started  # room time minus truth time
    finals = [e for e in events if e["event"] == "final" and e["data"].get("text", "").strip()]
    captions = [e for e in events if e["event"] in ("partial", "final") and e["data"].get("text", "").strip()]

    def span(e):
        return e["data"]["start"] - offset, e["data"]["end"] - offset

    latency, first = [], []
    for u in truth["utterances"]:
        mine = [e for e in finals if e["data"]["name"] == u["speaker"]]
        # The final holding the end of the utterance's speech: it overlaps the utterance and ends nearest it.
        covering = [e for e in mine if span(e)[0] < u["speech_end"] and span(e)[1] > u["speech_start"]]
        if covering:
            e = min(covering, key=lambda e: abs(span(e)[1] - u["speech_end"]))
            latency.append(e["arrived"] - (sent + u["speech_end"]))
        if u["speech_end"] - u["speech_start"] > 3.0:
            heard = [e["arrived"] for e in captions
                     if e["data"]["name"] == u["speaker"] and e["arrived"] > sent + u["speech_start"]
                     and span(e)[1] > u["speech_start"] and span(e)[0] < u["speech_start"] + 1.5]
            if heard:
                first.append(min(heard) - (sent + u["speech_start"]))
    last_speech = max(u["speech_end"] for u in truth["utterances"])
    result["latency_s"] = stats(latency)
    result["utterances"] = len(truth["utterances"])
    result["first_partial_s"] = stats(first)
    result["lag_at_end_s"] = round(max(e["arrived"] for e in finals) - (sent + last_speech), 2) if finals else None

    def scored(doc, name):
        path = os.path.join(args.out, name)
        json.dump(doc, open(path, "w"))
        out = subprocess.run([sys.executable, os.path.join(TOOLS, "score.py"), os.path.join(args.room, "truth.json"), path],
                             capture_output=True, text=True, check=True)
        s = json.loads(out.stdout)
        return {"wer": s["per_speaker"]["all"]["wer"], "words": s["words"], "wrong_speaker": s["wrong_speaker"],
                "outside_speech": s["outside_speech"]}

    def shift(seg):
        return {"name": seg["name"], "start": seg["start"] - offset, "end": seg["end"] - offset, "text": seg["text"],
                "words": [{**w, "start": w["start"] - offset, "end": w["end"] - offset} for w in seg.get("words") or []]}

    result["live"] = scored({"segments": [shift(e["data"]) for e in finals]}, "live.json")
    said = {s["name"]: set(repeats(" ".join(u["text"] for u in truth["utterances"] if u["speaker"] == s["name"])))
            for s in truth["speakers"]}
    result["repeats"] = sorted({p for e in finals for p in repeats(e["data"]["text"]) if p not in said.get(e["data"]["name"], set())})
    if args.offline:
        subprocess.run([BIN, "transcribe", session], env=env, check=True, capture_output=True)
        doc = json.load(open(os.path.join(session, "transcript.json")))
        result["offline"] = scored({"segments": [shift(s) for s in doc["segments"]]}, "offline.json")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
