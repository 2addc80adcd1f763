//! The job queue end to end, with real processes: recorders that queue their rooms, workers that
//! publish them (master, transcription on the real tiny.en, exports, index) on a real PostgreSQL
//! (and SQLite), a worker killed mid-transcription, searches while workers index, and a database
//! connection that is lost.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use roomcast::library::{self, Access, SearchQuery};
use serde_json::Value;

use common::live::free_udp_port;
use common::pg::{Relay, Server};
use common::{ok, shared};

/// A library (PostgreSQL or SQLite) and the folders around it; every command runs with the real
/// tiny.en model.
struct Env {
    dir: tempfile::TempDir,
    library: String,
}

impl Env {
    fn postgres() -> Env {
        Env { dir: tempfile::tempdir().unwrap(), library: Server::get().database() }
    }

    fn sqlite() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().join("library").to_string_lossy().into_owned();
        Env { dir, library }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_roomcast"));
        c.env("ROOMCAST_LIBRARY", &self.library)
            .env("ROOMCAST_MODELS", shared().join("models"))
            .env("ROOMCAST_MODEL", shared().join("models/ggml-tiny.en.bin"))
            .env("ROOMCAST_ROOMS_DIR", self.path("rooms"))
            .env("XDG_DATA_HOME", self.path("data"))
            .args(args);
        c
    }

    fn rc(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&ok(self.rc(&all))).unwrap()
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    fn jobs(&self) -> Vec<Value> {
        self.json(&["jobs"]).as_array().unwrap().clone()
    }

    /// A session of one speaker saying `clip` (a LibriSpeech or JFK file of the shared speech).
    fn import(&self, title: &str, speaker: &str, clip: &str) -> PathBuf {
        let out = self.path(title);
        let file = shared().join("samples").join(clip);
        ok(self.rc(&[
            "import",
            "--speaker",
            &format!("{speaker}={}", file.display()),
            "--title",
            title,
            "--out",
            out.to_str().unwrap(),
        ]));
        out
    }

    /// Waits until every job is done (at most `limit`), failing at once on a failed job.
    fn wait_all_done(&self, count: usize, limit: Duration) -> Vec<Value> {
        let end = Instant::now() + limit;
        loop {
            let jobs = self.jobs();
            assert!(jobs.iter().all(|j| j["state"] != "failed"), "a job failed: {jobs:#?}");
            if jobs.len() == count && jobs.iter().all(|j| j["state"] == "done") {
                return jobs;
            }
            assert!(Instant::now() < end, "jobs not done in {limit:?}: {jobs:#?}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill has no memory effects; the pid is our own child's.
    unsafe { libc::kill(child.id() as i32, sig) };
}

fn finished(child: Child) -> (bool, String, String) {
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// The segments transcript.json holds, and what the library says it indexed, for each room.
fn indexed_as_written(env: &Env, session: &Path) {
    let transcript: Value =
        serde_json::from_str(&std::fs::read_to_string(session.join("transcript.json")).unwrap()).unwrap();
    let segments = transcript["segments"].as_array().unwrap().len();
    assert!(segments > 0, "{}: transcribed", session.display());
    let id = common::room_json(session)["id"].as_str().unwrap().to_string();
    let room = env.json(&["show", &id]);
    assert_eq!(room["segments"].as_u64().unwrap() as usize, segments, "{id}: every segment indexed once");
    // The masters are whole files, as ffprobe reads them.
    let probe = common::tool("ffprobe")
        .args(["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"])
        .arg(session.join("master.mp3"))
        .output()
        .unwrap();
    let secs: f64 = String::from_utf8_lossy(&probe.stdout).trim().parse().unwrap_or(0.0);
    assert!(secs > 5.0, "{id}: master.mp3 lasts {secs} s");
    // No half-written file left behind.
    for entry in std::fs::read_dir(session).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp") && !name.starts_with('.'), "{id}: leftover {name}");
    }
}

#[test]
fn rooms_from_two_recorders_and_two_imports_are_published_once_each_by_three_workers() {
    let env = Env::postgres();
    let imported = [
        env.import("Stew", "Ana", "librispeech_test_clean/1089-134686-0000.flac"),
        env.import("Waiting", "Ben", "librispeech_test_clean/1089-134691-0001.flac"),
    ];
    for s in &imported {
        let queued = env.json(&["publish", s.to_str().unwrap(), "--queue", "--language", "en"]);
        assert_eq!(queued["created"], true);
    }

    // Searches go on from start to end while the workers index.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let searcher = {
        let (stop, url) = (stop.clone(), env.library.clone());
        std::thread::spawn(move || {
            let lib = library::open(Path::new(&url), Access::Read).unwrap();
            let (mut searches, mut errors) = (0, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                for text in ["wait", "country", "stew OR hour", "\"could wait\""] {
                    let q = SearchQuery { text: text.into(), limit: 10, include_private: true, ..Default::default() };
                    if let Err(e) = lib.search(&q) {
                        errors.push(e.to_string());
                    }
                    searches += 1;
                }
                if let Err(e) = lib.rooms(true) {
                    errors.push(e.to_string());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            (searches, errors)
        })
    };

    let workers: Vec<Child> =
        (1..=3).map(|n| env.spawn(&["worker", "--name", &format!("w{n}"), "--poll", "0.2", "--lease", "10"])).collect();

    // Two recorders, each a room of real RTP (JFK's speech from `roomcast speak`), queued when
    // the room ends.
    let recordings: Vec<(PathBuf, Child, Child)> = (1..=2)
        .map(|n| {
            let url = format!("rtp://127.0.0.1:{}", free_udp_port());
            let out = env.path(&format!("live-{n}"));
            let title = format!("Live {n}");
            let mut args = vec!["--json", "record", &url, "--max-duration", "14", "--title", &title, "--publish"];
            // The second goes where the library keeps recordings ($ROOMCAST_ROOMS_DIR here).
            if n == 1 {
                args.extend(["--out", out.to_str().unwrap()]);
            }
            let recorder = env.spawn(&args);
            std::thread::sleep(Duration::from_millis(500));
            let jfk = shared().join("samples/jfk/jfk.wav");
            let speaker = env.spawn(&["speak", jfk.to_str().unwrap(), "--to", &url, "--name", "John"]);
            (out, recorder, speaker)
        })
        .collect();
    let mut sessions = imported.to_vec();
    for (n, (out, recorder, speaker)) in recordings.into_iter().enumerate() {
        assert!(finished(speaker).0);
        let (success, stdout, stderr) = finished(recorder);
        assert!(success, "recorder: {stderr}");
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["queued"]["created"], true, "the room is queued when it ends: {report}");
        let session = PathBuf::from(report["session"].as_str().unwrap());
        match n {
            0 => assert_eq!(session, out),
            _ => assert!(session.starts_with(env.path("rooms")), "{}", session.display()),
        }
        sessions.push(session);
    }

    let jobs = env.wait_all_done(4, Duration::from_secs(300));
    // SIGTERM: each worker finishes what it holds (nothing now) and stops cleanly.
    for w in &workers {
        signal(w, libc::SIGTERM);
    }
    for w in workers {
        let (success, stdout, stderr) = finished(w);
        assert!(success, "a stopped worker exits cleanly: {stderr}");
        assert!(stdout.contains("worker w"), "{stdout}");
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (searches, errors) = searcher.join().unwrap();
    assert!(searches > 20, "searched throughout ({searches})");
    assert!(errors.is_empty(), "searches while indexing: {errors:?}");

    assert!(jobs.iter().all(|j| j["attempts"] == 1), "each job done once: {jobs:#?}");
    let mut by: Vec<&str> = jobs.iter().map(|j| j["worker"].as_str().unwrap()).collect();
    by.sort();
    by.dedup();
    assert!(by.len() >= 2, "the work spread over the workers: {by:?}");
    assert_eq!(env.json(&["rooms"]).as_array().unwrap().len(), 4, "four rooms, none twice");
    for s in &sessions {
        indexed_as_written(&env, s);
    }
    // What was said is searchable, by whom: JFK in both live rooms, the stew in its room.
    let hits = env.json(&["search", "country"]);
    let mut rooms: Vec<&str> = hits.as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap()).collect();
    rooms.sort();
    rooms.dedup();
    assert_eq!(rooms, ["Live 1", "Live 2"], "{hits:#}");
    assert!(hits.as_array().unwrap().iter().all(|h| h["name"] == "John"));
    let stew = env.json(&["search", "stew"]);
    assert_eq!(stew[0]["title"], "Stew");
    assert_eq!(stew[0]["name"], "Ana");
    web_and_feed_read_the_same_library(&env);
}

/// `serve` and `feed` over the PostgreSQL library: the four rooms, searchable on the web, each an
/// episode of the feed.
fn web_and_feed_read_the_same_library(env: &Env) {
    let port = common::live::free_tcp_port();
    let mut server = env.spawn(&["serve", "--addr", &format!("127.0.0.1:{port}")]);
    let get = |path: &str| -> Option<String> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
        let mut reply = String::new();
        s.read_to_string(&mut reply).ok()?;
        Some(reply)
    };
    let end = Instant::now() + Duration::from_secs(20);
    let rooms = loop {
        if let Some(reply) = get("/api/rooms") {
            break reply;
        }
        if let Ok(Some(status)) = server.try_wait() {
            let mut err = String::new();
            std::io::Read::read_to_string(server.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("serve stopped ({status}): {err}");
        }
        assert!(Instant::now() < end, "serve did not answer");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(rooms.starts_with("HTTP/1.1 200"), "{rooms}");
    let search = get("/api/search?q=country").unwrap();
    assert!(search.contains("\"Live 1\"") && search.contains("\"Live 2\""), "{search}");
    assert_eq!(get("/feed.xml").unwrap().matches("<item>").count(), 4);
    signal(&server, libc::SIGTERM);
    let (success, _, stderr) = finished(server);
    assert!(success, "serve stops cleanly: {stderr}");
    let out = env.path("site");
    ok(env.rc(&["feed", "--out", out.to_str().unwrap(), "--base-url", "https://example.com/pod"]));
    let feed = std::fs::read_to_string(out.join("feed.xml")).unwrap();
    assert_eq!(feed.matches("<item>").count(), 4, "{feed}");
}

/// A worker killed with SIGKILL while it transcribes: the next worker redoes the job once the
/// lease runs out, and the room is published once, whole.
fn a_killed_worker_loses_nothing(env: &Env) {
    let session = env.path("crash");
    common::import_sample(&session);
    ok(env.rc(&["publish", session.to_str().unwrap(), "--queue", "--language", "en"]));
    let mut doomed = env.spawn(&["worker", "--name", "doomed", "--lease", "2", "--poll", "0.2"]);
    let end = Instant::now() + Duration::from_secs(120);
    while env.jobs()[0]["step"] != "transcribe" {
        assert!(Instant::now() < end, "the job never reached transcription: {:#?}", env.jobs());
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1000));
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let job = &env.jobs()[0];
    assert_eq!((job["state"].as_str(), job["worker"].as_str()), (Some("running"), Some("doomed")), "{job:#}");

    let rescuer = env.rc(&["worker", "--name", "rescuer", "--until-idle", "--lease", "2", "--poll", "0.2"]);
    let stdout = ok(rescuer);
    assert!(stdout.contains("1 done, 0 failed"), "{stdout}");
    let jobs = env.jobs();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(
        (job["state"].as_str(), job["attempts"].as_i64(), job["worker"].as_str()),
        (Some("done"), Some(2), Some("rescuer")),
        "{job:#}"
    );
    assert_eq!(env.json(&["rooms"]).as_array().unwrap().len(), 1);
    indexed_as_written(env, &session);
    let hits = env.json(&["search", "--speaker", "Maya", "welcome"]);
    assert!(!hits.as_array().unwrap().is_empty(), "the room is searchable: {hits:#}");
}

#[test]
fn a_worker_killed_mid_transcription_loses_nothing_on_postgresql() {
    a_killed_worker_loses_nothing(&Env::postgres());
}

#[test]
fn a_worker_killed_mid_transcription_loses_nothing_on_sqlite() {
    a_killed_worker_loses_nothing(&Env::sqlite());
}

#[test]
fn a_failing_job_keeps_its_error_and_the_worker_goes_on() {
    let env = Env::sqlite();
    let good = env.import("Good", "Ana", "librispeech_test_clean/1089-134691-0000.flac");
    let bad = env.import("Bad", "Ben", "librispeech_test_clean/1089-134691-0000.flac");
    for s in [&bad, &good] {
        ok(env.rc(&["publish", s.to_str().unwrap(), "--queue", "--skip-transcribe"]));
    }
    // The bad room's track vanishes after it was queued (a disk unmounted, a folder moved).
    let room = common::room_json(&bad);
    std::fs::remove_file(bad.join(room["speakers"][0]["track"].as_str().unwrap())).unwrap();
    let stdout = ok(env.rc(&["worker", "--once"]));
    assert!(stdout.contains("failed, will be retried"), "{stdout}");
    let stdout = ok(env.rc(&["worker", "--once"]));
    assert!(stdout.contains("done"), "the next job is done: {stdout}");
    let jobs = env.jobs();
    let failed = jobs.iter().find(|j| j["room"] == room["id"]).unwrap();
    assert_eq!(failed["state"], "queued", "waiting for its retry: {failed:#}");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("publish step 1 of 4 (master) failed"), "{error}");
    assert!(!error.contains('\n'));
    // The listing shows it, for people.
    let listing = ok(env.rc(&["jobs"]));
    assert!(listing.contains("error: publish step 1 of 4 (master) failed"), "{listing}");
}

#[test]
fn a_worker_leaves_jobs_for_a_newer_roomcast_and_says_so_in_one_line() {
    let env = Env::postgres();
    let mut lib = library::open(Path::new(&env.library), Access::Write).unwrap();
    lib.enqueue(&roomcast::library::NewJob {
        kind: "publish-v9".into(),
        room: "from-the-future".into(),
        session: env.path("future"),
        spec: serde_json::json!({}),
        format: roomcast::library::jobs::JOB_FORMAT + 1,
        max_attempts: 3,
    })
    .unwrap();
    let out = env.rc(&["worker", "--until-idle"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("1 queued job(s) need a newer roomcast than this worker"), "{stderr}");
    assert_eq!(env.jobs()[0]["state"], "queued", "left as it was");
}

#[test]
fn a_lost_database_connection_is_retried_then_reported_in_one_line() {
    let server = Server::private(&[], |_| {});
    server.sql("postgres", "CREATE DATABASE lib");
    let url = server.url("lib");
    let env = Env { dir: tempfile::tempdir().unwrap(), library: url.clone() };
    let session = env.import("Stew", "Ana", "librispeech_test_clean/1089-134686-0000.flac");
    ok(env.rc(&["import-transcript", session.to_str().unwrap(), &stew_vtt(&env)]));
    // Through a relay (a pooler, a load balancer) whose timing the test holds in its hands.
    let relay = Relay::start(&server, Duration::from_secs(1));
    let lib = library::open(Path::new(&relay.url("lib")), Access::Read).unwrap();
    let q = SearchQuery { text: "stew".into(), limit: 10, include_private: true, ..Default::default() };
    assert_eq!(lib.search(&q).unwrap().len(), 1);
    // The server ends every session while it is idle (a restart, a failover, an administrator):
    // its "terminating connection" (57P01) waits for the next statement.
    server.terminate("datname = 'lib'");
    assert_eq!(lib.search(&q).unwrap().len(), 1, "connected again, and the search answered");
    // The same, but the server's last words are still on their way when the next search starts:
    // they arrive as the answer to its first statement, before the connection's end does. (The
    // race that once returned "terminating connection due to administrator command".)
    relay.hold();
    server.terminate("datname = 'lib'");
    let sent = relay.bytes_from_clients();
    let searching = std::thread::spawn(move || {
        let hits = lib.search(&q).map(|h| h.len());
        (lib, q, hits)
    });
    while relay.bytes_from_clients() == sent {
        std::thread::sleep(Duration::from_millis(5));
    }
    relay.release();
    let (lib, q, hits) = searching.join().unwrap();
    assert_eq!(hits.unwrap(), 1, "connected again, and the search was redone");
    // The server is gone for good: tried again for a while, then one line saying so.
    server.stop();
    let started = Instant::now();
    let err = lib.search(&q).unwrap_err().to_string();
    assert!(started.elapsed() > Duration::from_secs(5), "it kept trying ({:?})", started.elapsed());
    assert!(err.contains("lost the connection to PostgreSQL and could not connect again"), "{err}");
    assert!(!err.contains('\n'), "{err}");
    // A command that finds no server says so in one line, at once, and writes nothing.
    let out = env.rc(&["rooms"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("postgresql:///lib"), "names the library: {stderr}");
    assert_eq!(stderr.matches("error connecting to server").count(), 1, "says it once: {stderr}");
}

/// A WebVTT transcript of the stew clip, for rooms that need words without transcribing.
fn stew_vtt(env: &Env) -> String {
    let file = env.path("stew.vtt");
    std::fs::write(&file, "WEBVTT\n\n00:00:00.500 --> 00:00:04.000\n<v Ana>He hoped there would be stew for dinner\n")
        .unwrap();
    file.to_string_lossy().into_owned()
}

#[test]
fn the_catalog_reaches_postgresql_over_tls_when_the_url_asks() {
    if common::tool("openssl").arg("version").output().is_err() {
        panic!("openssl not found: install the Debian package openssl (scripts/deps.sh does)");
    }
    let port = common::live::free_tcp_port();
    let server = Server::private(
        &[
            "listen_addresses=127.0.0.1",
            &format!("port={port}"),
            "ssl=on",
            "ssl_cert_file=../server.crt",
            "ssl_key_file=../server.key",
        ],
        |base| {
            let run = |args: &[&str]| {
                let out = common::tool("openssl").current_dir(base).args(args).output().unwrap();
                assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            };
            // A CA of our own, and the server's certificate signed by it for "localhost".
            let req = ["req", "-newkey", "rsa:2048", "-nodes", "-subj"];
            run(&[&req[..], &["/CN=roomcast test CA", "-x509", "-days", "2", "-keyout", "ca.key", "-out", "ca.crt"]]
                .concat());
            run(&[&req[..], &["/CN=someone else", "-x509", "-days", "2", "-keyout", "other.key", "-out", "other.crt"]]
                .concat());
            run(&[&req[..], &["/CN=localhost", "-keyout", "server.key", "-out", "server.csr"]].concat());
            std::fs::write(base.join("san.ext"), "subjectAltName=DNS:localhost\n").unwrap();
            run(&[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "san.ext",
                "-out",
                "server.crt",
            ]);
            std::fs::set_permissions(base.join("server.key"), std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
            // Over TCP, TLS only: a plain connection is refused by the server itself.
            std::fs::write(base.join("data/pg_hba.conf"), "local all all trust\nhostssl all all 127.0.0.1/32 trust\n")
                .unwrap();
        },
    );
    server.sql("postgres", "CREATE DATABASE lib");
    let base = server.socket_dir().to_path_buf();
    let tcp = |query: &str| format!("postgresql://postgres@localhost:{port}/lib?{query}");
    let env = |url: String| Env { dir: tempfile::tempdir().unwrap(), library: url };
    let root = base.join("ca.crt").display().to_string();
    for query in ["sslmode=require".to_string(), format!("sslmode=verify-full&sslrootcert={root}")] {
        let out = env(tcp(&query)).rc(&["rooms"]);
        assert!(out.status.success(), "{query}: {}{}", String::from_utf8_lossy(&out.stderr), server.log());
    }
    let refused = [
        ("sslmode=disable".to_string(), "no encryption"),
        (format!("sslmode=verify-full&sslrootcert={}", base.join("other.crt").display()), "certificate"),
        ("sslmode=sometimes".to_string(), "sslmode 'sometimes' is not one of"),
    ];
    for (query, why) in refused {
        let out = env(tcp(&query)).rc(&["rooms"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{query}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(why), "{query}: {stderr}");
    }
}

#[test]
fn wrong_credentials_are_one_line_that_never_shows_the_password() {
    let port = common::live::free_tcp_port();
    let server = Server::private(&["listen_addresses=127.0.0.1", &format!("port={port}")], |base| {
        std::fs::write(base.join("data/pg_hba.conf"), "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
            .unwrap();
    });
    server.sql("postgres", "CREATE ROLE alice LOGIN PASSWORD 'right-one'");
    server.sql("postgres", "CREATE DATABASE lib OWNER alice");
    let url = |password: &str| format!("postgresql://alice:{password}@127.0.0.1:{port}/lib");
    let env = |url: String| Env { dir: tempfile::tempdir().unwrap(), library: url };
    let out = env(url("not-her-password")).rc(&["rooms"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("password authentication failed for user \"alice\""), "{stderr}");
    assert!(!stderr.contains("not-her-password") && stderr.contains("alice:***@"), "{stderr}");
    assert_eq!(server.rows(&server.url("lib"), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), ["0"]);
    ok(env(url("right-one")).rc(&["rooms"]));
    assert_eq!(server.rows(&server.url("lib"), "SELECT version FROM schema_version").len(), 1);
}
