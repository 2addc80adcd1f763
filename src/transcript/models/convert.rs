//! Converting a faster-whisper (CTranslate2) Whisper model into whisper.cpp's GGML file.
//!
//! CT2's float16 weights are bit-exact copies of OpenAI's, so a conversion that keeps them as they
//! are, writes tensors in the order of the released checkpoints and uses the same mel filters and
//! vocabulary gives the official file byte for byte (DESIGN.md, "Whisper models"). The mapping:
//! CT2 stacks q, k and v (and the cross-attention's k and v) in one matrix, where OpenAI has one
//! each, and gives k a bias of zeros that Whisper does not have.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use super::ct2::{Ct2Error, Ct2Model};
use super::ggml::{Hparams, Writer};

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(transparent)]
    Ct2(#[from] Ct2Error),
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },
    #[error("{path}: cannot write: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// What a conversion takes besides model.bin, when it comes from the openai-whisper package: mel
/// filter banks (n_mels x 201, row-major; the one of the model's size is used) and the English and
/// multilingual vocabularies (token bytes). Without them the filters are computed and the
/// vocabulary is read from the model folder.
#[derive(Debug, Clone, Default)]
pub struct Assets {
    pub mel_banks: Vec<Vec<f32>>,
    pub vocab_english: Option<Vec<Vec<u8>>>,
    pub vocab_multilingual: Option<Vec<Vec<u8>>>,
}

/// Tokens whisper.cpp's file lists: the byte-pair tokens (50,256 for English models, whose list
/// then ends with <|endoftext|>; 50,257 for multilingual ones); the special tokens after them are
/// implied by the model's size.
pub const FILE_TOKENS: usize = 50_257;

/// The model's shape, read from the weights themselves.
pub fn hparams(model: &mut Ct2Model) -> Result<Hparams, Ct2Error> {
    let shape = |m: &Ct2Model, name: &str| -> Result<Vec<u64>, Ct2Error> { Ok(m.require(name)?.shape.clone()) };
    let embeddings = shape(model, "decoder/embeddings/weight")?;
    let audio_pos = shape(model, "encoder/position_encodings/encodings")?;
    let text_pos = shape(model, "decoder/position_encodings/encodings")?;
    let conv1 = shape(model, "encoder/conv1/weight")?;
    let layers = |m: &Ct2Model, side: &str| {
        (0..).take_while(|i| m.get(&format!("{side}/layer_{i}/self_attention/layer_norm/gamma")).is_some()).count()
            as i32
    };
    let (n_audio_layer, n_text_layer) = (layers(model, "encoder"), layers(model, "decoder"));
    if embeddings.len() != 2 || audio_pos.len() != 2 || text_pos.len() != 2 || conv1.len() != 3 {
        return Err(model.error("its tensors do not have a Whisper model's shapes".into()));
    }
    if n_audio_layer == 0 || n_text_layer == 0 {
        return Err(model.error("it has no encoder or decoder layers: not a Whisper model".into()));
    }
    let heads = |m: &mut Ct2Model, side: &str| -> Result<i32, Ct2Error> {
        let n = m.integer(&format!("{side}/num_heads"))?;
        i32::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| m.error(format!("{side}/num_heads is {n}")))
    };
    Ok(Hparams {
        n_vocab: embeddings[0] as i32,
        n_audio_ctx: audio_pos[0] as i32,
        n_audio_state: audio_pos[1] as i32,
        n_audio_head: heads(model, "encoder")?,
        n_audio_layer,
        n_text_ctx: text_pos[0] as i32,
        n_text_state: text_pos[1] as i32,
        n_text_head: heads(model, "decoder")?,
        n_text_layer,
        n_mels: conv1[1] as i32,
        ftype: 1,
    })
}

/// Where a GGML tensor's values are in the CT2 model: a variable, and the rows of it (q, k and v
/// share one matrix there).
struct Source {
    variable: String,
    /// (part, of parts) of the rows.
    rows: Option<(usize, usize)>,
}

