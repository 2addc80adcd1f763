//! whisper.cpp's model file (GGML): reading its header to check a file before whisper.cpp sees it,
//! and writing one.
//!
//! Layout (little endian): u32 magic; 11 i32 hyperparameters; the mel filter bank (i32 n_mel,
//! i32 n_fft, floats); the vocabulary (i32 count, then per token an i32 length and its bytes);
//! then tensors to the end of the file: i32 rank, i32 name length, i32 type, the dimensions
//! (innermost first), the name, the data.
//!
//! whisper.cpp trusts every number in that header: a damaged one makes it allocate gigabytes or
//! abort the process. `inspect` walks the whole file first, so a bad model is a one-line error
//! naming the file, never a crash.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

pub const MAGIC: u32 = 0x6767_6d6c;

/// The model's shape, as whisper.cpp reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Hparams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    /// Weight type (1: f16), plus 1000 x the quantization version for quantized files.
    pub ftype: i32,
}

impl Hparams {
    fn to_array(self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }

    fn from_array(a: [i32; 11]) -> Self {
        Hparams {
            n_vocab: a[0],
            n_audio_ctx: a[1],
            n_audio_state: a[2],
            n_audio_head: a[3],
            n_audio_layer: a[4],
            n_text_ctx: a[5],
            n_text_state: a[6],
            n_text_head: a[7],
            n_text_layer: a[8],
            n_mels: a[9],
            ftype: a[10],
        }
    }

    /// English-only models have 51,864 tokens; multilingual ones more (whisper.cpp's own test).
    pub fn is_multilingual(&self) -> bool {
        self.n_vocab >= 51_865
    }

    /// The tensors whisper.cpp expects, in the order the released checkpoints list them (the order
    /// the official files are written in), with their dimensions as the file gives them
    /// (innermost first).
    pub fn tensors(&self) -> Vec<(String, Vec<i32>)> {
        let (a, t) = (self.n_audio_state, self.n_text_state);
        let mut out: Vec<(String, Vec<i32>)> = vec![
            ("decoder.positional_embedding".into(), vec![t, self.n_text_ctx]),
            ("encoder.positional_embedding".into(), vec![a, self.n_audio_ctx]),
            ("decoder.token_embedding.weight".into(), vec![t, self.n_vocab]),
        ];
        let block = |out: &mut Vec<(String, Vec<i32>)>, prefix: String, d: i32, cross: bool| {
            let ln = |out: &mut Vec<(String, Vec<i32>)>, name: &str| {
                out.push((format!("{prefix}.{name}.weight"), vec![d]));
                out.push((format!("{prefix}.{name}.bias"), vec![d]));
            };
            let attn = |out: &mut Vec<(String, Vec<i32>)>, name: &str| {
                for (part, bias) in [("query", true), ("key", false), ("value", true), ("out", true)] {
                    out.push((format!("{prefix}.{name}.{part}.weight"), vec![d, d]));
                    if bias {
                        out.push((format!("{prefix}.{name}.{part}.bias"), vec![d]));
                    }
                }
            };
            ln(out, "mlp_ln");
            out.push((format!("{prefix}.mlp.0.weight"), vec![d, 4 * d]));
            out.push((format!("{prefix}.mlp.0.bias"), vec![4 * d]));
            out.push((format!("{prefix}.mlp.2.weight"), vec![4 * d, d]));
            out.push((format!("{prefix}.mlp.2.bias"), vec![d]));
            ln(out, "attn_ln");
            attn(out, "attn");
            if cross {
                ln(out, "cross_attn_ln");
                attn(out, "cross_attn");
            }
        };
        for i in 0..self.n_text_layer {
            block(&mut out, format!("decoder.blocks.{i}"), t, true);
        }
        out.push(("decoder.ln.weight".into(), vec![t]));
        out.push(("decoder.ln.bias".into(), vec![t]));
        out.push(("encoder.conv1.weight".into(), vec![3, self.n_mels, a]));
        out.push(("encoder.conv1.bias".into(), vec![1, a]));
        out.push(("encoder.conv2.weight".into(), vec![3, a, a]));
        out.push(("encoder.conv2.bias".into(), vec![1, a]));
        for i in 0..self.n_audio_layer {
            block(&mut out, format!("encoder.blocks.{i}"), a, false);
        }
        out.push(("encoder.ln_post.weight".into(), vec![a]));
        out.push(("encoder.ln_post.bias".into(), vec![a]));
        out
    }

