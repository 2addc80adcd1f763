//! Speaking a file into a room in real time: plain RTP (one or many streams), or into Janus as a
//! remote publisher.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::live::janus::{Credentials, JanusUrl, REMOTE_PUBLISHER_SSRC, RemotePublisher};
use crate::live::parse_rtp_url;
use crate::live::speak::{self, SpeakReport, Voice};

#[derive(Debug, Clone)]
pub struct SpeakRequest {
    pub file: PathBuf,
    /// rtp://HOST:PORT or janus://HOST:PORT/ROOM.
    pub to: String,
    pub name: String,
    /// Copies sent at once, each its own SSRC and name (rtp:// only).
    pub streams: usize,
    /// Only the first seconds of the file.
    pub limit: Option<f64>,
    /// SSRC of the first stream (default: random).
    pub ssrc: Option<u32>,
    /// Stream k goes to PORT + 2k instead of all to PORT.
    pub spread_ports: bool,
    pub credentials: Credentials,
}

/// Speaks the file until it ends or Ctrl-C; `on_start` hears where it is going, in a line.
pub fn speak(request: &SpeakRequest, on_start: &mut dyn FnMut(&str)) -> Result<SpeakReport> {
    if request.streams == 0 {
        bail!("--streams must be at least 1");
    }
    let talk = speak::load(&request.file, request.limit)?;
    let rt = super::runtime::runtime()?;
    let first_ssrc = request.ssrc.unwrap_or_else(crate::rtp::rand_ssrc);
    let voices = |rtcp: bool| -> Vec<Voice> {
        (0..request.streams)
            .map(|k| Voice {
                ssrc: first_ssrc.wrapping_add(k as u32),
                name: if request.streams == 1 { request.name.clone() } else { format!("{} {}", request.name, k + 1) },
                rtcp,
            })
            .collect()
    };
    if request.to.starts_with("janus://") {
        if request.streams != 1 {
            bail!("--streams works with rtp:// only; run one speak per Janus publisher");
        }
        let url = JanusUrl::parse(&request.to).map_err(anyhow::Error::msg)?;
        let publisher = RemotePublisher::add(&url, &request.name, &request.credentials)?;
        on_start(&format!(
            "Speaking into {url} as '{}' (remote publisher {}, RTP to {})",
            request.name, publisher.id, publisher.rtp
        ));
        let voice = [Voice { ssrc: REMOTE_PUBLISHER_SSRC, name: request.name.clone(), rtcp: false }];
        let result = rt.block_on(async {
            let stop = super::runtime::stop_on_signals();
            let keepalive = async {
                loop {
                    tokio::time::sleep(Duration::from_secs(20)).await;
                    let _ = publisher.client.keepalive();
                }
            };
            tokio::select! {
                r = speak::speak(&talk, publisher.rtp, &voice, stop) => r,
                _ = keepalive => unreachable!("keepalive loops forever"),
            }
        });
        publisher.remove();
        return Ok(result?);
    }
    let to = parse_rtp_url(&request.to).map_err(anyhow::Error::msg)?;
    on_start(&format!("Speaking into rtp://{to} as '{}' ({} stream(s))", request.name, request.streams));
    Ok(rt.block_on(async {
        let stop = super::runtime::stop_on_signals();
        if request.spread_ports {
            speak::speak_spread(&talk, to, &voices(true), stop).await
        } else {
            speak::speak(&talk, to, &voices(true), stop).await
        }
    })?)
}
