//! Where the finished master goes: MP3 (LAME), Ogg Opus (libopus) and WAV files, each written under
//! a temporary name and renamed into place only when complete.

use std::fs::{self, File};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use mp3lame_encoder::{Bitrate, Builder, DualPcm, FlushGap, Mode, MonoPcm, Quality};
use serde::Serialize;

use super::MasterError;
use super::tags::MasterMeta;
use super::verify::{Measured, Mp3Verifier, StreamMeter};
use crate::audio::encode::{FrameEncoder, Framer};
use crate::session::{TempGuard, temp_path};
use crate::track::{FRAME_20MS, OpusHead, TrackWriter};

#[derive(Debug, Clone, Serialize)]
pub struct OutputFile {
    pub format: &'static str,
    pub path: PathBuf,
    pub bytes: u64,
}

/// Receives the master as mono blocks; writes it mono or as identical stereo channels.
pub trait Sink: Send {
    fn write(&mut self, mono: &[f32]) -> Result<(), MasterError>;
    /// Completes the file and returns it with what it measures decoded (`None` for files written
    /// without a meter, such as multitrack stems).
    fn finish(self: Box<Self>) -> Result<Finished, MasterError>;
}

pub type Finished = (OutputFile, Option<Measured>);

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> MasterError + '_ {
    move |source| MasterError::Write { path: path.to_path_buf(), source }
}

/// Syncs and renames the temporary file into place.
fn commit(file: File, tmp: &Path, path: &Path, format: &'static str) -> Result<OutputFile, MasterError> {
    file.sync_all().map_err(io_err(tmp))?;
    let bytes = file.metadata().map_err(io_err(tmp))?.len();
    drop(file);
    fs::rename(tmp, path).map_err(io_err(path))?;
    Ok(OutputFile { format, path: path.to_path_buf(), bytes })
}

pub struct Mp3Sink {
    encoder: mp3lame_encoder::Encoder,
    out: BufWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    stereo: bool,
    buf: Vec<u8>,
    /// Where LAME's first frame (the Xing/LAME tag placeholder) starts: right after our ID3 tag.
    audio_start: u64,
    verifier: Mp3Verifier,
    _guard: TempGuard,
}

fn lame_bitrate(kbps: u32) -> Result<Bitrate, MasterError> {
    Ok(match kbps {
        32 => Bitrate::Kbps32,
        40 => Bitrate::Kbps40,
        48 => Bitrate::Kbps48,
        64 => Bitrate::Kbps64,
        80 => Bitrate::Kbps80,
        96 => Bitrate::Kbps96,
        112 => Bitrate::Kbps112,
        128 => Bitrate::Kbps128,
        160 => Bitrate::Kbps160,
        192 => Bitrate::Kbps192,
        224 => Bitrate::Kbps224,
        256 => Bitrate::Kbps256,
        320 => Bitrate::Kbps320,
        other => {
            return Err(MasterError::Settings(format!(
                "--mp3-bitrate {other}: MP3 at 48 kHz takes 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256 or 320 kbps"
            )));
        }
    })
}

fn lame_err(e: &dyn std::fmt::Display) -> MasterError {
    MasterError::Encoder { format: "mp3", reason: e.to_string() }
}

/// A LAME encoder as the master uses it: 48 kHz, CBR, quality 5 ("good", LAME's speed/quality
/// balance), with the LAME tag that records encoder delay and padding so decoders trim them and the
/// MP3 decodes to exactly the room's length.
pub fn lame(stereo: bool, kbps: u32) -> Result<mp3lame_encoder::Encoder, MasterError> {
    lame_encoder(stereo, kbps, true)
}

/// A LAME encoder for a stream with no end (the live mix): no LAME tag, which would be a frame of
/// silence-with-metadata at the start of what listeners hear, and whose counts are unknown anyway.
pub fn lame_stream(stereo: bool, kbps: u32) -> Result<mp3lame_encoder::Encoder, MasterError> {
    lame_encoder(stereo, kbps, false)
}

