#!/usr/bin/env bash
# Remakes the fuzz seeds from files roomcast itself writes (run from the repository root after
# `cargo build --release`; the search and transcript seeds need a transcribed sample room, made
# by benches/transcribe_speed.sh in bench-data/speed/sample/session).
set -euo pipefail
R=$PWD/target/release/roomcast
S=${SAMPLE_SESSION:-bench-data/speed/sample/session}
cd fuzz/seeds
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ffmpeg -v error -f lavfi -i "sine=frequency=440:duration=1" -ar 48000 "$T/tone.wav"
"$R" import --speaker Ana="$T/tone.wav" --out "$T/s" >/dev/null
cp "$T/s/tracks/ana.opus" track/short.opus
head -c 3000 "$T/s/tracks/ana.opus" >track/truncated.opus
cp "$T/s/room.json" "$T/s/events.jsonl" session_files/
python3 capture_rtp.py "$R" "$T/tone.wav" rtp_receiver/one.bin
python3 capture_rtp.py "$R" "$T/tone.wav" rtp_receiver/three.bin --streams 3
head -c 1500 "../../$S/transcript.vtt" >transcript_import/a.vtt
head -c 1500 "../../$S/transcript.srt" >transcript_import/a.srt
python3 - "../../$S" <<'PY'
import json, sys
d = json.load(open(sys.argv[1] + "/transcript.podcast.json")); d["segments"] = d["segments"][:4]
open("transcript_import/a.podcast.json", "w").write(json.dumps(d))
d = json.load(open(sys.argv[1] + "/transcript.json")); d["segments"] = d["segments"][:2]
open("transcript_import/a.json", "w").write(json.dumps(d))
for i, q in enumerate(["podcast", '"quiet guest"', "maya OR theo", "NEAR(guest room, 3)", "pod*", "welcome NOT guest",
                       "speaker:x", "(loud OR quiet) AND NOT guest", "don't stop", "text:caf\u00e9 NEAR(\"a b\" c*)"]):
    open("search_query/q%d" % i, "w").write(q)
for i, c in enumerate(["postgres://postgres@localhost:5432/lib?host=/var/run/postgresql",
                       "postgresql://alice:s3cr%40t@[::1]:5433,db2.internal:5434/lib?sslmode=verify-full"
                       "&sslrootcert=/etc/roomcast/ca.pem&connect_timeout=10",
                       "postgresql://%2Fvar%2Frun%2Fpostgresql/lib?application_name=roomcast"
                       "&options=-c%20statement_timeout%3D5000&ssl=true",
                       "host=/var/run/postgresql port=5432 dbname=lib user=roomcast",
                       "host='/tmp/socket dir' password='it\\'s a \\\\ secret' dbname = lib sslmode=require",
                       "host=h1,h2 hostaddr=10.0.0.1,10.0.0.2 port=5432,5433 target_session_attrs=read-write"
                       " load_balance_hosts=random"]):
    open("pg_connection/c%d" % i, "w").write(c)
PY
