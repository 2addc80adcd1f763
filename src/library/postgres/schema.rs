//! The PostgreSQL catalog's schema, one migration per version. The `schema_version` table names the
//! application and holds the version a database is at; opening runs the migrations it lacks in one
//! transaction (under an advisory lock, so two processes opening a new database do not both run
//! them), so an older catalog is upgraded in place and a failed upgrade leaves it as it was.

/// What `schema_version.application` holds in a roomcast library database: another application's
/// database (tables of its own, no such row) is never taken for one.
pub const APPLICATION: &str = "roomcast-library";

/// The advisory lock key migrations hold ("RCST").
pub const MIGRATION_LOCK: i64 = 0x5243_5354;

/// Migration `i` takes a database from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: rooms, speakers, segments (words' times packed as JSON, as in SQLite's schema 3), outputs,
    //    and the full-text index: `lexemes`, a tsvector with positions that roomcast computes itself
    //    (`search::lexemes`: words split as SQLite's unicode61 splits them, case and diacritics
    //    folded, English Snowball stems), so the server needs no text search configuration or
    //    extension of its own.
    r#"
    CREATE TABLE schema_version (
        application  text NOT NULL,
        version      integer NOT NULL
    );
    CREATE TABLE rooms (
        id          text PRIMARY KEY,
        title       text NOT NULL,
        started_at  text NOT NULL,   -- RFC 3339, UTC, to the second: sorts as text
        duration    double precision NOT NULL,
        source      text NOT NULL,
        status      text NOT NULL,
        session     text NOT NULL,   -- the session folder
        indexed_at  text NOT NULL,
        private     boolean NOT NULL DEFAULT false
    );
    CREATE INDEX rooms_by_start ON rooms(started_at);
    CREATE TABLE speakers (
        room_id   text NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        n         integer NOT NULL,  -- the order the room lists them in
        id        text NOT NULL,
        name      text NOT NULL,
        track     text,              -- NULL for a speaker known only from an imported transcript
        language  text,
        PRIMARY KEY (room_id, id)
    );
    CREATE TABLE segments (
        id          bigserial PRIMARY KEY,
        room_id     text NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        speaker_id  text NOT NULL,
        start       double precision NOT NULL,
        "end"       double precision NOT NULL,
        overlap     boolean NOT NULL DEFAULT false,
        text        text NOT NULL,
        words       text,            -- [[start, end, probability, "text"], ...]
        lexemes     tsvector NOT NULL
    );
    CREATE INDEX segments_by_room ON segments(room_id, start);
    CREATE INDEX segments_fts ON segments USING gin (lexemes);
    CREATE TABLE outputs (
        room_id  text NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        kind     text NOT NULL,      -- master, transcript
        path     text NOT NULL,
        bytes    bigint NOT NULL,
        PRIMARY KEY (room_id, path)
    );
    "#,
    // 2: the job queue (`library::jobs`). Times are seconds since the epoch, by the server's
    //    clock; at most one job per room and kind waits or runs at a time.
    r#"
    CREATE TABLE jobs (
        id            bigserial PRIMARY KEY,
        kind          text NOT NULL,
        room_id       text NOT NULL,
        session       text NOT NULL,
        spec          text NOT NULL,     -- the job's options, JSON
        format        bigint NOT NULL,   -- the job format a worker must know
        state         text NOT NULL,     -- queued, running, done, failed
        step          text,
        attempts      bigint NOT NULL DEFAULT 0,
        max_attempts  bigint NOT NULL,
        worker        text,
        lease_until   double precision,
        not_before    double precision NOT NULL,
        error         text,
        created_at    double precision NOT NULL,
        updated_at    double precision NOT NULL
    );
    CREATE UNIQUE INDEX jobs_live ON jobs(room_id, kind) WHERE state IN ('queued', 'running');
    CREATE INDEX jobs_waiting ON jobs(state, id);
    "#,
    // 3: the library's settings, a value per key: how long rooms are kept (`keep_days`, and
    //    `keep_days:ROOM` for one room).
    r#"
    CREATE TABLE settings (
        key    text PRIMARY KEY,
        value  text NOT NULL
    );
    "#,
    // 4: a room's words are its live captions (made while it was recorded), not a transcript
    //    made after it: search and the web mark them so until the room is transcribed.
    r#"
    ALTER TABLE rooms ADD COLUMN IF NOT EXISTS captions boolean NOT NULL DEFAULT false;
    "#,
];

/// The version this roomcast writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;
