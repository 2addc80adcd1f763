"""Whether two recordings of the same room hold the same speech in their tracks, read by ffprobe
(not roomcast): per track, the sequence of voice packets (payloads over 3 bytes; roomcast fills
silence with 3-byte frames) and their places on the room clock relative to the track's first one.
Tracks can differ in total length only by where the room was found empty at its end.

    python3 same_tracks.py SESSION_A SESSION_B
"""
import hashlib
import json
import os
import subprocess
import sys


def voice(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_packets", "-show_data_hash", "sha256",
                          "-show_entries", "packet=pts,size,data_hash", "-of", "json", path],
                         capture_output=True, text=True, check=True)
    packets = [p for p in json.loads(out.stdout)["packets"] if int(p["size"]) > 3]
    first = int(packets[0]["pts"]) if packets else 0
    return [(int(p["pts"]) - first, p["data_hash"]) for p in packets]


a, b = sys.argv[1], sys.argv[2]
result = {}
for name in sorted(os.listdir(os.path.join(a, "tracks"))):
    if not name.endswith(".opus"):
        continue
    va, vb = voice(os.path.join(a, "tracks", name)), voice(os.path.join(b, "tracks", name))
    same_payloads = [h for _, h in va] == [h for _, h in vb]
    moved = max((abs(x[0] - y[0]) for x, y in zip(va, vb)), default=0)
    result[name] = {"voice_packets": [len(va), len(vb)], "same_payloads": same_payloads,
                    "max_place_difference_ms": round(moved / 48, 1),
                    "digest": hashlib.sha256("".join(h for _, h in va).encode()).hexdigest()[:12]}
print(json.dumps(result))
