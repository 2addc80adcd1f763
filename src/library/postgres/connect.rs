//! Reaching the database as libpq would from the same connection string (`conninfo` reads it):
//! which servers, in which order, over what, with which TLS; and connecting again after a lost
//! connection.
//!
//! Servers, by libpq's rules: `host`, `hostaddr` and `port` are comma-separated lists, tried in
//! order (`load_balance_hosts=random`: in a random order) until one connects. A host starting with
//! `/` is a unix socket folder; an empty host, or none, is the default socket folder
//! (`/var/run/postgresql`, where Debian's libpq looks, else `/tmp`); a `hostaddr` is the address
//! connected to, the host then only naming the server for TLS. One port serves every host, or
//! there is one per host; an empty port is 5432. Each server is connected to on its own (a
//! `postgres::Config` of one host), because the client would otherwise ask rustls to name the
//! server behind a unix socket, which fails.
//!
//! `sslmode`, as in libpq:
//! - `disable`: plain. `allow` and `prefer` (the default): TLS when the server offers it, unverified.
//!   A unix socket is always plain (the kernel carries it).
//! - `require`: TLS or nothing; the server's certificate is not checked, unless `sslrootcert` names
//!   a file, which then checks it as `verify-ca` does.
//! - `verify-ca`: TLS with a certificate signed by `sslrootcert` (else the system's roots).
//! - `verify-full`: as `verify-ca`, and the certificate must name the host. `sslrootcert=system`
//!   (the system's roots) asks for it and allows nothing weaker.
//!
//! The other keywords:
//! - applied: `user`, `password`, `dbname`, `options`, `application_name` (else
//!   `fallback_application_name`, else "roomcast"), `connect_timeout` (seconds, at least 2; 0 waits
//!   for ever; roomcast's default is 10), `keepalives`, `keepalives_idle`, `keepalives_interval`,
//!   `keepalives_count`, `tcp_user_timeout` (milliseconds), `target_session_attrs` (`any`,
//!   `read-write`, `read-only`), `channel_binding`, `load_balance_hosts`, `sslsni`,
//!   `ssl_min_protocol_version` and `ssl_max_protocol_version` (rustls speaks TLS 1.2 and 1.3);
//!   `requiressl` is read as libpq reads it, as an `sslmode` (`conninfo`);
//! - accepted because they change nothing for roomcast's connections: `client_encoding` `UTF8` or
//!   `auto` (the client always speaks UTF-8), `sslcompression` (no server compresses since
//!   PostgreSQL 14), `gssencmode` other than `require`, `krbsrvname`, `gsslib`, `gssdelegation`
//!   (GSSAPI, which roomcast lacks), `sslcertmode` other than `require` and `sslpassword` (client
//!   certificates, which it never presents), `replication` off, `sslnegotiation=postgres`;
//! - refused in one line, rather than silently not done: `passfile`, `service`, `sslcert`,
//!   `sslkey`, `sslcrl`, `sslcrldir`, `requirepeer`, `require_auth`, and the values above that ask
//!   for what roomcast lacks. Any of them left empty is as if not given, as in libpq.

use std::hash::BuildHasher;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use postgres::config::{ChannelBinding, LoadBalanceHosts, SslMode, TargetSessionAttrs};
use postgres::{Client, Config};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme, SupportedProtocolVersion};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::conninfo::ConnInfo;

/// How long connecting may take when the connection string does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// libpq's shortest `connect_timeout`: a shorter one would give up on a server that is merely slow.
const SHORTEST_CONNECT_TIMEOUT_S: u64 = 2;

/// Where libpq looks for a server's socket when no host is given: Debian's and PostgreSQL's own.
const DEFAULT_SOCKET_DIRS: &[&str] = &["/var/run/postgresql", "/tmp"];

const DEFAULT_PORT: u16 = 5432;

/// How a lost connection is sought again: waits before each try (about 15 s in all).
pub const RECONNECT_WAITS_MS: &[u64] = &[100, 400, 1000, 2000, 4000, 8000];

