//! The library given as any connection string psql takes, on a real PostgreSQL server (`common::pg`)
//! listening on a unix socket and on TCP: every libpq form reaches the database psql reaches, by the
//! same way (socket or TCP), and what cannot be used is said in one line, once, without a password.

mod common;

use std::process::{Command, Output};

use common::pg::{Private, Server};

/// A server on its unix socket and on 127.0.0.1 (and ::1 where the machine has it), with
/// databases that tell how they were reached: `via_socket` only over the socket, `via_tcp` only
/// over TCP. `alice` logs in over TCP with a password full of characters that need quoting.
struct Setup {
    server: Private,
    socket: String,
    port: u16,
    ipv6: bool,
    dir: tempfile::TempDir,
}

const ALICE_PASSWORD: &str = r"s3cr@t w:rd'\";

fn setup() -> Setup {
    let port = common::live::free_tcp_port();
    let ipv6 = std::net::TcpListener::bind(("::1", 0)).is_ok();
    let listen = if ipv6 { "listen_addresses=127.0.0.1,::1" } else { "listen_addresses=127.0.0.1" };
    let server = Server::private(&[listen, &format!("port={port}")], |base| {
        let hba = "local via_tcp all reject\n\
                   local all all trust\n\
                   host via_socket all 0.0.0.0/0 reject\n\
                   host via_socket all ::/0 reject\n\
                   host all alice 127.0.0.1/32 scram-sha-256\n\
                   host all alice ::1/128 scram-sha-256\n\
                   host all all 127.0.0.1/32 trust\n\
                   host all all ::1/128 trust\n";
        std::fs::write(base.join("data/pg_hba.conf"), hba).unwrap();
    });
    server.sql("postgres", "CREATE DATABASE via_socket");
    server.sql("postgres", "CREATE DATABASE via_tcp");
    let quoted = ALICE_PASSWORD.replace('\'', "''");
    // A superuser, so that the library the others made is hers to read too.
    server.sql("postgres", &format!("CREATE ROLE alice LOGIN SUPERUSER PASSWORD '{quoted}'"));
    let socket = server.socket_dir().display().to_string();
    Setup { server, socket, port, ipv6, dir: tempfile::tempdir().unwrap() }
}