fn lame_encoder(stereo: bool, kbps: u32, tag: bool) -> Result<mp3lame_encoder::Encoder, MasterError> {
    let mut b = Builder::new().ok_or_else(|| lame_err(&"LAME failed to initialise"))?;
    b.set_num_channels(if stereo { 2 } else { 1 }).map_err(|e| lame_err(&e))?;
    b.set_sample_rate(48_000).map_err(|e| lame_err(&e))?;
    b.set_brate(lame_bitrate(kbps)?).map_err(|e| lame_err(&e))?;
    b.set_mode(if stereo { Mode::JointStereo } else { Mode::Mono }).map_err(|e| lame_err(&e))?;
    b.set_quality(Quality::Good).map_err(|e| lame_err(&e))?;
    b.set_to_write_vbr_tag(tag).map_err(|e| lame_err(&e))?;
    b.build().map_err(|e| lame_err(&e))
}

/// Encodes mono PCM (as mono or identical stereo channels), appending MP3 bytes to `out`.
pub fn lame_encode(
    encoder: &mut mp3lame_encoder::Encoder,
    stereo: bool,
    mono: &[f32],
    out: &mut Vec<u8>,
) -> Result<(), MasterError> {
    // LAME writes past an undersized buffer: reserve its documented worst case first.
    out.reserve(mp3lame_encoder::max_required_buffer_size(mono.len()));
    let r = if stereo {
        encoder.encode_to_vec(DualPcm { left: mono, right: mono }, out)
    } else {
        encoder.encode_to_vec(MonoPcm(mono), out)
    };
    r.map(|_| ()).map_err(|e| lame_err(&e))
}

pub fn lame_flush(encoder: &mut mp3lame_encoder::Encoder, out: &mut Vec<u8>) -> Result<(), MasterError> {
    out.reserve(mp3lame_encoder::max_required_buffer_size(FRAME_20MS as usize * 4));
    encoder.flush_to_vec::<FlushGap>(out).map(|_| ()).map_err(|e| lame_err(&e))
}

impl Mp3Sink {
    pub fn create(path: &Path, stereo: bool, kbps: u32, meta: &MasterMeta) -> Result<Self, MasterError> {
        let encoder = lame(stereo, kbps)?;
        let tmp = temp_path(path);
        let mut out = BufWriter::new(File::create(&tmp).map_err(io_err(&tmp))?);
        let tmp_guard = tmp.clone();
        let id3 = meta.id3().map_err(|e| lame_err(&e))?;
        out.write_all(&id3).map_err(io_err(&tmp))?;
        let mut verifier = Mp3Verifier::spawn(path);
        verifier.feed(&id3);
        Ok(Mp3Sink {
            encoder,
            out,
            tmp,
            path: path.to_path_buf(),
            stereo,
            buf: Vec::new(),
            audio_start: id3.len() as u64,
            verifier,
            _guard: TempGuard(tmp_guard),
        })
    }
}

impl Sink for Mp3Sink {
    fn write(&mut self, mono: &[f32]) -> Result<(), MasterError> {
        self.buf.clear();
        lame_encode(&mut self.encoder, self.stereo, mono, &mut self.buf)?;
        self.verifier.feed(&self.buf);
        self.out.write_all(&self.buf).map_err(io_err(&self.tmp))
    }

    fn finish(mut self: Box<Self>) -> Result<Finished, MasterError> {
        self.buf.clear();
        lame_flush(&mut self.encoder, &mut self.buf)?;
        self.verifier.feed(&self.buf);
        self.out.write_all(&self.buf).map_err(io_err(&self.tmp))?;
        let mut tag = Vec::with_capacity(self.encoder.lame_tag_size().max(1));
        let this = *self;
        let mut file = this.out.into_inner().map_err(|e| io_err(&this.tmp)(e.into_error()))?;
        if this.encoder.lame_tag_encode_to_vec(&mut tag).is_some() {
            file.seek(SeekFrom::Start(this.audio_start)).map_err(io_err(&this.tmp))?;
            file.write_all(&tag).map_err(io_err(&this.tmp))?;
        }
        let measured = this.verifier.finish()?;
        Ok((commit(file, &this.tmp, &this.path, "mp3")?, Some(measured)))
    }
}

