//! `roomcast speak`: plays a recording into a room as a live speaker, in real time, as RTP with the
//! audio-level extension. For demos, tests and load generation (`streams` copies, one SSRC each).
//!
//! Ogg Opus files are sent packet for packet; anything else is encoded to 20 ms Opus frames first.
//! Silence frames are not sent (discontinuous transmission): the timestamp jumps over them, as a
//! WebRTC sender's does.

use std::io::Cursor;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opus::{Channels, Decoder};
use serde::Serialize;
use tokio::net::UdpSocket;
use tokio::sync::watch;

use crate::audio::{AudioError, EncodeError, FileDecoder, To48k, VoiceEncoder, downmix, is_ogg_opus};
use crate::rtp::packet::AudioLevel;
use crate::rtp::sender::{RtpStream, level_of};
use crate::track::{OpusTags, SAMPLE_RATE, TrackReader, is_silence_frame};

#[derive(Debug, thiserror::Error)]
pub enum SpeakError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{path}: {reason}")]
    Bad { path: String, reason: String },
    #[error("sending to {to}: {source}")]
    Send { to: SocketAddr, source: std::io::Error },
}

/// One packet to send: where it starts in the talk (48 kHz samples), its bytes and its loudness.
#[derive(Debug, Clone)]
pub struct TalkPacket {
    pub pos: u64,
    pub payload: Vec<u8>,
    pub level: u8,
}

/// A recording ready to be spoken.
#[derive(Debug, Clone, Default)]
pub struct Talk {
    pub packets: Vec<TalkPacket>,
    /// Length in 48 kHz samples, trailing silence included.
    pub duration: u64,
}

/// Loads FILE as 20 ms Opus packets with levels; `limit` cuts it (seconds).
pub fn load(path: &Path, limit: Option<f64>) -> Result<Talk, SpeakError> {
    let bad = |reason: String| SpeakError::Bad { path: path.display().to_string(), reason };
    let track_bytes =
        if is_ogg_opus(path)? { std::fs::read(path).map_err(|e| bad(e.to_string()))? } else { encode(path)? };
    let mut reader = TrackReader::new(Cursor::new(track_bytes)).map_err(|e| bad(e.to_string()))?;
    let pre_skip = reader.head.pre_skip as u64;
    let limit = limit.map(|s| (s * SAMPLE_RATE as f64) as u64).unwrap_or(u64::MAX);
    let mut decoder = Decoder::new(SAMPLE_RATE, Channels::Mono).map_err(|e| bad(e.to_string()))?;
    let mut pcm = vec![0f32; 5760];
    let mut talk = Talk::default();
    while let Some(p) = reader.next_packet().map_err(|e| bad(e.to_string()))? {
        let pos = p.start.saturating_sub(pre_skip);
        if pos >= limit {
            break;
        }
        talk.duration = pos + p.samples as u64;
        if is_silence_frame(&p.data) {
            // Keep the decoder's state in step with what a receiver would hear.
            let _ = decoder.decode_float(&p.data, &mut pcm, false);
            continue;
        }
        let n = decoder.decode_float(&p.data, &mut pcm, false).unwrap_or(0);
        talk.packets.push(TalkPacket { pos, payload: p.data, level: level_of(&pcm[..n]) });
    }
    talk.duration = talk.duration.min(limit);
    Ok(talk)
}

/// Decodes any supported audio file and encodes it into an in-memory Ogg Opus track.
fn encode(path: &Path) -> Result<Vec<u8>, SpeakError> {
    let decoder = FileDecoder::open(path)?;
    let mut resampler = To48k::new(decoder.info.sample_rate);
    let mut encoder = VoiceEncoder::new(Cursor::new(Vec::new()), 32_000, 0, OpusTags::new("roomcast speak"), 1)
        .map_err(|e| SpeakError::Bad { path: path.display().to_string(), reason: e.to_string() })?;
    let mut mono = Vec::new();
    let mut out = Vec::new();
    let encode_err =
        |e: EncodeError| AudioError::Read { path: path.to_path_buf(), source: std::io::Error::other(e.to_string()) };
    decoder.run(|planes| {
        downmix(planes, &mut mono);
        out.clear();
        resampler.push(&mono, &mut out);
        encoder.push(&out).map_err(encode_err)
    })?;
    out.clear();
    resampler.finish(&mut out);
    encoder.push(&out).map_err(encode_err)?;
    let writer = encoder.finish().map_err(encode_err)?;
    let bytes = writer.finish(None).map_err(|e| encode_err(e.into()))?.into_inner();
    Ok(bytes)
}

#[derive(Debug, Clone, Serialize)]
pub struct SpeakReport {
    pub to: SocketAddr,
    pub streams: usize,
    pub packets_sent: u64,
    pub seconds: f64,
    /// How late the sender fell behind its schedule at worst (a loaded machine), in milliseconds.
    pub worst_lateness_ms: f64,
    /// When the talk's first sample was scheduled to go out (Unix seconds): every packet is sent
    /// at this plus its position, up to the lateness above. Tests compare speakers by this rather
    /// than by when their processes were started (start-up varies by 100 ms on a busy machine).
    pub started_at_unix: f64,
}

