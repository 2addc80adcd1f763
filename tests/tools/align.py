"""Where a captured piece of audio sits in a longer recording: the lag (seconds into LONG) at which
their loudness envelopes correlate best, and how well. Decoding by ffmpeg; prints one JSON object.

    python3 align.py PIECE LONG
"""
import json
import subprocess
import sys

import numpy as np

RATE = 8000
HOP = 80  # 10 ms


def envelope(path):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    x = np.frombuffer(raw, dtype=np.float32)
    n = len(x) // HOP
    e = np.sqrt((x[: n * HOP].reshape(n, HOP) ** 2).mean(axis=1) + 1e-12)
    return np.log(e + 1e-4)


piece, long = envelope(sys.argv[1]), envelope(sys.argv[2])
best, best_lag = -2.0, 0
p = (piece - piece.mean()) / (piece.std() + 1e-9)
for lag in range(0, max(1, len(long) - len(p) + 1)):
    w = long[lag: lag + len(p)]
    if len(w) < len(p):
        break
    c = float(np.dot(p, (w - w.mean()) / (w.std() + 1e-9)) / len(p))
    if c > best:
        best, best_lag = c, lag
print(json.dumps({"lag": best_lag * HOP / RATE, "correlation": best,
                  "piece_seconds": len(piece) * HOP / RATE, "long_seconds": len(long) * HOP / RATE}))