/// Keywords libpq knows that ask for something roomcast does not do, and why it does not.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("passfile", "roomcast reads no password file; give password"),
    ("service", "roomcast reads no service file; give the service's settings"),
    ("sslcert", "roomcast presents no client certificate"),
    ("sslkey", "roomcast presents no client certificate"),
    ("sslcrl", "roomcast checks no certificate revocation list"),
    ("sslcrldir", "roomcast checks no certificate revocation list"),
    ("requirepeer", "roomcast does not check who runs the server"),
    ("require_auth", "roomcast does not restrict how the server authenticates it"),
];

/// What the connection string asks of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    /// Encrypt only (libpq's `prefer` and `require`).
    None,
    /// Signed by a trusted root (`verify-ca`).
    Chain,
    /// Signed by a trusted root and naming the host (`verify-full`).
    Full,
}

/// One server to try, as the connection string's lists give it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    /// A unix socket in `dir` (`.s.PGSQL.PORT`).
    Socket { dir: PathBuf, port: u16 },
    /// TCP to `addr` when given, else to what `name` resolves to; `name` is what TLS checks.
    Tcp { name: String, addr: Option<IpAddr>, port: u16 },
}

/// A server to connect to and how: TLS for TCP unless `sslmode=disable`, never over a socket.
struct Target {
    config: Config,
    tls: Option<MakeRustlsConnect>,
}

impl Target {
    fn connect(&self) -> Result<Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        }
    }
}

/// A database's connection settings, to connect and to connect again.
pub struct Connector {
    /// Never empty: there is always at least the default socket.
    targets: Vec<Target>,
    random_order: bool,
}

impl Connector {
    /// The servers and settings `info` names. `Err` says, in one line, what roomcast cannot do
    /// with it.
    pub fn new(info: &ConnInfo) -> Result<Connector, String> {
        let set = |keyword: &str| info.get(keyword).filter(|v| !v.is_empty());
        refuse_unsupported(&set)?;
        let mut base = Config::new();
        if let Some(user) = set("user") {
            base.user(user);
        }
        if let Some(password) = set("password") {
            base.password(password);
        }
        if let Some(dbname) = set("dbname") {
            base.dbname(dbname);
        }
        if let Some(options) = set("options") {
            base.options(options);
        }
        base.application_name(set("application_name").or(set("fallback_application_name")).unwrap_or("roomcast"));
        match set("connect_timeout").map(|v| integer("connect_timeout", v)).transpose()? {
            None => {
                base.connect_timeout(CONNECT_TIMEOUT);
            }
            Some(s) if s > 0 => {
                base.connect_timeout(Duration::from_secs((s as u64).max(SHORTEST_CONNECT_TIMEOUT_S)));
            }
            Some(_) => {}
        }
        if let Some(v) = set("keepalives") {
            base.keepalives(integer("keepalives", v)? != 0);
        }
        if let Some(s) = positive(&set, "keepalives_idle")? {
            base.keepalives_idle(Duration::from_secs(s));
        }
        if let Some(s) = positive(&set, "keepalives_interval")? {
            base.keepalives_interval(Duration::from_secs(s));
        }
        if let Some(n) = positive(&set, "keepalives_count")? {
            base.keepalives_retries(u32::try_from(n).unwrap_or(u32::MAX));
        }
        if let Some(ms) = positive(&set, "tcp_user_timeout")? {
            base.tcp_user_timeout(Duration::from_millis(ms));
        }
        if let Some(v) = set("channel_binding") {
            base.channel_binding(match v {
                "disable" => ChannelBinding::Disable,
                "prefer" => ChannelBinding::Prefer,
                "require" => ChannelBinding::Require,
                _ => return Err(invalid("channel_binding", v)),
            });
        }
        if let Some(v) = set("target_session_attrs") {
            base.target_session_attrs(match v {
                "any" => TargetSessionAttrs::Any,
                "read-write" => TargetSessionAttrs::ReadWrite,
                "read-only" => TargetSessionAttrs::ReadOnly,
                "primary" | "standby" | "prefer-standby" => {
                    return Err(format!(
                        "target_session_attrs={v} is not supported (roomcast knows any, read-write and read-only)"
                    ));
                }
                _ => return Err(invalid("target_session_attrs", v)),
            });
        }
        let random_order = match set("load_balance_hosts") {
            None | Some("disable") => false,
            Some("random") => true,
            Some(v) => return Err(invalid("load_balance_hosts", v)),
        };
        if random_order {
            base.load_balance_hosts(LoadBalanceHosts::Random);
        }
        let (mode, tls) = tls_settings(&set)?;
        let endpoints = endpoints(set("host"), set("hostaddr"), set("port"), &default_socket_dir())?;
        let encrypts = mode != SslMode::Disable && endpoints.iter().any(|e| matches!(e, Endpoint::Tcp { .. }));
        let tls = if encrypts { Some(MakeRustlsConnect::new(tls.client_config()?)) } else { None };
        let targets = endpoints
            .into_iter()
            .map(|endpoint| {
                let mut config = base.clone();
                match endpoint {
                    Endpoint::Socket { dir, port } => {
                        config.host_path(dir).port(port).ssl_mode(SslMode::Disable);
                        Target { config, tls: None }
                    }
                    Endpoint::Tcp { name, addr, port } => {
                        config.host(&name).port(port).ssl_mode(mode);
                        if let Some(addr) = addr {
                            config.hostaddr(addr);
                        }
                        Target { config, tls: tls.clone() }
                    }
                }
            })
            .collect();
        Ok(Connector { targets, random_order })
    }

