"""Listeners of a live room against `roomcast serve`: N continuous-stream clients and N HLS clients
on loopback, while SERVE_PID's CPU and RSS are sampled. One stalled stream client (reads nothing)
shows what a stuck listener costs. Prints one JSON object.

    python3 live_listeners.py BASE_URL ROOM_ID SERVE_PID SECONDS N
"""
import asyncio
import json
import os
import sys
import time

base, room, pid, seconds, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
host, port = base.removeprefix("http://").split(":")
TICK = os.sysconf("SC_CLK_TCK")


def proc():
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    cpu = (int(parts[11]) + int(parts[12])) / TICK
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return cpu, rss


async def get(path, reader_cb):
    r, w = await asyncio.open_connection(host, int(port))
    w.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await w.drain()
    await reader_cb(r)
    w.close()


async def stream_client(stats, end):
    got, last, worst = 0, None, 0.0

    async def read(r):
        nonlocal got, last, worst
        await r.readuntil(b"\r\n\r\n")
        while time.time() < end:
            try:
                chunk = await asyncio.wait_for(r.read(65536), timeout=max(0.1, end - time.time()))
            except asyncio.TimeoutError:
                break
            if not chunk:
                break
            now = time.time()
            if last is not None:
                worst = max(worst, now - last)
            got, last = got + len(chunk), now

    await get(f"/rooms/{room}/live.mp3", read)
    stats.append({"bytes": got, "worst_gap": worst})


async def stalled_client(end):
    r, w = await asyncio.open_connection(host, int(port))
    w.write(f"GET /rooms/{room}/live.mp3 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await w.drain()
    await asyncio.sleep(max(0, end - time.time()))  # never reads
    w.close()


async def hls_client(stats, end):
    fetched, seen = 0, set()
    r, w = await asyncio.open_connection(host, int(port))

    async def fetch(path):
        w.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        await w.drain()
        head = (await r.readuntil(b"\r\n\r\n")).decode()
        length = int(next(l.split(":")[1] for l in head.split("\r\n") if l.lower().startswith("content-length")))
        return await r.readexactly(length)

    while time.time() < end:
        text = (await fetch(f"/rooms/{room}/live.m3u8")).decode()
        segs = [l for l in text.splitlines() if l.startswith("live/")]
        # A player fetches what it has not yet, from where it is.
        for s in segs[-3:]:
            if s not in seen:
                await fetch(f"/rooms/{room}/{s}")
                seen.add(s)
                fetched += 1
        await asyncio.sleep(1.0)
    w.close()
    stats.append({"segments": fetched})


async def main():
    end = time.time() + seconds
    streams, hls = [], []
    cpu0, _ = proc()
    t0 = time.time()
    tasks = [asyncio.create_task(stream_client(streams, end)) for _ in range(n)]
    tasks += [asyncio.create_task(hls_client(hls, end)) for _ in range(n)]
    tasks.append(asyncio.create_task(stalled_client(end)))
    rss_max = 0
    while time.time() < end:
        await asyncio.sleep(1)
        rss_max = max(rss_max, proc()[1])
    await asyncio.gather(*tasks, return_exceptions=True)
    cpu1, rss = proc()
    wall = time.time() - t0
    expect = 64000 / 8 * (seconds - 3)
    print(json.dumps({
        "stream_clients": len(streams), "hls_clients": len(hls),
        "serve_cpu_percent_of_one_core": round(100 * (cpu1 - cpu0) / wall, 1),
        "serve_rss_max_kb": rss_max,
        "stream_bytes_min": min(s["bytes"] for s in streams) if streams else 0,
        "stream_bytes_expected_about": int(expect),
        "stream_worst_gap_s": round(max(s["worst_gap"] for s in streams), 2) if streams else None,
        "hls_segments_min": min(h["segments"] for h in hls) if hls else 0,
    }))


asyncio.run(main())
