//! The library database's schema, one migration per version. `PRAGMA user_version` holds the
//! version a database is at; opening runs the migrations it lacks in one transaction, so an older
//! library is upgraded in place and a failed upgrade leaves it as it was.

/// Identifies a roomcast library database (`PRAGMA application_id`), so another program's SQLite
/// file is never taken for one: "RCST".
pub const APPLICATION_ID: i32 = 0x5243_5354;

/// Migration `i` takes a database from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: rooms, speakers, segments, and the full-text index over segment text.
    r#"
    CREATE TABLE rooms (
        id          TEXT PRIMARY KEY,
        title       TEXT NOT NULL,
        started_at  TEXT NOT NULL,   -- RFC 3339, UTC, to the second: sorts as text
        duration    REAL NOT NULL,
        source      TEXT NOT NULL,
        status      TEXT NOT NULL,
        session     TEXT NOT NULL,   -- the session folder
        indexed_at  TEXT NOT NULL
    );
    CREATE TABLE speakers (
        room_id   TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        id        TEXT NOT NULL,
        name      TEXT NOT NULL,
        track     TEXT,              -- NULL for a speaker known only from an imported transcript
        language  TEXT,
        PRIMARY KEY (room_id, id)
    );
    CREATE TABLE segments (
        id          INTEGER PRIMARY KEY,
        room_id     TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        speaker_id  TEXT NOT NULL,
        start       REAL NOT NULL,
        end         REAL NOT NULL,
        overlap     INTEGER NOT NULL DEFAULT 0,
        text        TEXT NOT NULL
    );
    CREATE INDEX segments_by_room ON segments(room_id, start);
    -- Case and diacritics folded (unicode61 remove_diacritics 2), English stemming (porter).
    CREATE VIRTUAL TABLE segments_fts USING fts5(
        text, content='segments', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER segments_ai AFTER INSERT ON segments BEGIN
        INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER segments_ad AFTER DELETE ON segments BEGIN
        INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    "#,
    // 2: word timings (for jumping to the very word), published outputs, private rooms.
    r#"
    CREATE TABLE words (
        segment_id   INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
        n            INTEGER NOT NULL,
        start        REAL NOT NULL,
        end          REAL NOT NULL,
        text         TEXT NOT NULL,
        probability  REAL NOT NULL,
        PRIMARY KEY (segment_id, n)
    ) WITHOUT ROWID;
    CREATE TABLE outputs (
        room_id  TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        kind     TEXT NOT NULL,      -- master, transcript
        path     TEXT NOT NULL,
        bytes    INTEGER NOT NULL,
        PRIMARY KEY (room_id, path)
    );
    ALTER TABLE rooms ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX rooms_by_start ON rooms(started_at);
    "#,
    // 3: word timings packed per segment as JSON, [[start, end, probability, "text"], ...]: a row
    //    per word made them three quarters of a big library (434 of 574 MB for 8.8 M words).
    r#"
    ALTER TABLE segments ADD COLUMN words TEXT;
    UPDATE segments SET words = (
        SELECT json_group_array(json_array(round(start, 3), round(end, 3), round(probability, 3), text))
        FROM (SELECT * FROM words w WHERE w.segment_id = segments.id ORDER BY n)
    ) WHERE id IN (SELECT segment_id FROM words);
    DROP TABLE words;
    "#,
    // 4: the job queue (`library::jobs`). Times are seconds since the epoch; at most one job per
    //    room and kind waits or runs at a time.
    r#"
    CREATE TABLE jobs (
        id            INTEGER PRIMARY KEY,
        kind          TEXT NOT NULL,
        room_id       TEXT NOT NULL,
        session       TEXT NOT NULL,
        spec          TEXT NOT NULL,     -- the job's options, JSON
        format        INTEGER NOT NULL,  -- the job format a worker must know
        state         TEXT NOT NULL,     -- queued, running, done, failed
        step          TEXT,
        attempts      INTEGER NOT NULL DEFAULT 0,
        max_attempts  INTEGER NOT NULL,
        worker        TEXT,
        lease_until   REAL,
        not_before    REAL NOT NULL,
        error         TEXT,
        created_at    REAL NOT NULL,
        updated_at    REAL NOT NULL
    );
    CREATE UNIQUE INDEX jobs_live ON jobs(room_id, kind) WHERE state IN ('queued', 'running');
    CREATE INDEX jobs_waiting ON jobs(state, id);
    "#,
    // 5: the library's settings, a value per key: how long rooms are kept (`keep_days`, and
    //    `keep_days:ROOM` for one room).
    r#"
    CREATE TABLE settings (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );
    "#,
    // 6: a room's words are its live captions (made while it was recorded), not a transcript
    //    made after it: search and the web mark them so until the room is transcribed.
    r#"
    ALTER TABLE rooms ADD COLUMN captions INTEGER NOT NULL DEFAULT 0;
    "#,
];

/// The version this roomcast writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;