/// How streams are identified on the wire.
#[derive(Debug, Clone)]
pub struct Voice {
    pub ssrc: u32,
    pub name: String,
    /// Send RTCP (SR, SDES, BYE) to the same port, multiplexed.
    pub rtcp: bool,
}

/// Like `speak`, but voice k goes to the port `to.port() + 2k` (one receiver per stream).
pub async fn speak_spread(
    talk: &Talk,
    to: SocketAddr,
    voices: &[Voice],
    stop: watch::Receiver<bool>,
) -> Result<SpeakReport, SpeakError> {
    let targets: Vec<SocketAddr> =
        (0..voices.len()).map(|k| SocketAddr::new(to.ip(), to.port().wrapping_add(2 * k as u16))).collect();
    speak_to(talk, &targets, voices, stop).await
}

/// Sends `talk` to `to` in real time, once per voice, staggered evenly across a 20 ms frame so N
/// streams do not arrive as one burst. Stops early when `stop` turns true.
pub async fn speak(
    talk: &Talk,
    to: SocketAddr,
    voices: &[Voice],
    stop: watch::Receiver<bool>,
) -> Result<SpeakReport, SpeakError> {
    speak_to(talk, &vec![to; voices.len()], voices, stop).await
}

async fn speak_to(
    talk: &Talk,
    targets: &[SocketAddr],
    voices: &[Voice],
    mut stop: watch::Receiver<bool>,
) -> Result<SpeakReport, SpeakError> {
    let Some(&to) = targets.first() else {
        return Err(SpeakError::Bad { path: "speak".into(), reason: "no streams to send".into() });
    };
    let bind: SocketAddr = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().expect("valid address");
    let socket = UdpSocket::bind(bind).await.map_err(|source| SpeakError::Send { to, source })?;
    let mut streams: Vec<RtpStream> = voices
        .iter()
        .map(|v| {
            let seed = v.ssrc.wrapping_mul(2_654_435_761);
            RtpStream::new(v.ssrc, seed as u16, seed.rotate_left(7), &format!("{}@roomcast", v.name), &v.name)
        })
        .collect();
    let n = streams.len().max(1) as u32;
    let stagger = |k: usize| Duration::from_micros(20_000 * k as u64 / n as u64);
    let start = Instant::now() + Duration::from_millis(20);
    let unix_start = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0) + 0.020;
    let mut sent = 0u64;
    let mut worst = Duration::ZERO;
    let mut next_report = 0u64;
    let at = |pos: u64| Duration::from_nanos(pos * 1_000_000_000 / SAMPLE_RATE as u64);
    let send = |bytes: Vec<u8>, to: SocketAddr| {
        let socket = &socket;
        async move { socket.send_to(&bytes, to).await.map_err(|source| SpeakError::Send { to, source }) }
    };
    let mut previous_end = 0;
    for packet in &talk.packets {
        if *stop.borrow() {
            break;
        }
        let gap = packet.pos > previous_end;
        previous_end = packet.pos + crate::track::packet_samples(&packet.payload).unwrap_or(960) as u64;
        for (k, stream) in streams.iter_mut().enumerate() {
            let due = start + at(packet.pos) + stagger(k);
            let now = Instant::now();
            if due > now + Duration::from_millis(1) {
                tokio::select! {
                    _ = tokio::time::sleep_until(due.into()) => {}
                    _ = stop.changed() => break,
                }
            } else {
                worst = worst.max(now.saturating_duration_since(due));
            }
            if voices[k].rtcp && (packet.pos >= next_report || sent < n as u64) {
                send(stream.report(packet.pos, unix_start + at(packet.pos).as_secs_f64()), targets[k]).await?;
            }
            if gap {
                stream.skip();
            }
            let level = AudioLevel { voice: packet.level < 60, level: packet.level };
            send(stream.packet(packet.pos, &packet.payload, level), targets[k]).await?;
            sent += 1;
        }
        if packet.pos >= next_report {
            next_report = packet.pos + 5 * SAMPLE_RATE as u64;
        }
    }
    // Hold the line until the talk's own end (trailing silence), unless stopped.
    let end = start + at(talk.duration);
    if !*stop.borrow() && end > Instant::now() {
        tokio::select! {
            _ = tokio::time::sleep_until(end.into()) => {}
            _ = stop.changed() => {}
        }
    }
    for (k, stream) in streams.iter().enumerate() {
        if voices[k].rtcp {
            send(stream.bye(), targets[k]).await?;
        }
    }
    Ok(SpeakReport {
        to,
        streams: streams.len(),
        packets_sent: sent,
        seconds: start.elapsed().as_secs_f64(),
        worst_lateness_ms: worst.as_secs_f64() * 1000.0,
        started_at_unix: unix_start,
    })
}