    /// Whether a tensor is stored as f32 in a f16 file: vectors, the conv biases and the
    /// positional embeddings (as whisper.cpp's converter writes them).
    pub fn stays_f32(name: &str, dims: &[i32]) -> bool {
        dims.len() == 1
            || name.ends_with("positional_embedding")
            || name.starts_with("encoder.conv") && name.ends_with(".bias")
    }
}

/// GGML tensor types a whisper model may use: (code, name, elements per block, bytes per block).
pub const TYPES: &[(i32, &str, u64, u64)] = &[
    (0, "f32", 1, 4),
    (1, "f16", 1, 2),
    (2, "q4_0", 32, 18),
    (3, "q4_1", 32, 20),
    (6, "q5_0", 32, 22),
    (7, "q5_1", 32, 24),
    (8, "q8_0", 32, 34),
];

pub fn type_name(code: i32) -> Option<&'static str> {
    TYPES.iter().find(|t| t.0 == code).map(|t| t.1)
}

fn tensor_bytes(code: i32, elements: u64) -> Option<u64> {
    let &(_, _, block, size) = TYPES.iter().find(|t| t.0 == code)?;
    elements.is_multiple_of(block).then_some(elements / block * size)
}

/// What a GGML whisper file holds, checked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspected {
    pub hparams: Hparams,
    pub vocab: usize,
    /// Tensors in the file (0 for whisper.cpp's stand-in test models, which have no weights).
    pub tensors: usize,
    /// The weight types used, by name.
    pub types: Vec<&'static str>,
}

/// Why a file is not a whisper model whisper.cpp can load.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct GgmlError {
    pub path: PathBuf,
    pub reason: String,
}

