"""Glass-to-ear delay of a live room: how long after audio reaches the recorder a listener hears it,
on the continuous stream and on HLS.

    python3 glass_to_ear.py capture BASE_URL ROOM_ID SECONDS OUT_DIR
    python3 glass_to_ear.py analyze OUT_DIR MASTER ROOM_JSON

`capture` reads /rooms/ID/live.mp3 as a player would, logging when each chunk arrived, and polls
/rooms/ID/live.m3u8 every 100 ms, fetching each new segment and logging when it was first listed.
`analyze` places 4-second windows of what was heard (every 2 s) in the finished master by loudness
envelope correlation: the window's room time plus the room's start is when its audio reached the
recorder (speakers play in real time on loopback); the arrival of its last byte (stream) or the
first listing of the segment holding its end (HLS) is when a listener could hear it. Prints one
JSON object with the median and p90 of both.
"""
import asyncio
import datetime
import json
import os
import subprocess
import sys
import time

import numpy as np

RATE, HOP = 8000, 80  # 10 ms envelope frames
WINDOW_S, STEP_S, SKIP_S = 4.0, 2.0, 10.0


async def capture(base, room, seconds, out):
    host, port = base.removeprefix("http://").split(":")
    end = time.time() + seconds
    os.makedirs(out, exist_ok=True)

    async def stream():
        r, w = await asyncio.open_connection(host, int(port))
        w.write(f"GET /rooms/{room}/live.mp3 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        await w.drain()
        head = (await r.readuntil(b"\r\n\r\n")).decode().lower()
        chunked = "transfer-encoding: chunked" in head
        log, total = [], 0
        with open(f"{out}/stream.mp3", "wb") as f:
            while time.time() < end:
                try:
                    if chunked:
                        size = int((await asyncio.wait_for(r.readline(), timeout=max(0.05, end - time.time()))).strip(), 16)
                        chunk = await r.readexactly(size) if size else b""
                        await r.readexactly(2)
                    else:
                        chunk = await asyncio.wait_for(r.read(65536), timeout=max(0.05, end - time.time()))
                except (asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                    break
                if not chunk:
                    break
                f.write(chunk)
                total += len(chunk)
                log.append((time.time(), total))
        w.close()
        return log

    async def hls():
        r, w = await asyncio.open_connection(host, int(port))

        async def fetch(path):
            w.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await w.drain()
            head = (await r.readuntil(b"\r\n\r\n")).decode()
            length = int(next(l.split(":")[1] for l in head.split("\r\n") if l.lower().startswith("content-length")))
            return await r.readexactly(length)

        seen, log, primed = set(), [], False
        with open(f"{out}/hls.mp3", "wb") as f:
            while time.time() < end:
                text = (await fetch(f"/rooms/{room}/live.m3u8")).decode()
                listed = time.time()
                for s in [l for l in text.splitlines() if l.startswith("live/")]:
                    if s in seen:
                        continue
                    seen.add(s)
                    # Segments listed before we watched have no known availability time.
                    if primed:
                        body = await fetch(f"/rooms/{room}/{s}")
                        # A player reads each segment's ID3 timestamp; one file of them needs it gone.
                        body = body[id3_len(body):]
                        log.append((listed, f.tell(), len(body)))
                        f.write(body)
                primed = True
                await asyncio.sleep(0.1)
        w.close()
        return log

    stream_log, hls_log = await asyncio.gather(stream(), hls())
    json.dump({"stream": stream_log, "hls": hls_log}, open(f"{out}/arrivals.json", "w"))


def id3_len(b):
    if len(b) < 10 or b[:3] != b"ID3":
        return 0
    return 10 + ((b[6] << 21) | (b[7] << 14) | (b[8] << 7) | b[9])


def decode(path):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.float32)


def envelope(x):
    n = len(x) // HOP
    e = np.sqrt((x[: n * HOP].reshape(n, HOP) ** 2).mean(axis=1) + 1e-12)
    return np.log(e + 1e-4)


def place(window, master):
    """Best lag (s) of WINDOW's envelope in MASTER's, and its correlation."""
    p = (window - window.mean()) / (window.std() + 1e-9)
    n = len(p)
    best, best_lag = -2.0, 0
    for lag in range(0, len(master) - n + 1):
        w = master[lag: lag + n]
        c = float(np.dot(p, (w - w.mean()) / (w.std() + 1e-9)) / n)
        if c > best:
            best, best_lag = c, lag
    return best_lag * HOP / RATE, best


def delays(heard_env, heard_seconds, master_env, started, available_at):
    """AVAILABLE_AT(position_s) -> wall time the audio at that position of the capture could be heard."""
    out = []
    hop_s = HOP / RATE
    t = SKIP_S
    while t + WINDOW_S <= heard_seconds:
        w = heard_env[int(t / hop_s): int((t + WINDOW_S) / hop_s)]
        if w.std() > 0.3:  # silence places nowhere
            lag, corr = place(w, master_env)
            if corr > 0.6:
                reached_recorder = started + lag + WINDOW_S
                out.append(available_at(t + WINDOW_S) - reached_recorder)
        t += STEP_S
    return out


def summary(values):
    if not values:
        return {"windows": 0}
    v = np.array(values)
    return {"windows": len(v), "median_s": round(float(np.median(v)), 2),
            "p90_s": round(float(np.percentile(v, 90)), 2), "min_s": round(float(v.min()), 2),
            "max_s": round(float(v.max()), 2)}


def analyze(out, master, room_json):
    started = datetime.datetime.fromisoformat(json.load(open(room_json))["started_at"]).timestamp()
    arrivals = json.load(open(f"{out}/arrivals.json"))
    master_env = envelope(decode(master))
    result = {}

    x = decode(f"{out}/stream.mp3")
    seconds = len(x) / RATE
    log = np.array(arrivals["stream"])
    total = log[-1][1]
    # CBR 64 kb/s: a position's byte offset is proportional to its time.
    result["stream"] = summary(delays(envelope(x), seconds, master_env, started,
                                      lambda p: float(np.interp(p / seconds * total, log[:, 1], log[:, 0]))))

    x = decode(f"{out}/hls.mp3")
    seconds = len(x) / RATE
    segs = arrivals["hls"]
    size = sum(s[2] for s in segs)

    def listed(p):
        offset = p / seconds * size
        for when, start, length in segs:
            if start + length >= offset:
                return when
        return segs[-1][0]

    result["hls_segment_listed"] = summary(delays(envelope(x), seconds, master_env, started, listed))
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1] == "capture":
        asyncio.run(capture(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]))
    else:
        analyze(sys.argv[2], sys.argv[3], sys.argv[4])
