#!/usr/bin/env python3
"""A deterministic synthetic library for the search benchmark: ROOMS one-hour rooms of 2-5 speakers
talking briskly with short pauses (about 9,000 words a room), words drawn from a real English word list
with a Zipf distribution (the most common English words at the top ranks), each word timed.

Writes, under OUT:
  rooms/<id>/room.json        a session (no audio: search needs none)
  import/<id>.json            the room's transcript in roomcast's JSON format, with word timings
  queries.json                the benchmark's queries, per type, with ripgrep equivalents

usage: search_gen.py OUT [ROOMS] [WORDLIST]
"""
import bisect
import datetime
import json
import os
import random
import re
import sys

out = sys.argv[1]
rooms = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
wordlist = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/dict/words"

rng = random.Random(20261124)
COMMON = (
    "the of and to a in is you that it he was for on are as with his they i at be this have from or one had "
    "by word but not what all were we when your can said there use an each which she do how their if will up "
    "other about out many then them these so some her would make like him into time has look two more write go "
    "see number no way could people my than first water been call who oil its now find long down day did get "
    "come made may part"
).split()
words = []
with open(wordlist, encoding="utf-8", errors="ignore") as f:
    for line in f:
        w = line.strip()
        # Plain lower-case words only (no possessives, no proper nouns).
        if re.fullmatch(r"[a-z]{3,12}", w) and w not in COMMON:
            words.append(w)
rng.shuffle(words)
vocab = COMMON + words[:30000]
# Zipf: rank r has weight 1/r.
cumulative = []
total = 0.0
for r in range(1, len(vocab) + 1):
    total += 1.0 / r
    cumulative.append(total)


def word():
    return vocab[bisect.bisect_left(cumulative, rng.random() * total)]


NAMES = ["Maya", "Theo", "Priya", "Ana", "Ben", "Chloé", "Diego", "Emma", "Farid", "Grace", "Hiro", "Inès",
         "Jonas", "Kemi", "Lars", "Mei", "Nadia", "Omar", "Paula", "Quinn"]
os.makedirs(f"{out}/rooms", exist_ok=True)
os.makedirs(f"{out}/import", exist_ok=True)
start_day = datetime.datetime(2024, 1, 1, 18, 0, tzinfo=datetime.timezone.utc)
phrases = []
total_words = 0
for i in range(rooms):
    rid = f"room-{i:04d}"
    n = rng.randint(2, 5)
    people = rng.sample(NAMES, n)
    speakers = [{"id": p.lower().replace("é", "e").replace("è", "e"), "name": p} for p in people]
    started = start_day + datetime.timedelta(days=i)
    title = f"Episode {i + 1}: {vocab[rng.randint(100, 3000)]} and {vocab[rng.randint(100, 3000)]}"
    room = {
        "format": "roomcast-session", "version": 1, "id": rid, "title": title, "source": "import:",
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ended_at": (started + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "complete", "duration": 3600.0,
        "speakers": [{"id": s["id"], "name": s["name"], "track": f"tracks/{s['id']}.opus",
                      "intervals": [{"start": 0.0, "end": 3600.0}]} for s in speakers],
    }
    os.makedirs(f"{out}/rooms/{rid}", exist_ok=True)
    with open(f"{out}/rooms/{rid}/room.json", "w") as f:
        json.dump(room, f)
    segments = []
    t = 0.5
    while t < 3590:
        s = rng.choice(speakers)
        count = rng.randint(5, 25)
        ws = []
        for _ in range(count):
            w = word()
            ws.append({"start": round(t, 2), "end": round(t + 0.3, 2), "text": w, "probability": 0.9})
            t += 0.35
        text = " ".join(w["text"] for w in ws)
        segments.append({"speaker": s["id"], "name": s["name"], "start": ws[0]["start"], "end": ws[-1]["end"],
                         "text": text, "words": ws})
        total_words += count
        if rng.random() < 0.002:
            k = rng.randint(0, count - 2)
            phrases.append((ws[k]["text"], ws[k + 1]["text"]))
        t += rng.uniform(0.3, 1.5)
    doc = {"format": "roomcast-transcript", "version": 1, "room": rid, "title": title, "duration": 3600.0,
           "speakers": [{"id": s["id"], "name": s["name"], "language": "en"} for s in speakers],
           "segments": segments}
    with open(f"{out}/import/{rid}.json", "w") as f:
        json.dump(doc, f)

# Queries: words a person would look for (ranks 100-3000: not "the", not a word said once), and
# separately the most common words, the worst case for ranking.
qr = random.Random(7)
mid = lambda: vocab[qr.randint(100, 3000)]
queries = {"single word": [], "prefix": [], "phrase": [], "boolean": [], "speaker filter": [],
           "very common word": []}
for k in range(40):
    w = mid()
    queries["single word"].append({"query": w, "rg": ["-i", "-w", w]})
    p = mid()
    while len(p) < 5:
        p = mid()
    queries["prefix"].append({"query": p[:4] + "*", "rg": ["-i", "-w", p[:4] + r"\w*"]})
    a, b = phrases[qr.randrange(len(phrases))]
    queries["phrase"].append({"query": f'"{a} {b}"', "rg": ["-i", "-w", rf"{a}\s+{b}"]})
    x, y = mid(), mid()
    op = ["AND", "OR", "NOT"][k % 3]
    rg = {
        "AND": ["-i", "-w", rf"{x}.*{y}|{y}.*{x}"],
        "OR": ["-i", "-w", rf"{x}|{y}"],
        "NOT": ["-i", "-w", x, "|", "rg", "-v", "-i", "-w", y],
    }[op]
    queries["boolean"].append({"query": f"{x} {op} {y}", "rg": rg})
    name = qr.choice(NAMES)
    w = mid()
    queries["speaker filter"].append({"query": w, "speaker": name, "rg": ["-i", rf"{name}: .*\b{w}\b"]})
    if k < 10:
        c = vocab[k * 2]
        queries["very common word"].append({"query": c, "rg": ["-i", "-w", c]})
with open(f"{out}/queries.json", "w") as f:
    json.dump({"rooms": rooms, "words": total_words, "queries": queries}, f, indent=1)
print(f"{rooms} rooms, {total_words} words, vocabulary {len(vocab)}")
