#!/usr/bin/env python3
"""Reads a session's published files the way other programs do, and prints what they saw as JSON.

    read_outputs.py SESSION [FEED_XML [JSON_FILE ...]]

Each file goes through an independent parser: transcript.vtt through webvtt-py, transcript.srt
through `srt`, transcript.json and transcript.podcast.json through Python's json, transcript.html
through html.parser, the feed through xml.etree and feedparser (as podcast apps read it), the
masters' tags through ffprobe. A file a parser refuses is reported with the parser's error, not
skipped.
"""
import html
import html.parser
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET


def read_vtt(path):
    import webvtt

    # webvtt-py leaves character references as written; a player shows them decoded.
    cues = webvtt.read(path)
    return [{"start": c.start_in_seconds, "end": c.end_in_seconds, "voice": html.unescape(c.voice or ""),
             "text": html.unescape(c.text)} for c in cues]


def read_srt(path):
    import srt

    with open(path, encoding="utf-8") as f:
        return [{"start": s.start.total_seconds(), "end": s.end.total_seconds(), "text": s.content}
                for s in srt.parse(f.read())]


class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.paragraphs = 0

    def handle_starttag(self, tag, attrs):
        self.paragraphs += tag == "p"


def ffprobe_tags(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags:stream_tags", "-of", "json", path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip()}
    data = json.loads(out.stdout)
    tags = dict(data.get("format", {}).get("tags", {}))
    for s in data.get("streams", []):
        tags.update(s.get("tags", {}))
    return {k.lower(): v for k, v in tags.items()}


def guarded(fn, *args):
    try:
        return {"ok": fn(*args)}
    except Exception as e:  # noqa: BLE001 - the parser's verdict is the result
        return {"error": f"{type(e).__name__}: {e}"}


def main():
    session = sys.argv[1]
    seen = {}
    p = lambda name: os.path.join(session, name)
    if os.path.exists(p("transcript.vtt")):
        seen["vtt"] = guarded(read_vtt, p("transcript.vtt"))
    if os.path.exists(p("transcript.srt")):
        seen["srt"] = guarded(read_srt, p("transcript.srt"))
    for name in ["transcript.json", "transcript.podcast.json", "room.json", "chapters.json"]:
        if os.path.exists(p(name)):
            seen[name] = guarded(lambda f: json.load(open(f, encoding="utf-8")), p(name))
    if os.path.exists(p("transcript.html")):
        def read_html(f):
            t = Text()
            t.feed(open(f, encoding="utf-8").read())
            return t.paragraphs
        seen["html"] = guarded(read_html, p("transcript.html"))
    for name in ["master.mp3", "master.opus"]:
        if os.path.exists(p(name)):
            seen[name] = ffprobe_tags(p(name))
    if len(sys.argv) > 2:
        feed = sys.argv[2]
        seen["feed_xml"] = guarded(lambda f: ET.parse(f).getroot().tag, feed)
        import feedparser

        d = feedparser.parse(feed)
        seen["feedparser"] = {
            "bozo": int(d.bozo),
            "bozo_exception": str(d.get("bozo_exception", "")),
            "title": d.feed.get("title"),
            "author": d.feed.get("author"),
            "subtitle": d.feed.get("subtitle"),
            "entries": [{"title": e.get("title"), "guid": e.get("id")} for e in d.entries],
        }
        ns = {"podcast": "https://podcastindex.org/namespace/1.0"}
        try:
            root = ET.parse(feed).getroot()
            seen["people"] = [p.text for p in root.iter("{%s}person" % ns["podcast"])]
            seen["soundbites"] = [s.text for s in root.iter("{%s}soundbite" % ns["podcast"])]
        except ET.ParseError as e:
            seen["people"] = {"error": str(e)}
    for extra in sys.argv[3:]:
        seen[extra] = guarded(lambda f: json.load(open(f, encoding="utf-8")), extra)
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