/// Runs a sink on its own thread, so encoding overlaps decoding and mixing, with a gain trim (the
/// codec's measured loudness shift) applied on the way.
pub struct Threaded {
    tx: Option<std::sync::mpsc::SyncSender<Msg>>,
    handle: Option<std::thread::JoinHandle<Result<Finished, MasterError>>>,
}

enum Msg {
    Block(Vec<f32>),
    Finish,
}

impl Threaded {
    pub fn spawn(mut inner: Box<dyn Sink>, gain: f32) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(32);
        let handle = std::thread::spawn(move || {
            for msg in rx {
                match msg {
                    Msg::Block(mut block) => {
                        if gain != 1.0 {
                            block.iter_mut().for_each(|s| *s *= gain);
                        }
                        inner.write(&block)?;
                    }
                    Msg::Finish => return inner.finish(),
                }
            }
            // The mix was abandoned: dropping the sink deletes its temporary file.
            Err(MasterError::Settings("mastering was interrupted".into()))
        });
        Threaded { tx: Some(tx), handle: Some(handle) }
    }

    fn thread_result(&mut self) -> Result<Finished, MasterError> {
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            _ => Err(MasterError::Settings("an encoder thread failed".into())),
        }
    }
}

impl Drop for Threaded {
    /// An abandoned encoder stops and deletes its temporary file before the mix returns its error.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Sink for Threaded {
    fn write(&mut self, mono: &[f32]) -> Result<(), MasterError> {
        let sent = self.tx.as_ref().map(|tx| tx.send(Msg::Block(mono.to_vec())).is_ok()).unwrap_or(false);
        if sent {
            return Ok(());
        }
        // The thread stopped early: its error says why.
        Err(self.thread_result().err().unwrap_or_else(|| MasterError::Settings("encoder stopped".into())))
    }

    fn finish(mut self: Box<Self>) -> Result<Finished, MasterError> {
        if let Some(tx) = self.tx.as_ref() {
            let _ = tx.send(Msg::Finish);
        }
        self.thread_result()
    }
}

pub struct OpusSink {
    encoder: FrameEncoder,
    framer: Framer,
    track: TrackWriter<BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
    samples: u64,
    encoded: u64,
    /// Decodes each packet as it is made, to measure what a player will play.
    decoder: opus::Decoder,
    decoded: Vec<f32>,
    played: u64,
    meter: StreamMeter,
    _guard: TempGuard,
}

fn opus_err(e: opus::Error) -> MasterError {
    MasterError::Encoder { format: "opus", reason: e.to_string() }
}

impl OpusSink {
    pub fn create(path: &Path, stereo: bool, kbps: u32, meta: &MasterMeta) -> Result<Self, MasterError> {
        let encoder = FrameEncoder::new(stereo, opus::Application::Audio, kbps * 1000).map_err(opus_err)?;
        let channels = if stereo { opus::Channels::Stereo } else { opus::Channels::Mono };
        let decoder = opus::Decoder::new(48_000, channels).map_err(opus_err)?;
        let tmp = temp_path(path);
        let file = BufWriter::new(File::create(&tmp).map_err(io_err(&tmp))?);
        let guard = TempGuard(tmp.clone());
        let n = encoder.channels();
        let head = OpusHead::new(n, encoder.lookahead as u16);
        let track = TrackWriter::new(file, &head, &meta.opus_tags(opus::version()), 1).map_err(io_err(&tmp))?;
        Ok(OpusSink {
            encoder,
            framer: Framer::default(),
            track,
            tmp,
            path: path.to_path_buf(),
            samples: 0,
            encoded: 0,
            decoder,
            decoded: vec![0.0; 5760 * 2],
            played: 0,
            meter: StreamMeter::new(n as u32),
            _guard: guard,
        })
    }