    /// Tries each server in turn; the first to answer is the connection. When none does: the last
    /// one's error.
    pub fn connect(&self) -> Result<Client, postgres::Error> {
        let mut order = self.order();
        let last = order.pop().unwrap_or(0);
        for i in order {
            if let Ok(client) = self.targets[i].connect() {
                return Ok(client);
            }
        }
        self.targets[last].connect()
    }

    fn order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.targets.len()).collect();
        if self.random_order {
            // Any randomness will do (a new `RandomState` hashes differently each time): the order
            // only spreads connections over the servers.
            let random = std::collections::hash_map::RandomState::new();
            for i in (1..order.len()).rev() {
                let j = (random.hash_one(i) % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
        }
        order
    }
}

fn refuse_unsupported<'a>(set: &impl Fn(&str) -> Option<&'a str>) -> Result<(), String> {
    if let Some((keyword, why)) = UNSUPPORTED.iter().find(|(k, _)| set(k).is_some()) {
        return Err(format!("{keyword} is not supported ({why})"));
    }
    let lacking = |keyword: &str, value: &str, why: &str| Err(format!("{keyword}={value} is not supported ({why})"));
    match set("gssencmode") {
        None | Some("disable" | "allow" | "prefer") => {}
        Some("require") => return lacking("gssencmode", "require", "roomcast has no GSSAPI encryption"),
        Some(v) => return Err(invalid("gssencmode", v)),
    }
    match set("sslcertmode") {
        None | Some("disable" | "allow") => {}
        Some("require") => return lacking("sslcertmode", "require", "roomcast presents no client certificate"),
        Some(v) => return Err(invalid("sslcertmode", v)),
    }
    match set("sslnegotiation") {
        None | Some("postgres") => {}
        Some("direct") => return lacking("sslnegotiation", "direct", "roomcast asks for TLS the classic way"),
        Some(v) => return Err(invalid("sslnegotiation", v)),
    }
    if let Some(v) = set("replication") {
        match v.to_ascii_lowercase().as_str() {
            "0" | "off" | "false" | "no" => {}
            "1" | "on" | "true" | "yes" | "database" => {
                return Err("replication connections are not supported (the library needs a normal one)".into());
            }
            _ => return Err(invalid("replication", v)),
        }
    }
    match set("client_encoding").map(|v| v.to_ascii_lowercase().replace(['-', '_'], "")).as_deref() {
        None | Some("utf8" | "unicode" | "auto") => Ok(()),
        Some(_) => Err(format!(
            "client_encoding '{}' is not supported (roomcast speaks UTF8)",
            set("client_encoding").unwrap_or_default()
        )),
    }
}