impl Setup {
    /// `roomcast rooms` on the library `conn`, in a folder of its own (`cwd`).
    fn rooms(&self, conn: &str) -> Output {
        let cwd = self.dir.path().join("cwd");
        std::fs::create_dir_all(&cwd).unwrap();
        Command::new(env!("CARGO_BIN_EXE_roomcast"))
            .args(["--library", conn, "rooms", "--json"])
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .current_dir(cwd)
            .output()
            .unwrap()
    }
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn every_connection_string_psql_takes_reaches_the_same_database_the_same_way() {
    let s = setup();
    let (sock, port) = (&s.socket, s.port);
    let enc = percent(sock);
    // A socket folder whose path has a blank in it, to quote and to escape.
    let spaced = s.dir.path().join("socket dir");
    std::os::unix::fs::symlink(sock, &spaced).unwrap();
    let spaced = spaced.display().to_string();
    let pw = percent(ALICE_PASSWORD);
    let quoted_pw = ALICE_PASSWORD.replace('\\', r"\\").replace('\'', r"\'");
    let mut table: Vec<(String, &str)> = vec![
        // The query's host wins over the URI's: the socket is used, as psql uses it.
        (format!("postgres://postgres@localhost:{port}/via_socket?host={sock}"), "via_socket"),
        (format!("postgres://postgres@127.0.0.2:{port}/via_socket?host={sock}"), "via_socket"),
        (
            format!(
                "postgresql://nobody@127.0.0.2:1/elsewhere?host={sock}&port={port}&user=postgres&dbname=via_socket"
            ),
            "via_socket",
        ),
        (format!("postgresql:///via_socket?host={sock}&port={port}&user=postgres"), "via_socket"),
        (format!("postgresql://postgres@{enc}:{port}/via_socket"), "via_socket"),
        (format!("postgresql://postgres@{}:{port}/via_socket", percent(&spaced)), "via_socket"),
        (format!("postgresql://postgres@127.0.0.2:{port},{enc}:{port}/via_socket"), "via_socket"),
        (format!("host={sock} port={port} dbname=via_socket user=postgres"), "via_socket"),
        (format!("  host = '{spaced}'\tport={port} dbname = 'via_socket' user=postgres  "), "via_socket"),
        (format!("host={} port={port} dbname=via_socket user=postgres", spaced.replace(' ', r"\ ")), "via_socket"),
        (format!("host=127.0.0.2,{sock} port={port} dbname=via_socket user=postgres connect_timeout=5"), "via_socket"),
        // A unix socket is plain whatever sslmode says, as in libpq.
        (format!("host={sock} port={port} dbname=via_socket user=postgres sslmode=require"), "via_socket"),
        // TCP, by name, by address, with the settings libpq takes.
        (format!("postgresql://postgres@127.0.0.1:{port}/via_tcp"), "via_tcp"),
        (
            format!(
                "postgresql://postgres@localhost:{port}/via_tcp?sslmode=disable&connect_timeout=5\
                 &application_name=roomcast-test&options=-c%20statement_timeout%3D5000&keepalives=1"
            ),
            "via_tcp",
        ),
        (format!("postgresql://postgres@127.0.0.1:1/via_tcp?port={port}"), "via_tcp"),
        (format!("postgresql:///via_tcp?hostaddr=127.0.0.1&port={port}&user=postgres"), "via_tcp"),
        (
            format!("host=localhost hostaddr=127.0.0.1 port={port} dbname=via_tcp user=postgres sslmode=prefer"),
            "via_tcp",
        ),
        // A password with '@', ':', a blank, a quote and a backslash, percent-encoded or quoted.
        (format!("postgresql://alice:{pw}@127.0.0.1:{port}/via_tcp"), "via_tcp"),
        (format!("postgresql://alice@127.0.0.1:{port}/via_tcp?password={pw}"), "via_tcp"),
        (format!("host=127.0.0.1 port={port} dbname=via_tcp user=alice password='{quoted_pw}'"), "via_tcp"),
    ];
    if s.ipv6 {
        table.push((format!("postgres://postgres@[::1]:{port}/via_tcp"), "via_tcp"));
        table.push((format!("host=::1 port={port} dbname=via_tcp user=postgres"), "via_tcp"));
    } else {
        eprintln!("no IPv6 loopback here: the [::1] forms are not tried");
    }
    for (conn, database) in &table {
        // What libpq makes of it: the database, reached the way its name says.
        let psql = s.server.psql().args([conn.as_str(), "-Atc", "SELECT current_database()"]).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&psql.stdout).trim(),
            *database,
            "psql {conn}: {}",
            String::from_utf8_lossy(&psql.stderr)
        );
        let out = s.rooms(conn);
        assert!(out.status.success(), "{conn}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]", "{conn}");
    }
    // The library was made in each database, which only that way reaches.
    for database in ["via_socket", "via_tcp"] {
        let url = format!("postgresql:///{database}?host={sock}&port={port}&user=postgres");
        let url = if database == "via_tcp" { url.replace(&format!("host={sock}"), "host=127.0.0.1") } else { url };
        assert_eq!(s.server.rows(&url, "SELECT count(*) FROM schema_version"), ["1"], "{database}");
    }
}

#[test]
fn a_connection_string_that_cannot_be_used_is_one_line_said_once_without_its_password() {
    let s = setup();
    let (sock, port) = (&s.socket, s.port);
    let table = [
        (format!("hots={sock} dbname=via_socket"), r#"invalid connection option "hots""#),
        (format!("postgresql:///via_socket?host={sock}&hots=1"), r#"invalid URI query parameter: "hots""#),
        ("postgresql://postgres@127.0.0.1:54x/via_tcp".to_string(), r#"invalid port number: "54x""#),
        (format!("host={sock} port=99999 dbname=via_socket"), r#"invalid port number: "99999""#),
        (format!("host={sock} dbname=via_socket user=postgres password='hunter2"), "unterminated quoted string"),
        (format!("host={sock} hunter2 dbname=via_socket"), "a word without \"=\""),
        (format!("postgresql://postgres:hunter2@[::1/via_tcp?port={port}"), "looking for matching \"]\""),
        (format!("postgresql://postgres:hunter2@127.0.0.1:{port}/via_tcp?sslcert=/c.pem"), "sslcert is not supported"),
        (
            "host=a,b,c port=1,2 dbname=via_tcp password=hunter2".to_string(),
            "could not match 2 port numbers to 3 hosts",
        ),
        (
            format!("postgresql://alice:hunter2@127.0.0.1:{port}/via_tcp"),
            "password authentication failed for user \"alice\"",
        ),
    ];
    for (conn, why) in &table {
        let out = s.rooms(conn);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{conn}");
        assert_eq!(stderr.trim().lines().count(), 1, "{conn}: {stderr}");
        assert_eq!(stderr.matches(why).count(), 1, "{conn}: said once: {stderr}");
        assert!(!stderr.contains("hunter2"), "{conn}: {stderr}");
    }
    let made: Vec<_> = std::fs::read_dir(s.dir.path().join("cwd")).unwrap().collect();
    assert!(made.is_empty(), "no SQLite library made in a folder named like a connection string: {made:?}");
}