    fn encode_frame(&mut self, frame: &[f32]) -> Result<(), MasterError> {
        let packet = self.encoder.encode(frame).map_err(opus_err)?;
        self.track.append(packet).map_err(|e| MasterError::track(&self.tmp, e))?;
        self.encoded += FRAME_20MS;
        let got = self.decoder.decode_float(packet, &mut self.decoded, false).map_err(opus_err)? as u64;
        // What a player plays: after the pre-skip, up to the end trimming.
        let lookahead = self.encoder.lookahead;
        let start = lookahead.saturating_sub(self.encoded - FRAME_20MS).min(got);
        let end = (lookahead + self.samples).saturating_sub(self.encoded - FRAME_20MS).min(got);
        if end > start {
            let ch = self.encoder.channels() as usize;
            self.meter.add(&self.decoded[start as usize * ch..end as usize * ch]);
            self.played += end - start;
        }
        Ok(())
    }
}

impl Sink for OpusSink {
    fn write(&mut self, mono: &[f32]) -> Result<(), MasterError> {
        self.samples += mono.len() as u64;
        let mut framer = std::mem::take(&mut self.framer);
        let result = framer.push(mono, |frame| self.encode_frame(frame));
        self.framer = framer;
        result
    }

    fn finish(mut self: Box<Self>) -> Result<Finished, MasterError> {
        // Encode until the look-ahead has come out too; end trimming in the last granule then gives
        // back the exact length (less than one packet of it, as RFC 7845 asks).
        while self.encoded < self.samples + self.encoder.lookahead {
            let mut framer = std::mem::take(&mut self.framer);
            framer.pad(|frame| self.encode_frame(frame))?;
        }
        let this = *self;
        let measured = this.meter.finish();
        let out = this.track.finish(Some(this.samples)).map_err(|e| MasterError::track(&this.tmp, e))?;
        let file = out.into_inner().map_err(|e| io_err(&this.tmp)(e.into_error()))?;
        Ok((commit(file, &this.tmp, &this.path, "opus")?, Some(measured)))
    }
}

pub struct WavSink {
    writer: hound::WavWriter<BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
    stereo: bool,
    meter: Option<StreamMeter>,
    scratch: Vec<f32>,
    _guard: TempGuard,
}

impl WavSink {
    /// With `measure`, the 16-bit samples written are metered as a player would read them.
    pub fn create(path: &Path, stereo: bool, measure: bool) -> Result<Self, MasterError> {
        let spec = hound::WavSpec {
            channels: if stereo { 2 } else { 1 },
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let tmp = temp_path(path);
        let writer = hound::WavWriter::create(&tmp, spec).map_err(|e| wav_err(&tmp, e))?;
        let meter = measure.then(|| StreamMeter::new(if stereo { 2 } else { 1 }));
        Ok(WavSink {
            writer,
            _guard: TempGuard(tmp.clone()),
            tmp,
            path: path.to_path_buf(),
            stereo,
            meter,
            scratch: Vec::new(),
        })
    }
}

fn wav_err(path: &Path, e: hound::Error) -> MasterError {
    match e {
        hound::Error::IoError(source) => MasterError::Write { path: path.to_path_buf(), source },
        other => MasterError::Encoder { format: "wav", reason: other.to_string() },
    }
}

pub fn to_i16(s: f32) -> i16 {
    (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16
}

impl Sink for WavSink {
    fn write(&mut self, mono: &[f32]) -> Result<(), MasterError> {
        self.scratch.clear();
        let copies = if self.stereo { 2 } else { 1 };
        for &s in mono {
            let v = to_i16(s);
            for _ in 0..copies {
                self.writer.write_sample(v).map_err(|e| wav_err(&self.tmp, e))?;
            }
            if self.meter.is_some() {
                self.scratch.extend(std::iter::repeat_n(v as f32 / 32768.0, copies));
            }
        }
        if let Some(m) = self.meter.as_mut() {
            m.add(&self.scratch);
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Finished, MasterError> {
        self.writer.finalize().map_err(|e| wav_err(&self.tmp, e))?;
        let file = File::open(&self.tmp).map_err(io_err(&self.tmp))?;
        let measured = self.meter.as_ref().map(|m| m.finish());
        Ok((commit(file, &self.tmp, &self.path, "wav")?, measured))
    }
}