fn source(name: &str) -> Option<Source> {
    let whole = |v: String| Some(Source { variable: v, rows: None });
    let part = |v: String, i, n| Some(Source { variable: v, rows: Some((i, n)) });
    match name {
        "decoder.positional_embedding" => return whole("decoder/position_encodings/encodings".into()),
        "encoder.positional_embedding" => return whole("encoder/position_encodings/encodings".into()),
        "decoder.token_embedding.weight" => return whole("decoder/embeddings/weight".into()),
        "decoder.ln.weight" => return whole("decoder/layer_norm/gamma".into()),
        "decoder.ln.bias" => return whole("decoder/layer_norm/beta".into()),
        "encoder.ln_post.weight" => return whole("encoder/layer_norm/gamma".into()),
        "encoder.ln_post.bias" => return whole("encoder/layer_norm/beta".into()),
        _ => {}
    }
    if let Some(rest) = name.strip_prefix("encoder.conv") {
        let (n, kind) = rest.split_once('.')?;
        return whole(format!("encoder/conv{n}/{kind}"));
    }
    // {encoder,decoder}.blocks.N.<part>.<param>
    let mut it = name.splitn(4, '.');
    let (side, blocks, n, rest) = (it.next()?, it.next()?, it.next()?, it.next()?);
    if blocks != "blocks" {
        return None;
    }
    let layer = format!("{side}/layer_{n}");
    let (module, param) = rest.rsplit_once('.')?;
    let ln = |m: &str| match param {
        "weight" => whole(format!("{layer}/{m}/layer_norm/gamma")),
        _ => whole(format!("{layer}/{m}/layer_norm/beta")),
    };
    match module {
        "mlp_ln" => ln("ffn"),
        "attn_ln" => ln("self_attention"),
        "cross_attn_ln" => ln("attention"),
        "mlp.0" => whole(format!("{layer}/ffn/linear_0/{param}")),
        "mlp.2" => whole(format!("{layer}/ffn/linear_1/{param}")),
        "attn.query" => part(format!("{layer}/self_attention/linear_0/{param}"), 0, 3),
        "attn.key" => part(format!("{layer}/self_attention/linear_0/{param}"), 1, 3),
        "attn.value" => part(format!("{layer}/self_attention/linear_0/{param}"), 2, 3),
        "attn.out" => whole(format!("{layer}/self_attention/linear_1/{param}")),
        "cross_attn.query" => whole(format!("{layer}/attention/linear_0/{param}")),
        "cross_attn.key" => part(format!("{layer}/attention/linear_1/{param}"), 0, 2),
        "cross_attn.value" => part(format!("{layer}/attention/linear_1/{param}"), 1, 2),
        "cross_attn.out" => whole(format!("{layer}/attention/linear_2/{param}")),
        _ => None,
    }
}

/// The result of a conversion.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Converted {
    pub path: PathBuf,
    pub hparams: Hparams,
    pub bytes: u64,
}

