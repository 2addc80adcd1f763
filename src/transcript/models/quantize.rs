//! Quantized whisper models: a GGML file's matrices stored in 8, 5 or 4 bits a weight, written the
//! way whisper.cpp's own quantize tool writes them (ggml's reference quantizers, the same tensors
//! left as they are), so whisper.cpp loads them as it loads its own.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::ggml;

/// A quantization roomcast writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantType {
    Q8_0,
    Q5_1,
    Q4_0,
}

impl FromStr for QuantType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "q8_0" => Ok(QuantType::Q8_0),
            "q5_1" => Ok(QuantType::Q5_1),
            "q4_0" => Ok(QuantType::Q4_0),
            _ => Err(format!("'{s}' is not a quantization roomcast writes (q8_0, q5_1 or q4_0)")),
        }
    }
}

impl QuantType {
    pub fn name(self) -> &'static str {
        match self {
            QuantType::Q8_0 => "q8_0",
            QuantType::Q5_1 => "q5_1",
            QuantType::Q4_0 => "q4_0",
        }
    }

    /// ggml's tensor type code.
    fn tensor_type(self) -> i32 {
        match self {
            QuantType::Q8_0 => 8,
            QuantType::Q5_1 => 7,
            QuantType::Q4_0 => 2,
        }
    }

    /// ggml's file type code (the header's ftype, before the quantization version).
    fn file_type(self) -> i32 {
        match self {
            QuantType::Q8_0 => 7,
            QuantType::Q5_1 => 9,
            QuantType::Q4_0 => 2,
        }
    }

    fn quantize_row(self, x: &[f32], out: &mut Vec<u8>) {
        for block in x.chunks_exact(32) {
            match self {
                QuantType::Q8_0 => q8_0(block, out),
                QuantType::Q5_1 => q5_1(block, out),
                QuantType::Q4_0 => q4_0(block, out),
            }
        }
    }
}

/// ggml's quantization format version, times 1000, is added to the header's file type.
const QNT_VERSION: i32 = 2;

/// Tensors whisper.cpp's quantizer leaves as they are, besides everything that is not a matrix.
const SKIP: &[&str] =
    &["encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding", "decoder.positional_embedding"];

fn f16(x: f32) -> [u8; 2] {
    half::f16::from_f32(x).to_le_bytes()
}

/// ggml's quantize_row_q8_0_ref: a scale and 32 signed bytes.
fn q8_0(x: &[f32], out: &mut Vec<u8>) {
    let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend_from_slice(&f16(d));
    out.extend(x.iter().map(|v| (v * id).round() as i8 as u8));
}