/// libpq's message for a value a keyword does not take.
fn invalid(keyword: &str, value: &str) -> String {
    format!("invalid {keyword} value: \"{value}\"")
}

/// An integer setting, read as libpq reads one (blanks around it allowed).
fn integer(keyword: &str, value: &str) -> Result<i64, String> {
    value
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .parse()
        .map_err(|_| format!("invalid integer value \"{value}\" for connection option \"{keyword}\""))
}

/// An integer setting where 0 or less means "the system's default", as in libpq.
fn positive<'a>(set: &impl Fn(&str) -> Option<&'a str>, keyword: &str) -> Result<Option<u64>, String> {
    Ok(set(keyword).map(|v| integer(keyword, v)).transpose()?.filter(|n| *n > 0).map(|n| n as u64))
}

/// The servers `host`, `hostaddr` and `port` name, by libpq's rules (see the module's comment).
fn endpoints(
    host: Option<&str>,
    hostaddr: Option<&str>,
    port: Option<&str>,
    default_dir: &Path,
) -> Result<Vec<Endpoint>, String> {
    let hosts: Vec<&str> = host.map(|h| h.split(',').collect()).unwrap_or_default();
    let addrs: Vec<&str> = hostaddr.map(|h| h.split(',').collect()).unwrap_or_default();
    if !hosts.is_empty() && !addrs.is_empty() && hosts.len() != addrs.len() {
        return Err(format!("could not match {} host names to {} hostaddr values", hosts.len(), addrs.len()));
    }
    let count = hosts.len().max(addrs.len()).max(1);
    let ports = match port {
        Some(list) => list.split(',').map(port_number).collect::<Result<Vec<u16>, String>>()?,
        None => vec![DEFAULT_PORT],
    };
    if ports.len() != 1 && ports.len() != count {
        return Err(format!("could not match {} port numbers to {} hosts", ports.len(), count));
    }
    (0..count)
        .map(|i| {
            let host = hosts.get(i).copied().unwrap_or_default();
            let addr = addrs.get(i).copied().unwrap_or_default();
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(DEFAULT_PORT);
            if !addr.is_empty() {
                let ip: IpAddr = addr.parse().map_err(|_| format!("could not parse network address \"{addr}\""))?;
                let name = if host.is_empty() || host.starts_with(['/', '@']) { ip.to_string() } else { host.into() };
                return Ok(Endpoint::Tcp { name, addr: Some(ip), port });
            }
            if host.starts_with('@') {
                return Err(format!("host {host}: sockets in the abstract namespace are not supported"));
            }
            Ok(match host {
                "" => Endpoint::Socket { dir: default_dir.to_path_buf(), port },
                dir if dir.starts_with('/') => Endpoint::Socket { dir: dir.into(), port },
                name => Endpoint::Tcp { name: name.into(), addr: None, port },
            })
        })
        .collect()
}

/// A port as libpq takes it: empty is the default, else 1 to 65535.
fn port_number(text: &str) -> Result<u16, String> {
    if text.is_empty() {
        return Ok(DEFAULT_PORT);
    }
    match text.trim_matches(|c: char| c.is_ascii_whitespace()).parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("invalid port number: \"{text}\"")),
    }
}

/// The socket folder a connection string without a host means.
fn default_socket_dir() -> PathBuf {
    let found = DEFAULT_SOCKET_DIRS.iter().map(Path::new).find(|d| d.is_dir());
    found.unwrap_or(Path::new("/tmp")).to_path_buf()
}

/// What TLS the connection string asks for, before any file is read.
struct TlsSettings {
    verify: Verify,
    /// The `sslrootcert` file; `None`: the system's roots.
    root: Option<String>,
    versions: Vec<&'static SupportedProtocolVersion>,
    sni: bool,
}

