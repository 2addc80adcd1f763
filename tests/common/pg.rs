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

    /// The server's log, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.base.join("log")).unwrap_or_default()
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
