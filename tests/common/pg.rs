//! A throwaway PostgreSQL server for the tests: one per test binary run, started on first use with
//! the Debian package's initdb and pg_ctl (under /usr/lib/postgresql/N/bin, not on PATH) in a
//! temporary folder, listening on a unix socket there only, and stopped (its folder removed) when
//! the test binary exits. Both programs refuse to run as root: as root they run as the `postgres`
//! user the package makes, with the folder given to it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Server {
    /// The server's folder: `data/` (the cluster), the socket, `log`.
    base: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    /// The port, when not the default (it names the unix socket too).
    port: Option<u16>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// The bin folder of the newest PostgreSQL the Debian package installed.
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

impl Server {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let out = self.command(program).args(args).output().map_err(|e| format!("{program}: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.base.join("log")).unwrap_or_default();
        Err(format!(
            "{program} failed: {}{}\n{log}",
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        ))
    }

    fn start() -> Result<Server, String> {
        let server = Self::start_with(&[], None)?;
        extern "C" fn stop() {
            if let Some(Ok(s)) = SERVER.get() {
                s.stop();
                let _ = std::fs::remove_dir_all(&s.base);
            }
        }
        // SAFETY: `stop` is a plain function that runs when the test binary exits.
        unsafe { libc::atexit(stop) };
        Ok(server)
    }

    /// A server of the test's own (stopped and removed when dropped), for tests that stop it or
    /// need settings of their own: `options` go to postgres (`-c name=value`), `setup` runs on the
    /// server's folder after initdb, before the start (certificates, pg_hba.conf).
    pub fn private(options: &[&str], setup: impl FnOnce(&Path)) -> Private {
        let server = Self::start_with(options, Some(Box::new(setup))).unwrap_or_else(|e| panic!("{e}"));
        Private(server)
    }

    #[allow(clippy::type_complexity)]
    fn start_with(extra: &[&str], setup: Option<Box<dyn FnOnce(&Path) + '_>>) -> Result<Server, String> {
        let bin = bin_dir().ok_or(
            "PostgreSQL not found (no /usr/lib/postgresql/*/bin/initdb): install the Debian package \
             postgresql (scripts/deps.sh does, for need_tools test)",
        )?;
        let base = tempfile::Builder::new().prefix("roomcast-pg-").tempdir().map_err(|e| e.to_string())?.keep();
        let as_postgres = is_root();
        if as_postgres {
            let ok = Command::new("chown").arg("postgres:").arg(&base).status().map_err(|e| e.to_string())?;
            if !ok.success() {
                return Err(format!("chown postgres {} failed", base.display()));
            }
        }
        let port = extra.iter().find_map(|o| o.strip_prefix("port=")?.parse().ok());
        let server = Server { base, bin, as_postgres, port };
        let data = server.base.join("data");
        let (data, log, sock) = (data.to_str().unwrap(), server.base.join("log"), server.base.to_str().unwrap());
        server.run(
            "initdb",
            &["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
        )?;
        if let Some(setup) = setup {
            setup(&server.base);
            if server.as_postgres {
                let _ = Command::new("chown").arg("-R").arg("postgres:").arg(&server.base).status();
            }
        }
        let mut options = format!("-k {sock} -c fsync=off -c full_page_writes=off");
        if !extra.iter().any(|o| o.starts_with("listen_addresses=")) {
            options.push_str(" -c listen_addresses=");
        }
        for o in extra {
            options.push_str(&format!(" -c {o}"));
        }
        server.run("pg_ctl", &["-D", data, "-l", log.to_str().unwrap(), "-w", "-o", &options, "start"])?;
        Ok(server)
    }

    /// Stops the server at once (as a crash or a lost network would).
    pub fn stop(&self) {
        let data = self.base.join("data");
        let _ = self.command("pg_ctl").args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"]).output();
    }

    /// The server, started on first use. Panics with one line when PostgreSQL is not installed or
    /// does not start.
    pub fn get() -> &'static Server {
        match SERVER.get_or_init(Server::start) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        let port = self.port.map(|p| format!("&port={p}")).unwrap_or_default();
        format!("postgresql:///{name}?host={}&user=postgres{port}", self.base.display())
    }

    /// A new, empty database of its own: its URL.
    pub fn database(&self) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("roomcast_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        self.sql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    /// Runs `sql` in database `name` (as the superuser).
    pub fn sql(&self, name: &str, sql: &str) {
        let mut client = ::postgres::Client::connect(&self.url(name), ::postgres::NoTls).unwrap();
        client.batch_execute(sql).unwrap();
    }

    /// The rows of `sql` in the database at `url`, each as text columns joined by `|`.
    pub fn rows(&self, url: &str, sql: &str) -> Vec<String> {
        let mut client = ::postgres::Client::connect(url, ::postgres::NoTls).unwrap();
        client
            .simple_query(sql)
            .unwrap()
            .into_iter()
            .filter_map(|m| match m {
                ::postgres::SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).unwrap_or("NULL").to_string()).collect::<Vec<_>>().join("|"))
                }
                _ => None,
            })
            .collect()
    }

    pub fn socket_dir(&self) -> &Path {
        &self.base
    }

    /// The server's port (that of its socket too).
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(5432)
    }

    /// The rows of `sql` in the database at `url` once there are some: polls for up to 10 s, for
    /// what the server does in the background (a session starting to wait, one ending).
    pub fn rows_soon(&self, url: &str, sql: &str) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let rows = self.rows(url, sql);
            if !rows.is_empty() {
                return rows;
            }
            assert!(std::time::Instant::now() < deadline, "no rows from {sql} after 10 s\n{}", self.log());
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Ends the sessions `which` (a condition on pg_stat_activity) as an administrator or a
    /// failover would, and returns once the server shows them gone: `pg_terminate_backend` only
    /// signals them, and a session still ending could answer a statement with the error itself.
    pub fn terminate(&self, which: &str) {
        let url = self.url("postgres");
        let mine = "pid <> pg_backend_pid()";
        self.rows(&url, &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {which} AND {mine}"));
        self.rows_soon(
            &url,
            &format!("SELECT 1 WHERE NOT EXISTS (SELECT FROM pg_stat_activity WHERE {which} AND {mine})"),
        );
    }

    /// psql of the same PostgreSQL, for what libpq itself makes of a connection string (as the
    /// test's own user: it reads the test's folders).
    pub fn psql(&self) -> Command {
        Command::new(self.bin.join("psql"))
    }

    /// The server's log, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.base.join("log")).unwrap_or_default()
    }
}

