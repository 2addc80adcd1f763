"""Reads a podcast feed as an app would: Python's feedparser for the RSS (bozo must be 0), and
ElementTree for the Podcasting 2.0 live items feedparser does not know. Prints one JSON object.

    python3 feed_live.py URL_OR_FILE
"""
import json
import sys
import urllib.request
import xml.etree.ElementTree as ET

import feedparser

P = "{https://podcastindex.org/namespace/1.0}"
source = sys.argv[1]
data = urllib.request.urlopen(source).read() if source.startswith("http") else open(source, "rb").read()
parsed = feedparser.parse(data)
root = ET.fromstring(data)
channel = root.find("channel")
live = []
for item in channel.findall(P + "liveItem"):
    enclosure = item.find("enclosure")
    alternate = item.find(P + "alternateEnclosure")
    content = item.find(P + "contentLink")
    live.append({
        "status": item.get("status"),
        "start": item.get("start"),
        "end": item.get("end"),
        "guid": item.findtext("guid"),
        "title": item.findtext("title"),
        "enclosure": None if enclosure is None else dict(enclosure.attrib),
        "alternate_type": None if alternate is None else alternate.get("type"),
        "alternate_uri": None if alternate is None else alternate.find(P + "source").get("uri"),
        "content_link": None if content is None else content.get("href"),
    })
items = []
for entry in parsed.entries:
    enclosures = [l for l in entry.get("links", []) if l.get("rel") == "enclosure"]
    items.append({
        "guid": entry.get("id"),
        "length": int(enclosures[0]["length"]) if enclosures else None,
        "url": enclosures[0]["href"] if enclosures else None,
    })
print(json.dumps({"bozo": int(parsed.bozo), "bozo_exception": str(parsed.get("bozo_exception", "")),
                  "live": live, "items": items}))