/// Converts the CT2 model in `model_bin` into a GGML file at `out`.
pub fn convert(model_bin: &Path, vocab_dir: &Path, assets: &Assets, out: &Path) -> Result<Converted, ConvertError> {
    let mut model = Ct2Model::open(model_bin)?;
    if !model.spec.is_empty() && model.spec != "WhisperSpec" {
        return Err(model.error(format!("a CTranslate2 {} model, not a Whisper model", model.spec)).into());
    }
    let hp = hparams(&mut model)?;
    let bank_len = hp.n_mels as usize * 201;
    let mel = match assets.mel_banks.iter().find(|b| b.len() == bank_len) {
        Some(m) => m.clone(),
        None => mel_filters(hp.n_mels as usize),
    };
    if mel.len() != hp.n_mels as usize * 201 {
        return Err(ConvertError::Input {
            path: model_bin.to_path_buf(),
            reason: format!("the model takes {} mel bands; the filter bank given has {}", hp.n_mels, mel.len() / 201),
        });
    }
    let given = if hp.is_multilingual() { &assets.vocab_multilingual } else { &assets.vocab_english };
    let vocab = match given {
        Some(v) => v.clone(),
        None => read_vocabulary(vocab_dir)?,
    };
    if vocab.len() < FILE_TOKENS || (hp.n_vocab as usize) < FILE_TOKENS {
        return Err(ConvertError::Input {
            path: vocab_dir.to_path_buf(),
            reason: format!("{} tokens: a Whisper vocabulary has at least {FILE_TOKENS}", vocab.len()),
        });
    }
    let write_err = |source| ConvertError::Write { path: out.to_path_buf(), source };
    let mut writer = Writer::create(out).map_err(write_err)?;
    writer.begin(&hp, &mel, &vocab[..FILE_TOKENS]).map_err(write_err)?;
    let mut failure: Option<ConvertError> = None;
    let written = writer.tensors(|name, dims| {
        let result = tensor(&mut model, name, dims);
        result.map_err(|e| {
            failure = Some(e);
            io::Error::other("conversion failed")
        })
    });
    if let Some(e) = failure {
        return Err(e);
    }
    written.map_err(write_err)?;
    let file = writer.finish().map_err(write_err)?;
    file.into_inner().map_err(|e| write_err(e.into_error()))?.sync_all().map_err(write_err)?;
    let bytes = std::fs::metadata(out).map_err(write_err)?.len();
    Ok(Converted { path: out.to_path_buf(), hparams: hp, bytes })
}

/// One GGML tensor's type and bytes: f16 for matrices and the token embedding (copied as they
/// are when CT2 holds f16), f32 for vectors, the conv biases and the positional embeddings.
fn tensor(model: &mut Ct2Model, name: &str, dims: &[i32]) -> Result<(i32, Vec<u8>), ConvertError> {
    let src = source(name).ok_or_else(|| model.error(format!("no CTranslate2 variable for {name}")))?;
    let elements: usize = dims.iter().map(|&d| d as usize).product();
    let f32_out = Hparams::stays_f32(name, dims);
    let size = if f32_out { 4 } else { 2 };
    let bytes = if f32_out {
        model.f32(&src.variable)?.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()
    } else {
        model.f16_bytes(&src.variable)?
    };
    let bytes = match src.rows {
        None => bytes,
        Some((part, parts)) => {
            let chunk = bytes.len() / parts;
            if chunk * parts != bytes.len() {
                return Err(model.error(format!("{} cannot be split in {parts}", src.variable)).into());
            }
            bytes[part * chunk..(part + 1) * chunk].to_vec()
        }
    };
    if bytes.len() != elements * size {
        return Err(model
            .error(format!("{} holds {} values where {name} needs {elements}", src.variable, bytes.len() / size))
            .into());
    }
    Ok((if f32_out { 0 } else { 1 }, bytes))
}

/// The model folder's vocabulary (vocabulary.json, a list, or vocabulary.txt, a token per line)
/// as bytes: CT2 keeps GPT-2's byte-level form, where every byte is a printable character.
pub fn read_vocabulary(dir: &Path) -> Result<Vec<Vec<u8>>, ConvertError> {
    let err = |path: &Path, reason: String| ConvertError::Input { path: path.to_path_buf(), reason };
    let json = dir.join("vocabulary.json");
    let txt = dir.join("vocabulary.txt");
    let (path, tokens): (&Path, Vec<String>) = if json.is_file() {
        let text = std::fs::read_to_string(&json).map_err(|e| err(&json, e.to_string()))?;
        (&json, serde_json::from_str(&text).map_err(|e| err(&json, format!("not a list of tokens: {e}")))?)
    } else if txt.is_file() {
        let text = std::fs::read_to_string(&txt).map_err(|e| err(&txt, e.to_string()))?;
        (&txt, text.lines().map(str::to_string).collect())
    } else {
        return Err(err(dir, "no vocabulary.json or vocabulary.txt: not a faster-whisper model folder".into()));
    };
    let decoder = byte_decoder();
    tokens
        .iter()
        .take(FILE_TOKENS)
        .enumerate()
        .map(|(i, t)| {
            t.chars()
                .map(|c| decoder.get(&c).copied())
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| err(path, format!("token {i} ({t:?}) is not in GPT-2's byte-level form")))
        })
        .collect()
}