/// A relay to a server on a unix socket of its own, as a connection pooler or a load balancer in
/// front of PostgreSQL, with its timing in the test's hands: while held, what the server sends
/// waits in the relay (still on its way to the client); the end of the server's side of a
/// connection is passed on `lag` after its last bytes. So a test can have a client send its next
/// statement before it reads the server's last words ("terminating connection"), which then read
/// as the answer to that statement while the connection still looks open.
pub struct Relay {
    dir: tempfile::TempDir,
    port: u16,
    state: std::sync::Arc<RelayState>,
}

#[derive(Default)]
struct RelayState {
    held: std::sync::Mutex<bool>,
    released: std::sync::Condvar,
    /// Bytes the clients sent, all connections together.
    from_clients: AtomicUsize,
}

impl RelayState {
    fn wait_released(&self) {
        let mut held = self.held.lock().unwrap();
        while *held {
            held = self.released.wait(held).unwrap();
        }
    }
}

impl Relay {
    pub fn start(server: &Server, lag: std::time::Duration) -> Relay {
        use std::io::{Read, Write};
        use std::os::unix::net::{UnixListener, UnixStream};
        let dir = tempfile::Builder::new().prefix("roomcast-relay-").tempdir().unwrap();
        let port = server.port();
        let socket = format!(".s.PGSQL.{port}");
        let listener = UnixListener::bind(dir.path().join(&socket)).unwrap();
        let upstream = server.base.join(&socket);
        let state = std::sync::Arc::new(RelayState::default());
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let (Ok(client), Ok(server)) = (client, UnixStream::connect(&upstream)) else { continue };
                let (mut from_client, mut to_server) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let counted = shared.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    while let Ok(n @ 1..) = from_client.read(&mut buf) {
                        counted.from_clients.fetch_add(n, Ordering::SeqCst);
                        // The server may be gone; the client's bytes are still counted.
                        let _ = to_server.write_all(&buf[..n]);
                    }
                    let _ = to_server.shutdown(std::net::Shutdown::Write);
                });
                let (mut from_server, mut to_client, gate) = (server, client, shared.clone());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    while let Ok(n @ 1..) = from_server.read(&mut buf) {
                        gate.wait_released();
                        if to_client.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    gate.wait_released();
                    std::thread::sleep(lag);
                    let _ = to_client.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Relay { dir, port, state }
    }

    /// The URL of database `name` through the relay.
    pub fn url(&self, name: &str) -> String {
        format!("postgresql:///{name}?host={}&port={}&user=postgres", self.dir.path().display(), self.port)
    }

    /// From now on, what the server sends waits in the relay.
    pub fn hold(&self) {
        *self.state.held.lock().unwrap() = true;
    }

    /// Passes on what waited, and what comes after.
    pub fn release(&self) {
        *self.state.held.lock().unwrap() = false;
        self.state.released.notify_all();
    }

    /// How many bytes the clients have sent so far.
    pub fn bytes_from_clients(&self) -> usize {
        self.state.from_clients.load(Ordering::SeqCst)
    }
}

/// A server of a test's own: stopped and removed when dropped.
pub struct Private(Server);

impl std::ops::Deref for Private {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.0
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        self.0.stop();
        let _ = std::fs::remove_dir_all(&self.0.base);
    }
}