/// Checks a whole GGML whisper file: every header number within what a whisper model can have,
/// every tensor one whisper.cpp expects with the right shape, and the file's length exactly what
/// they add up to.
pub fn inspect(path: &Path) -> Result<Inspected, GgmlError> {
    let err = |reason: String| GgmlError { path: path.to_path_buf(), reason };
    let file = File::open(path).map_err(|e| err(e.to_string()))?;
    let len = file.metadata().map_err(|e| err(e.to_string()))?.len();
    let mut r = BufReader::new(file);
    let short = |what: &str| err(format!("the file ends inside its {what}: it is truncated"));
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic).map_err(|_| short("header"))?;
    match &magic {
        b"lmgg" => {}
        b"GGUF" => return Err(err("a GGUF file (llama.cpp's format), not a whisper.cpp model".into())),
        [0x50, 0x4b, ..] => {
            return Err(err("a zip archive (a PyTorch checkpoint?), not a whisper.cpp model: convert it first".into()));
        }
        b"ggml" | b"ggjt" | b"ggmf" => {
            return Err(err(
                "written for a machine of the other byte order (big endian), not a whisper.cpp model for this one"
                    .into(),
            ));
        }
        _ => return Err(err("not a whisper.cpp model (no GGML magic at the start)".into())),
    }
    let mut h = [0i32; 11];
    for v in &mut h {
        *v = read_i32(&mut r).map_err(|_| short("header"))?;
    }
    let hp = Hparams::from_array(h);
    let sane = |v: i32, lo: i32, hi: i32| (lo..=hi).contains(&v);
    let ftype = hp.ftype % 1000;
    if !(sane(hp.n_vocab, 1, 1 << 20)
        && sane(hp.n_audio_ctx, 1, 1 << 16)
        && sane(hp.n_audio_state, 1, 1 << 14)
        && sane(hp.n_audio_head, 1, 256)
        && sane(hp.n_audio_layer, 1, 256)
        && sane(hp.n_text_ctx, 1, 1 << 16)
        && sane(hp.n_text_state, 1, 1 << 14)
        && sane(hp.n_text_head, 1, 256)
        && sane(hp.n_text_layer, 1, 256)
        && (hp.n_mels == 80 || hp.n_mels == 128)
        && sane(hp.ftype, 0, 10_000))
        || hp.n_audio_state % hp.n_audio_head != 0
        || hp.n_text_state % hp.n_text_head != 0
    {
        return Err(err(format!(
            "not a whisper model: its header ({:?}) is not one a whisper model can have (a VAD model, or a damaged file?)",
            hp.to_array()
        )));
    }
    let ftype_ok = [0, 1, 2, 3, 8, 9, 7].contains(&ftype);
    if !ftype_ok {
        return Err(err(format!("weight type {ftype} is not one whisper.cpp loads")));
    }
    let n_mel = read_i32(&mut r).map_err(|_| short("mel filters"))?;
    let n_fft = read_i32(&mut r).map_err(|_| short("mel filters"))?;
    if n_mel != hp.n_mels || n_fft != 201 {
        return Err(err(format!("mel filter bank {n_mel} x {n_fft}, expected {} x 201: damaged", hp.n_mels)));
    }
    r.seek_relative(n_mel as i64 * n_fft as i64 * 4).map_err(|e| err(e.to_string()))?;
    let vocab = read_i32(&mut r).map_err(|_| short("vocabulary"))?;
    if !(0..=hp.n_vocab).contains(&vocab) {
        return Err(err(format!("{vocab} tokens in a model of {} tokens: damaged", hp.n_vocab)));
    }
    for i in 0..vocab {
        let n = read_i32(&mut r).map_err(|_| short("vocabulary"))?;
        if !(0..=1024).contains(&n) {
            return Err(err(format!("token {i} is {n} bytes long: damaged")));
        }
        r.seek_relative(n as i64).map_err(|e| err(e.to_string()))?;
    }
    let at = r.stream_position().map_err(|e| err(e.to_string()))?;
    if at > len {
        return Err(short("vocabulary"));
    }
    let expected = hp.tensors();
    let mut seen = vec![false; expected.len()];
    let mut types: Vec<&'static str> = Vec::new();
    let mut count = 0usize;
    let mut pos = at;
    while pos < len {
        let mut head = [0i32; 3];
        for v in &mut head {
            *v = read_i32(&mut r).map_err(|_| short("tensors"))?;
        }
        let [rank, name_len, ttype] = head;
        if !(1..=4).contains(&rank) || !(1..=256).contains(&name_len) {
            return Err(err(format!("tensor {count}: a damaged tensor header (rank {rank}, name length {name_len})")));
        }
        let mut dims = Vec::with_capacity(rank as usize);
        for _ in 0..rank {
            dims.push(read_i32(&mut r).map_err(|_| short("tensors"))?);
        }
        let mut name = vec![0u8; name_len as usize];
        r.read_exact(&mut name).map_err(|_| short("tensors"))?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let Some(i) = expected.iter().position(|(n, _)| *n == name) else {
            return Err(err(format!(
                "tensor '{name}' is not part of a whisper model of this shape: damaged or another architecture"
            )));
        };
        if expected[i].1 != dims {
            return Err(err(format!("tensor {name} has shape {dims:?}, expected {:?}: damaged", expected[i].1)));
        }
        if std::mem::replace(&mut seen[i], true) {
            return Err(err(format!("tensor {name} appears twice: damaged")));
        }
        let elements: u64 = dims.iter().map(|&d| d as u64).product();
        let bytes = tensor_bytes(ttype, elements)
            .ok_or_else(|| err(format!("tensor {name}: type {ttype} is not one whisper.cpp loads for it")))?;
        // whisper.cpp holds vectors and biases as f32 and the rest in the file's weight type.
        let name_of = type_name(ttype).unwrap_or("?");
        if !types.contains(&name_of) {
            types.push(name_of);
        }
        pos = r.stream_position().map_err(|e| err(e.to_string()))? + bytes;
        if pos > len {
            return Err(err(format!("the file ends inside tensor {name}: it is truncated")));
        }
        r.seek_relative(bytes as i64).map_err(|e| err(e.to_string()))?;
        count += 1;
    }
    // whisper.cpp loads a file without tensors as an empty test model; one with some but not all
    // fails later, and one with any missing would compute garbage.
    if count > 0 && count != expected.len() {
        let missing = expected.iter().zip(&seen).find(|(_, s)| !**s).map(|((n, _), _)| n.clone()).unwrap_or_default();
        return Err(err(format!(
            "{count} of {} tensors (missing {missing}): the file is truncated or damaged",
            expected.len()
        )));
    }
    Ok(Inspected { hparams: hp, vocab: vocab as usize, tensors: count, types })
}