/// GPT-2's map from its printable stand-in characters back to bytes: printable ASCII and Latin-1
/// stand for themselves, every other byte b for the character 256 + its rank among them.
fn byte_decoder() -> HashMap<char, u8> {
    let printable = |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    let mut map = HashMap::new();
    let mut next = 0u32;
    for b in 0..=255u8 {
        let c = if printable(b) {
            char::from(b)
        } else {
            next += 1;
            char::from_u32(255 + next).expect("a valid character")
        };
        map.insert(c, b);
    }
    map
}

/// Whisper's mel filter bank (librosa's, Slaney scale and norm, 16 kHz, n_fft 400), computed as
/// librosa computes it, in double precision, then stored as f32: equal to the bank in the
/// openai-whisper package.
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    let (rate, n_fft) = (16_000.0f64, 400usize);
    let bins = n_fft / 2 + 1;
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    let hz_to_mel = |f: f64| if f >= min_log_hz { min_log_mel + (f / min_log_hz).ln() / logstep } else { f / f_sp };
    let mel_to_hz = |m: f64| if m >= min_log_mel { min_log_hz * (logstep * (m - min_log_mel)).exp() } else { f_sp * m };
    let (low, high) = (hz_to_mel(0.0), hz_to_mel(rate / 2.0));
    // numpy's linspace: start + i * step, the last point exactly the end.
    let points = n_mels + 2;
    let step = (high - low) / (points - 1) as f64;
    let mel_f: Vec<f64> =
        (0..points).map(|i| if i == points - 1 { high } else { low + i as f64 * step }).map(mel_to_hz).collect();
    // numpy's rfftfreq: i * (1 / (n * d)) with d = 1 / rate, rounded as numpy rounds it.
    let val = 1.0 / (n_fft as f64 * (1.0 / rate));
    let fft_freqs: Vec<f64> = (0..bins).map(|i| i as f64 * val).collect();
    let mut out = vec![0f32; n_mels * bins];
    for i in 0..n_mels {
        let (lo, mid) = (mel_f[i + 1] - mel_f[i], mel_f[i + 2] - mel_f[i + 1]);
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (j, &f) in fft_freqs.iter().enumerate() {
            let lower = -(mel_f[i] - f) / lo;
            let upper = (mel_f[i + 2] - f) / mid;
            let w = lower.min(upper).max(0.0) as f32;
            // librosa stores the triangle as f32, then scales the f32 array by the f64 norm.
            out[i * bins + j] = (w as f64 * enorm) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_whisper_tensor_has_a_ct2_source() {
        let hp = Hparams {
            n_vocab: 51_864,
            n_audio_ctx: 1500,
            n_audio_state: 384,
            n_audio_head: 6,
            n_audio_layer: 4,
            n_text_ctx: 448,
            n_text_state: 384,
            n_text_head: 6,
            n_text_layer: 4,
            n_mels: 80,
            ftype: 1,
        };
        let tensors = hp.tensors();
        assert_eq!(tensors.len(), 167, "tiny has 167 tensors in the official file");
        for (name, _) in &tensors {
            assert!(source(name).is_some(), "{name}");
        }
        let q = source("decoder.blocks.2.attn.key.weight").unwrap();
        assert_eq!((q.variable.as_str(), q.rows), ("decoder/layer_2/self_attention/linear_0/weight", Some((1, 3))));
        let v = source("decoder.blocks.0.cross_attn.value.bias").unwrap();
        assert_eq!((v.variable.as_str(), v.rows), ("decoder/layer_0/attention/linear_1/bias", Some((1, 2))));
    }

    #[test]
    fn gpt2_byte_level_characters_decode_to_their_bytes() {
        let d = byte_decoder();
        assert_eq!(d.len(), 256);
        assert_eq!(d[&'Ġ'], b' ', "Ġ stands for a space");
        assert_eq!(d[&'Ċ'], b'\n');
        assert_eq!(d[&'a'], b'a');
    }
}
