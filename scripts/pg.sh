# Sourced by the benchmarks: a throwaway PostgreSQL from the Debian package's binaries (not on
# PATH), in a temporary folder, listening on a unix socket there only, stopped and removed on exit,
# as the tests' tests/common/pg.rs does. initdb and pg_ctl refuse to run as root: as root they run as
# the `postgres` user the package makes.
#
#   start_postgres      sets pg (the folder and socket), pg_bin, as_pg (the command prefix) and
#                       pg_version; extra server settings from PG_OPTIONS ("-c name=value ...");
#                       KEEP_POSTGRES=1 leaves it running at exit and says how to reach and stop it

pg=""
stop_postgres() {
    if [[ -n $pg && ${KEEP_POSTGRES:-0} == 1 ]]; then
        echo "PostgreSQL left running in $pg (psql: $pg_bin/psql -h $pg -U postgres DATABASE;" \
            "stop: ${as_pg[*]} $pg_bin/pg_ctl -D $pg/data stop && rm -rf $pg)" >&2
    elif [[ -n $pg ]]; then
        "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg/data" -m fast stop >/dev/null 2>&1 || true
        rm -rf "$pg"
    fi
}

start_postgres() {
    pg_bin=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -1)
    pg_bin=${pg_bin%/initdb}
    pg=$(mktemp -d "${TMPDIR:-/tmp}/roomcast-bench-pg.XXXXXX")
    trap stop_postgres EXIT
    as_pg=()
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$pg"
        as_pg=(runuser -u postgres --)
    fi
    pg_version=$("$pg_bin/postgres" --version | awk '{print $3}')
    echo "==> starting PostgreSQL $pg_version in $pg" >&2
    "${as_pg[@]}" "$pg_bin/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg/data" -l "$pg/log" -w -o "-k $pg -c listen_addresses= ${PG_OPTIONS:-}" start >/dev/null
}
