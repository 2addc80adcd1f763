#!/usr/bin/env bash
# Search benchmark: a deterministic synthetic library of ROOMS one-hour rooms (about 9,000 words
# each, Zipf vocabulary, 2-5 speakers), built through `roomcast import-transcript` (the path a user's
# own transcripts take) into each backend in BACKENDS, then query latency per query type on each,
# side by side, and ripgrep over the same transcripts as files.
#
#   benches/search.sh                       # ROOMS=1000 (1,000 room-hours, ~9 million words), both
#                                           # backends (~2 GB on disk for SQLite, ~2 GB more for PostgreSQL)
#   ROOMS=50 benches/search.sh              # a quick look
#   BACKENDS=sqlite benches/search.sh       # SQLite only (a library folder), with ripgrep
#   BACKENDS=postgres benches/search.sh     # PostgreSQL only
#
# PostgreSQL is a throwaway server of the Debian package's (the newest /usr/lib/postgresql/N/bin),
# initdb'd in a temporary folder with its default settings, listening on a unix socket there only,
# and stopped (its folder removed) when the script ends; as root its programs run as the `postgres`
# user, as the tests' server does. After the import the database is VACUUM ANALYZEd (what
# autovacuum does on its own a minute later), timed separately. KEEP_POSTGRES=1 leaves the server
# running at the end (for EXPLAIN ANALYZE and the like) and says how to reach and stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
source scripts/pg.sh
need_tools bench

ROOMS=${ROOMS:-1000}
BACKENDS=${BACKENDS:-sqlite postgres}
DIR=${BENCH_DIR:-bench-data/search}
for b in $BACKENDS; do
    [[ $b == sqlite || $b == postgres ]] || {
        echo "search.sh: unknown backend '$b' in BACKENDS (sqlite, postgres)" >&2
        exit 2
    }
done

cargo build --release --quiet
bin=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/roomcast
rm -rf "$DIR"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
echo "==> generating $ROOMS rooms" >&2
python3 benches/search_gen.py "$DIR" "$ROOMS" >&2

if [[ " $BACKENDS " == *" postgres "* ]]; then
    start_postgres
    "${as_pg[@]}" "$pg_bin/createdb" -h "$pg" -U postgres roomcast_bench
    psql() { "$pg_bin/psql" -h "$pg" -U postgres -d roomcast_bench -X -q -At "$@"; }
    pg_url="postgresql:///roomcast_bench?host=$pg&user=postgres"
fi

# Each backend gets the same rooms, one import-transcript process per room; every import writes the
# room's exports again (--replace: the first backend's import left them there), so both do the same
# work.
libraries=()
sizes=()
for backend in $BACKENDS; do
    if [[ $backend == sqlite ]]; then location=$DIR/library; else location=$pg_url; fi
    echo "==> indexing into $backend through import-transcript" >&2
    start=$(date +%s.%N)
    for room in "$DIR"/rooms/*/; do
        id=$(basename "$room")
        XDG_DATA_HOME=$DIR/xdg "$bin" --library "$location" import-transcript --replace "$room" "$DIR/import/$id.json" >/dev/null
    done
    end=$(date +%s.%N)
    vacuum=""
    if [[ $backend == sqlite ]]; then
        db=$(find "$DIR/library" -maxdepth 1 -name 'library.db*' -printf '%s\n' | awk '{s += $1} END {print s}')
        detail="library.db files"
    else
        psql -c "CREATE EXTENSION IF NOT EXISTS pgstattuple"
        pending=$(psql -c "SELECT pending_pages FROM pgstatginindex('segments_fts')")
        v0=$(date +%s.%N)
        psql -c "VACUUM ANALYZE"
        v1=$(date +%s.%N)
        vacuum="$(python3 -c "print(f'{$v1 - $v0:.0f} s')") (GIN pending list before: $pending pages)"
        db=$(psql -c "SELECT pg_database_size(current_database())")
        detail=$(psql -c "SELECT format('segments %s MB (heap %s MB, TOAST %s MB), GIN index %s MB, other indexes %s MB',
            pg_total_relation_size('segments') / 1000000, pg_relation_size('segments') / 1000000,
            pg_total_relation_size(reltoastrelid) / 1000000, pg_relation_size('segments_fts') / 1000000,
            (pg_indexes_size('segments') - pg_relation_size('segments_fts')) / 1000000)
            FROM pg_class WHERE oid = 'segments'::regclass")
    fi
    sizes+=("$backend|$start|$end|$db|$vacuum|$detail")
    libraries+=("$location")
done
python3 - "$DIR" "${sizes[@]}" <<'PY'
import json, os, sys
d = sys.argv[1]
q = json.load(open(f"{d}/queries.json"))
size = lambda suffix: sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(f"{d}/rooms") for f in fs if f == suffix)
print(f"{q['rooms']} rooms, {q['words']:,} words; transcript.json files {size('transcript.json') / 1e6:.0f} MB, transcript.txt files {size('transcript.txt') / 1e6:.0f} MB")
print()
print("| backend | index build (import-transcript, one process per room) | words/s | VACUUM ANALYZE | database | of which |")
print("|---|---|---|---|---|---|")
for entry in sys.argv[2:]:
    backend, start, end, db, vacuum, detail = entry.split("|")
    secs = float(end) - float(start)
    name = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[backend]
    size_name = "library.db" if backend == "sqlite" else "pg_database_size"
    print(f"| {name} | {secs:.0f} s | {q['words'] / secs:,.0f} | {vacuum or '-'} | {int(db) / 1e6:.0f} MB ({size_name}) | {detail} |")
print()
PY
# The OS's file cache is warm for both sides: each tool's files were just written or read.
cat "$DIR"/rooms/*/transcript.txt "$DIR"/rooms/*/transcript.json >/dev/null
cargo bench --quiet --bench search -- "$DIR/rooms" "$DIR/queries.json" "$bin" "${libraries[@]}"
echo
echo "machine: $(nproc) cores, $(rg --version | sed -n 1p), $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD)"