/// ggml's quantize_row_q5_1_ref: scale, minimum, the fifth bits, then 16 bytes of nibbles.
fn q5_1(x: &[f32], out: &mut Vec<u8>) {
    let (min, max) = x.iter().fold((f32::MAX, -f32::MAX), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let d = (max - min) / 31.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend_from_slice(&f16(d));
    out.extend_from_slice(&f16(min));
    let mut qh = 0u32;
    let mut qs = [0u8; 16];
    for j in 0..16 {
        let xi0 = ((x[j] - min) * id + 0.5) as u8;
        let xi1 = ((x[16 + j] - min) * id + 0.5) as u8;
        qs[j] = (xi0 & 0x0F) | ((xi1 & 0x0F) << 4);
        qh |= (((xi0 & 0x10) >> 4) as u32) << j;
        qh |= (((xi1 & 0x10) >> 4) as u32) << (j + 16);
    }
    out.extend_from_slice(&qh.to_le_bytes());
    out.extend_from_slice(&qs);
}

/// ggml's quantize_row_q4_0_ref: a scale (from the value of largest magnitude) and 16 bytes.
fn q4_0(x: &[f32], out: &mut Vec<u8>) {
    let (mut amax, mut max) = (0.0f32, 0.0f32);
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    let d = max / -8.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out.extend_from_slice(&f16(d));
    for j in 0..16 {
        let xi0 = ((x[j] * id + 8.5) as i8).min(15) as u8;
        let xi1 = ((x[16 + j] * id + 8.5) as i8).min(15) as u8;
        out.push(xi0 | (xi1 << 4));
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    #[error(transparent)]
    Model(#[from] ggml::GgmlError),
    #[error("{path}: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// What a quantization wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Quantized {
    pub path: PathBuf,
    pub quantization: QuantType,
    pub bytes: u64,
    /// Matrices quantized, of the file's tensors.
    pub tensors_quantized: usize,
}

/// Writes a quantized copy of the f16 (or f32) whisper model `input` to `output`.
pub fn quantize(input: &Path, output: &Path, q: QuantType) -> Result<Quantized, QuantizeError> {
    let inspected = ggml::inspect(input)?;
    let unsupported = |reason: String| QuantizeError::Unsupported { path: input.to_path_buf(), reason };
    if inspected.hparams.ftype % 1000 > 1 {
        return Err(unsupported("already quantized: quantize the f16 model".into()));
    }
    if inspected.tensors == 0 {
        return Err(unsupported("a stand-in without weights: nothing to quantize".into()));
    }
    let in_err = |source| QuantizeError::Io { path: input.to_path_buf(), source };
    let out_err = |source| QuantizeError::Io { path: output.to_path_buf(), source };
    let mut r = BufReader::new(File::open(input).map_err(in_err)?);
    let mut w = BufWriter::new(File::create(output).map_err(out_err)?);
    let mut word = [0u8; 4];
    let mut read_i32 = |r: &mut BufReader<File>| -> io::Result<i32> {
        r.read_exact(&mut word)?;
        Ok(i32::from_le_bytes(word))
    };
    // Magic and hyperparameters, with the new file type.
    let mut header = [0u8; 4 + 11 * 4];
    r.read_exact(&mut header).map_err(in_err)?;
    header[44..48].copy_from_slice(&(QNT_VERSION * 1000 + q.file_type()).to_le_bytes());
    w.write_all(&header).map_err(out_err)?;
    // Mel filters and vocabulary, as they are.
    let (n_mel, n_fft) = (read_i32(&mut r).map_err(in_err)?, read_i32(&mut r).map_err(in_err)?);
    let mut copy = vec![0u8; (n_mel * n_fft * 4) as usize];
    r.read_exact(&mut copy).map_err(in_err)?;
    for v in [n_mel, n_fft] {
        w.write_all(&v.to_le_bytes()).map_err(out_err)?;
    }
    w.write_all(&copy).map_err(out_err)?;
    let n_vocab = read_i32(&mut r).map_err(in_err)?;
    w.write_all(&n_vocab.to_le_bytes()).map_err(out_err)?;
    for _ in 0..n_vocab {
        let n = read_i32(&mut r).map_err(in_err)?;
        let mut token = vec![0u8; n as usize];
        r.read_exact(&mut token).map_err(in_err)?;
        w.write_all(&n.to_le_bytes()).map_err(out_err)?;
        w.write_all(&token).map_err(out_err)?;
    }
    let mut quantized = 0;
    for _ in 0..inspected.tensors {
        let (rank, name_len, ttype) =
            (read_i32(&mut r).map_err(in_err)?, read_i32(&mut r).map_err(in_err)?, read_i32(&mut r).map_err(in_err)?);
        let dims: Vec<i32> = (0..rank).map(|_| read_i32(&mut r)).collect::<io::Result<_>>().map_err(in_err)?;
        let mut name = vec![0u8; name_len as usize];
        r.read_exact(&mut name).map_err(in_err)?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let elements: usize = dims.iter().map(|&d| d as usize).product();
        let mut data = vec![0u8; elements * if ttype == 0 { 4 } else { 2 }];
        r.read_exact(&mut data).map_err(in_err)?;
        let matrix = rank == 2 && !SKIP.contains(&name.as_str());
        let (out_type, out_data) = if matrix {
            let row = dims[0] as usize;
            if !row.is_multiple_of(32) {
                return Err(unsupported(format!(
                    "{name} has rows of {row} values; {} works on blocks of 32",
                    q.name()
                )));
            }
            let values: Vec<f32> = if ttype == 0 {
                data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
            } else {
                data.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect()
            };
            let mut out = Vec::with_capacity(elements);
            for row_values in values.chunks_exact(row) {
                q.quantize_row(row_values, &mut out);
            }
            quantized += 1;
            (q.tensor_type(), out)
        } else {
            (ttype, data)
        };
        for v in [rank, name_len, out_type] {
            w.write_all(&v.to_le_bytes()).map_err(out_err)?;
        }
        for d in &dims {
            w.write_all(&d.to_le_bytes()).map_err(out_err)?;
        }
        w.write_all(name.as_bytes()).map_err(out_err)?;
        w.write_all(&out_data).map_err(out_err)?;
    }
    let file = w.into_inner().map_err(|e| out_err(e.into_error()))?;
    file.sync_all().map_err(out_err)?;
    ggml::inspect(output)?;
    let bytes = std::fs::metadata(output).map_err(out_err)?.len();
    Ok(Quantized { path: output.to_path_buf(), quantization: q, bytes, tensors_quantized: quantized })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_of_32_weights_take_ggmls_sizes_and_round_trip_closely() {
        let x: Vec<f32> = (0..32).map(|i| (i as f32 - 12.5) / 7.0).collect();
        for (q, size) in [(QuantType::Q8_0, 34), (QuantType::Q5_1, 24), (QuantType::Q4_0, 18)] {
            let mut out = Vec::new();
            q.quantize_row(&x, &mut out);
            assert_eq!(out.len(), size, "{q:?}");
        }
        // q8_0 decodes back within half a step.
        let mut out = Vec::new();
        q8_0(&x, &mut out);
        let d = half::f16::from_le_bytes([out[0], out[1]]).to_f32();
        for (i, &v) in x.iter().enumerate() {
            let back = out[2 + i] as i8 as f32 * d;
            assert!((back - v).abs() <= d / 2.0 + 1e-3, "{i}: {back} vs {v}");
        }
    }

    #[test]
    fn only_quantizations_roomcast_writes_are_accepted() {
        assert_eq!("Q8_0".parse::<QuantType>(), Ok(QuantType::Q8_0));
        let e = "q2_k".parse::<QuantType>().unwrap_err();
        assert!(e.contains("q2_k") && e.contains("q8_0, q5_1 or q4_0"), "{e}");
    }
}