fn tls_settings<'a>(set: &impl Fn(&str) -> Option<&'a str>) -> Result<(SslMode, TlsSettings), String> {
    let root = set("sslrootcert");
    let system = root == Some("system");
    let mode = set("sslmode").unwrap_or(if system { "verify-full" } else { "prefer" });
    if system && mode != "verify-full" {
        return Err(format!("weak sslmode \"{mode}\" may not be used with sslrootcert=system (use \"verify-full\")"));
    }
    let root = root.filter(|_| !system).map(str::to_string);
    let (ssl, verify) = match mode {
        "disable" => (SslMode::Disable, Verify::None),
        "allow" | "prefer" => (SslMode::Prefer, Verify::None),
        // libpq's `require` checks the chain when it is given a root to check it against.
        "require" if root.is_some() => (SslMode::Require, Verify::Chain),
        "require" => (SslMode::Require, Verify::None),
        "verify-ca" => (SslMode::Require, Verify::Chain),
        "verify-full" => (SslMode::Require, Verify::Full),
        other => {
            return Err(format!(
                "sslmode '{other}' is not one of disable, allow, prefer, require, verify-ca, verify-full"
            ));
        }
    };
    let sni = match set("sslsni") {
        None | Some("1") => true,
        Some("0") => false,
        Some(v) => return Err(invalid("sslsni", v)),
    };
    let versions = tls_versions(set("ssl_min_protocol_version"), set("ssl_max_protocol_version"))?;
    Ok((ssl, TlsSettings { verify, root, versions, sni }))
}

/// The TLS versions between libpq's `ssl_min_protocol_version` (default TLSv1.2) and
/// `ssl_max_protocol_version` that rustls speaks.
fn tls_versions(min: Option<&str>, max: Option<&str>) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    let minor = |keyword: &str, v: &str| match v.to_ascii_lowercase().as_str() {
        "tlsv1" => Ok(0),
        "tlsv1.1" => Ok(1),
        "tlsv1.2" => Ok(2),
        "tlsv1.3" => Ok(3),
        _ => Err(invalid(keyword, v)),
    };
    let low = min.map(|v| minor("ssl_min_protocol_version", v)).transpose()?.unwrap_or(2);
    let high = max.map(|v| minor("ssl_max_protocol_version", v)).transpose()?.unwrap_or(3);
    if low > high {
        return Err(
            "invalid SSL protocol version range (ssl_min_protocol_version above ssl_max_protocol_version)".into()
        );
    }
    let mut versions: Vec<&'static SupportedProtocolVersion> = Vec::new();
    if low <= 2 && high >= 2 {
        versions.push(&rustls::version::TLS12);
    }
    if high >= 3 {
        versions.push(&rustls::version::TLS13);
    }
    if versions.is_empty() {
        return Err("ssl_max_protocol_version below TLSv1.2 is not supported (rustls speaks TLS 1.2 and 1.3)".into());
    }
    Ok(versions)
}

impl TlsSettings {
    fn client_config(&self) -> Result<rustls::ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.versions)
            .map_err(|e| format!("TLS: {e}"))?;
        let mut config = if self.verify == Verify::None {
            let verifier = Arc::new(EncryptOnly(provider));
            builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()
        } else {
            let roots = self.roots()?;
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("TLS: {e}"))?;
            let verifier: Arc<dyn ServerCertVerifier> =
                if self.verify == Verify::Full { webpki } else { Arc::new(ChainOnly(webpki)) };
            builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth()
        };
        config.enable_sni = self.sni;
        Ok(config)
    }

    fn roots(&self) -> Result<rustls::RootCertStore, String> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.root {
            Some(file) => {
                let pem = std::fs::read(file).map_err(|e| format!("sslrootcert {file}: {e}"))?;
                for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                    let cert = cert.map_err(|e| format!("sslrootcert {file}: {e}"))?;
                    roots.add(cert).map_err(|e| format!("sslrootcert {file}: {e}"))?;
                }
                if roots.is_empty() {
                    return Err(format!("sslrootcert {file}: no PEM certificate in it"));
                }
            }
            None => {
                for cert in rustls_native_certs::load_native_certs().map_err(|e| format!("system certificates: {e}"))? {
                    let _ = roots.add(cert);
                }
            }
        }
        Ok(roots)
    }
}

