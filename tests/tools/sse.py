#!/usr/bin/env python3
"""A Server-Sent Events client, as a browser's EventSource reads a stream, for the tests and the
benchmarks: prints one JSON line per event as it arrives, with the wall-clock time it arrived.

    sse.py URL [--last-event-id N] [--timeout SECONDS] [--stop-after N]

Each printed line: {"arrived": unix seconds, "id": ..., "event": ..., "data": parsed JSON}.
Ends at the stream's end, after --stop-after events, or at the timeout (exit 0 in every case; an
HTTP error is printed as {"status": N, "body": ...} and exits 1).
"""
import argparse
import json
import sys
import time
import urllib.error
import urllib.request


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--last-event-id")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--stop-after", type=int, default=0)
    a = p.parse_args()
    headers = {"Accept": "text/event-stream"}
    if a.last_event_id is not None:
        headers["Last-Event-ID"] = a.last_event_id
    request = urllib.request.Request(a.url, headers=headers)
    deadline = time.time() + a.timeout
    try:
        response = urllib.request.urlopen(request, timeout=a.timeout)
    except urllib.error.HTTPError as e:
        print(json.dumps({"status": e.code, "body": e.read().decode("utf-8", "replace")}), flush=True)
        sys.exit(1)
    event = {"id": None, "event": "message", "data": []}
    seen = 0
    while time.time() < deadline:
        raw = response.readline()
        if not raw:
            break
        line = raw.decode("utf-8").rstrip("\r\n")
        if line == "":
            if event["data"]:
                data = "\n".join(event["data"])
                try:
                    data = json.loads(data)
                except ValueError:
                    pass
                print(json.dumps({"arrived": time.time(), "id": event["id"], "event": event["event"], "data": data}),
                      flush=True)
                seen += 1
                if a.stop_after and seen >= a.stop_after:
                    break
            event = {"id": None, "event": "message", "data": []}
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            event["data"].append(value)
        elif field in ("id", "event"):
            event[field] = value


if __name__ == "__main__":
    main()
