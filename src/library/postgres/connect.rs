//! Reaching the database: the URL read as libpq reads it (including `sslmode` and `sslrootcert`,
//! which the `postgres` crate's own parser does not fully know), TLS where the URL asks for it, and
//! connecting again after a lost connection.
//!
//! `sslmode`, as in libpq:
//! - `disable`: plain. `allow` and `prefer` (the default): TLS when the server offers it, unverified.
//!   A unix socket is always plain (the kernel carries it).
//! - `require`: TLS or nothing; the server's certificate is not checked, unless `sslrootcert` names
//!   a file, which then checks it as `verify-ca` does.
//! - `verify-ca`: TLS with a certificate signed by `sslrootcert` (else the system's roots).
//! - `verify-full`: as `verify-ca`, and the certificate must name the host.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::SslMode;
use postgres::{Client, Config};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How long connecting may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a lost connection is sought again: waits before each try (about 15 s in all).
pub const RECONNECT_WAITS_MS: &[u64] = &[100, 400, 1000, 2000, 4000, 8000];

/// What the URL asks of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    /// Encrypt only (libpq's `prefer` and `require`).
    None,
    /// Signed by a trusted root (`verify-ca`).
    Chain,
    /// Signed by a trusted root and naming the host (`verify-full`).
    Full,
}

/// A database's connection settings, to connect and to connect again.
pub struct Connector {
    config: Config,
    /// `None` over unix sockets: the client would still ask rustls to name the server.
    tls: Option<MakeRustlsConnect>,
}

impl Connector {
    /// Reads a `postgres://` URL. `Err` says what is wrong with it.
    pub fn from_url(url: &str) -> Result<Connector, String> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = form_urlencoded::Serializer::new(String::new());
        let (mut mode, mut root) = (String::from("prefer"), None);
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "sslmode" => mode = v.into_owned(),
                "sslrootcert" => root = Some(v.into_owned()),
                _ => {
                    kept.append_pair(&k, &v);
                }
            }
        }
        let kept = kept.finish();
        let plain_url = if kept.is_empty() { base.to_string() } else { format!("{base}?{kept}") };
        let mut config = Config::from_str(&plain_url).map_err(|e| super::one_line(&e.to_string()))?;
        let (ssl, verify) = match mode.as_str() {
            "disable" => (SslMode::Disable, Verify::None),
            "allow" | "prefer" => (SslMode::Prefer, Verify::None),
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
        // libpq never encrypts a unix socket; rustls could not name the server behind one anyway.
        let tcp = config.get_hosts().iter().any(|h| matches!(h, postgres::config::Host::Tcp(_)));
        config.ssl_mode(if tcp { ssl } else { SslMode::Disable });
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("roomcast");
        }
        let tls = if tcp { Some(MakeRustlsConnect::new(tls_config(verify, root.as_deref())?)) } else { None };
        Ok(Connector { config, tls })
    }

    pub fn connect(&self) -> Result<Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        }
    }
}

fn tls_config(verify: Verify, root: Option<&str>) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    if verify == Verify::None {
        let verifier = Arc::new(EncryptOnly(provider));
        return Ok(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    match root {
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
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| format!("TLS: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> =
        if verify == Verify::Full { webpki } else { Arc::new(ChainOnly(webpki)) };
    Ok(builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth())
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