/// libpq's `require`: the connection is encrypted, whoever the server is. The handshake's
/// signatures are still checked, so the session keys are the server's.
#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// libpq's `verify-ca`: a trusted chain, whatever host name the certificate gives.
#[derive(Debug)]
struct ChainOnly(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(dir: &str, port: u16) -> Endpoint {
        Endpoint::Socket { dir: dir.into(), port }
    }

    fn tcp(name: &str, addr: Option<&str>, port: u16) -> Endpoint {
        Endpoint::Tcp { name: name.into(), addr: addr.map(|a| a.parse().unwrap()), port }
    }

    #[test]
    fn hosts_addresses_and_ports_name_the_servers_libpq_would_try_in_order() {
        type Row<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Vec<Endpoint>);
        let table: Vec<Row> = vec![
            (None, None, None, vec![socket("/default", 5432)]),
            (Some("/run/pg"), None, Some("5433"), vec![socket("/run/pg", 5433)]),
            (Some("db.internal"), None, None, vec![tcp("db.internal", None, 5432)]),
            (Some("::1"), None, Some("6000"), vec![tcp("::1", None, 6000)]),
            (Some("h1,h2,/s"), None, Some("1,,3"), vec![tcp("h1", None, 1), tcp("h2", None, 5432), socket("/s", 3)]),
            (Some("h1,h2"), None, Some("7"), vec![tcp("h1", None, 7), tcp("h2", None, 7)]),
            (Some("h1,,h2"), None, None, vec![tcp("h1", None, 5432), socket("/default", 5432), tcp("h2", None, 5432)]),
            (Some("db.internal"), Some("10.0.0.5"), None, vec![tcp("db.internal", Some("10.0.0.5"), 5432)]),
            (
                None,
                Some("127.0.0.1,::1"),
                Some("1,2"),
                vec![tcp("127.0.0.1", Some("127.0.0.1"), 1), tcp("::1", Some("::1"), 2)],
            ),
            (
                Some("/s,h"),
                Some("127.0.0.1,"),
                None,
                vec![tcp("127.0.0.1", Some("127.0.0.1"), 5432), tcp("h", None, 5432)],
            ),
        ];
        for (host, hostaddr, port, expected) in table {
            let found = endpoints(host, hostaddr, port, Path::new("/default"));
            assert_eq!(found, Ok(expected), "host={host:?} hostaddr={hostaddr:?} port={port:?}");
        }
    }

    #[test]
    fn lists_that_do_not_match_and_bad_ports_or_addresses_are_refused_as_libpq_does() {
        let table = [
            (Some("a,b,c"), None, Some("1,2"), "could not match 2 port numbers to 3 hosts"),
            (Some("a,b"), Some("127.0.0.1"), None, "could not match 2 host names to 1 hostaddr values"),
            (None, None, Some("54x"), "invalid port number: \"54x\""),
            (None, None, Some("0"), "invalid port number: \"0\""),
            (None, None, Some("65536"), "invalid port number: \"65536\""),
            (None, Some("db.internal"), None, "could not parse network address \"db.internal\""),
            (Some("@pg"), None, None, "host @pg: sockets in the abstract namespace are not supported"),
        ];
        for (host, hostaddr, port, expected) in table {
            assert_eq!(endpoints(host, hostaddr, port, Path::new("/d")), Err(expected.to_string()));
        }
    }

    fn connector(text: &str) -> Result<Connector, String> {
        Connector::new(&ConnInfo::parse(text).map_err(|e| e.to_string())?)
    }

    #[test]
    fn what_roomcast_cannot_do_is_refused_in_one_line_rather_than_ignored() {
        let table = [
            ("host=/s sslcert=/c.pem", "sslcert is not supported (roomcast presents no client certificate)"),
            ("host=/s service=prod", "service is not supported"),
            ("host=/s passfile=/p", "passfile is not supported"),
            ("host=/s sslcrl=/crl.pem", "sslcrl is not supported"),
            ("host=/s gssencmode=require", "gssencmode=require is not supported"),
            ("host=/s sslcertmode=require", "sslcertmode=require is not supported"),
            ("host=/s sslnegotiation=direct", "sslnegotiation=direct is not supported"),
            ("host=/s replication=database", "replication connections are not supported"),
            ("host=/s target_session_attrs=primary", "target_session_attrs=primary is not supported"),
            ("host=/s target_session_attrs=x", "invalid target_session_attrs value: \"x\""),
            ("host=/s client_encoding=LATIN1", "client_encoding 'LATIN1' is not supported (roomcast speaks UTF8)"),
            ("host=/s sslmode=sometimes", "sslmode 'sometimes' is not one of"),
            ("host=h sslrootcert=system sslmode=require", "weak sslmode \"require\" may not be used with sslrootcert"),
            (
                "host=h ssl_min_protocol_version=TLSv1 ssl_max_protocol_version=TLSv1.1",
                "ssl_max_protocol_version below",
            ),
            ("host=h ssl_max_protocol_version=TLSv1.1", "invalid SSL protocol version range"),
            ("host=h ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.2", "invalid SSL protocol"),
            ("host=h ssl_min_protocol_version=SSLv3", "invalid ssl_min_protocol_version value: \"SSLv3\""),
            ("host=h connect_timeout=ten", "invalid integer value \"ten\" for connection option \"connect_timeout\""),
            ("host=h load_balance_hosts=sometimes", "invalid load_balance_hosts value"),
            ("host=h sslsni=2", "invalid sslsni value"),
        ];
        for (text, expected) in table {
            match connector(text) {
                Ok(_) => panic!("{text}: accepted"),
                Err(e) => assert!(e.starts_with(expected) && !e.contains('\n'), "{text}: {e}"),
            }
        }
    }

    #[test]
    fn settings_reach_each_server_s_configuration() {
        let c = connector(
            "host=/s,db.internal port=5433 user=ana password=pw dbname=lib options='-c x=1' \
             connect_timeout=1 keepalives_idle=30 tcp_user_timeout=1500 target_session_attrs=read-write \
             sslcompression=1 krbsrvname=postgres gssencmode=prefer client_encoding=utf-8 replication=off",
        )
        .unwrap();
        assert_eq!(c.targets.len(), 2);
        let (unix, net) = (&c.targets[0], &c.targets[1]);
        assert!(unix.tls.is_none() && unix.config.get_ssl_mode() == SslMode::Disable, "a socket is plain");
        assert!(net.tls.is_some() && net.config.get_ssl_mode() == SslMode::Prefer);
        for t in &c.targets {
            assert_eq!(t.config.get_user(), Some("ana"));
            assert_eq!(t.config.get_password(), Some(&b"pw"[..]));
            assert_eq!(t.config.get_dbname(), Some("lib"));
            assert_eq!(t.config.get_options(), Some("-c x=1"));
            assert_eq!(t.config.get_application_name(), Some("roomcast"));
            assert_eq!(t.config.get_ports(), [5433]);
            assert_eq!(t.config.get_connect_timeout(), Some(&Duration::from_secs(2)), "libpq's shortest");
            assert_eq!(t.config.get_keepalives_idle(), Duration::from_secs(30));
            assert_eq!(t.config.get_tcp_user_timeout(), Some(&Duration::from_millis(1500)));
            assert_eq!(t.config.get_target_session_attrs(), TargetSessionAttrs::ReadWrite);
        }
        let c = connector("host=db.internal sslmode=disable connect_timeout=0 fallback_application_name=x").unwrap();
        let t = &c.targets[0];
        assert!(t.tls.is_none() && t.config.get_ssl_mode() == SslMode::Disable);
        assert_eq!(t.config.get_connect_timeout(), None, "0 waits for ever");
        assert_eq!(t.config.get_application_name(), Some("x"));
        let c = connector("postgresql://h1,h2,h3/db?load_balance_hosts=random").unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let order = c.order();
            assert_eq!(order.iter().copied().collect::<std::collections::BTreeSet<_>>().len(), 3);
            seen.insert(order[0]);
        }
        assert_eq!(seen.len(), 3, "each host comes first sometimes");
    }
}