fn read_i32(r: &mut impl Read) -> io::Result<i32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(i32::from_le_bytes(b))
}

/// Writes a GGML whisper file in the official layout: header, mel filters, vocabulary, then the
/// tensors in `Hparams::tensors` order, each given by the caller as (type, little-endian bytes).
pub struct Writer<W: Write> {
    out: W,
    expected: Vec<(String, Vec<i32>)>,
    next: usize,
}

impl Writer<BufWriter<File>> {
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(Writer { out: BufWriter::new(File::create(path)?), expected: Vec::new(), next: 0 })
    }
}

impl<W: Write> Writer<W> {
    /// Header, mel filter bank (n_mels x 201, row-major) and vocabulary (token bytes).
    pub fn begin(&mut self, hp: &Hparams, mel: &[f32], vocab: &[Vec<u8>]) -> io::Result<()> {
        self.expected = hp.tensors();
        self.out.write_all(&MAGIC.to_le_bytes())?;
        for v in hp.to_array() {
            self.out.write_all(&v.to_le_bytes())?;
        }
        self.out.write_all(&hp.n_mels.to_le_bytes())?;
        self.out.write_all(&201i32.to_le_bytes())?;
        for &x in mel {
            // The published files have +0.0 where numpy's current filters have -0.0.
            let x = if x == 0.0 { 0.0f32 } else { x };
            self.out.write_all(&x.to_le_bytes())?;
        }
        self.out.write_all(&(vocab.len() as i32).to_le_bytes())?;
        for t in vocab {
            self.out.write_all(&(t.len() as i32).to_le_bytes())?;
            self.out.write_all(t)?;
        }
        Ok(())
    }

    /// The tensors, in order: the caller gets each expected (name, dims) and returns its type and
    /// bytes.
    pub fn tensors(&mut self, mut data: impl FnMut(&str, &[i32]) -> io::Result<(i32, Vec<u8>)>) -> io::Result<()> {
        while self.next < self.expected.len() {
            let (name, dims) = self.expected[self.next].clone();
            let (ttype, bytes) = data(&name, &dims)?;
            let elements: u64 = dims.iter().map(|&d| d as u64).product();
            if tensor_bytes(ttype, elements) != Some(bytes.len() as u64) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{name}: {} bytes of type {ttype} for {elements} values", bytes.len()),
                ));
            }
            self.out.write_all(&(dims.len() as i32).to_le_bytes())?;
            self.out.write_all(&(name.len() as i32).to_le_bytes())?;
            self.out.write_all(&ttype.to_le_bytes())?;
            for d in &dims {
                self.out.write_all(&d.to_le_bytes())?;
            }
            self.out.write_all(name.as_bytes())?;
            self.out.write_all(&bytes)?;
            self.next += 1;
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
