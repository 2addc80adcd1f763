#!/usr/bin/env bash
# Search benchmark: a deterministic synthetic library of ROOMS one-hour rooms (about 9,000 words
# each, Zipf vocabulary, 2-5 speakers), built through `roomcast import-transcript` (the path a user's
# own transcripts take), then query latency per query type side by side with ripgrep over the same
# transcripts as files.
#
#   benches/search.sh                 # ROOMS=1000 (1,000 room-hours, ~9 million words; ~2 GB on disk)
#   ROOMS=50 benches/search.sh        # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_tools bench

ROOMS=${ROOMS:-1000}
DIR=${BENCH_DIR:-bench-data/search}

cargo build --release --quiet
bin=$PWD/target/release/roomcast
rm -rf "$DIR"
mkdir -p "$DIR"
echo "==> generating $ROOMS rooms" >&2
python3 benches/search_gen.py "$DIR" "$ROOMS" >&2

echo "==> indexing through import-transcript" >&2
start=$(date +%s.%N)
for room in "$DIR"/rooms/*/; do
    id=$(basename "$room")
    "$bin" --library "$DIR/library" import-transcript "$room" "$DIR/import/$id.json" >/dev/null
done
end=$(date +%s.%N)
python3 - "$DIR" "$start" "$end" <<'PY'
import json, os, sys
d, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
q = json.load(open(f"{d}/queries.json"))
secs = end - start
size = lambda suffix: sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(f"{d}/rooms") for f in fs if f == suffix)
db = sum(os.path.getsize(f"{d}/library/{f}") for f in os.listdir(f"{d}/library") if f.startswith("library.db"))
print(f"| rooms | words | index build (import-transcript, one process per room) | words/s | library.db | transcript.json files | transcript.txt files |")
print(f"|---|---|---|---|---|---|---|")
print(f"| {q['rooms']} | {q['words']:,} | {secs:.0f} s | {q['words'] / secs:,.0f} | {db / 1e6:.0f} MB | {size('transcript.json') / 1e6:.0f} MB | {size('transcript.txt') / 1e6:.0f} MB |")
print()
PY
# The OS's file cache is warm for both sides: each tool's files were just written or read.
cat "$DIR"/rooms/*/transcript.txt "$DIR"/rooms/*/transcript.json >/dev/null
cargo bench --quiet --bench search -- "$DIR/library" "$DIR/rooms" "$DIR/queries.json" "$bin"
echo
echo "machine: $(nproc) cores, $(rg --version | head -1), $(date -u +%Y-%m-%d)"
