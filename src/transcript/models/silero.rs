//! Silero VAD in whisper.cpp's GGML format, rebuilt from the ONNX model the `silero-vad` Python
//! package ships (its 16 kHz graph holds the same float32 weights as the PyTorch model that
//! whisper.cpp converts; written in the same layout, the file is the published one byte for byte).
//!
//! ONNX is protobuf: only the graph's initializers (name, shape, float32 data) are read, with a
//! reader of the protobuf wire format that knows just those fields.

use std::io::{self, Write};

fn bad(reason: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason.into())
}

/// A protobuf field: its number and value.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
    Fixed64,
}

fn varint(b: &[u8], at: &mut usize) -> io::Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at).ok_or_else(|| bad("a truncated ONNX file"))?;
        *at += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(bad("a damaged ONNX file (varint too long)"))
}

/// The fields of one protobuf message, in order.
fn fields(b: &[u8]) -> io::Result<Vec<(u64, Field<'_>)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let key = varint(b, &mut at)?;
        let field = match key & 7 {
            0 => Field::Varint(varint(b, &mut at)?),
            1 => {
                at += 8;
                Field::Fixed64
            }
            2 => {
                let n = varint(b, &mut at)? as usize;
                let data = b.get(at..at + n).ok_or_else(|| bad("a truncated ONNX file"))?;
                at += n;
                Field::Bytes(data)
            }
            5 => {
                let data = b.get(at..at + 4).ok_or_else(|| bad("a truncated ONNX file"))?;
                at += 4;
                Field::Fixed32(u32::from_le_bytes([data[0], data[1], data[2], data[3]]))
            }
            w => return Err(bad(format!("a damaged ONNX file (wire type {w})"))),
        };
        out.push((key >> 3, field));
    }
    Ok(out)
}

/// A float32 tensor from an ONNX graph.
#[derive(Debug, Clone)]
pub struct Initializer {
    pub name: String,
    pub dims: Vec<usize>,
    pub values: Vec<f32>,
}

/// The float32 initializers of an ONNX model's main graph.
pub fn initializers(model: &[u8]) -> io::Result<Vec<Initializer>> {
    // ModelProto.graph = 7; GraphProto.initializer = 5.
    let graph = fields(model)?
        .into_iter()
        .find_map(|(n, f)| match (n, f) {
            (7, Field::Bytes(g)) => Some(g),
            _ => None,
        })
        .ok_or_else(|| bad("not an ONNX model (no graph)"))?;
    let mut out = Vec::new();
    for (n, f) in fields(graph)? {
        let (5, Field::Bytes(tensor)) = (n, f) else { continue };
        // TensorProto: dims = 1, data_type = 2, float_data = 4, name = 8, raw_data = 9.
        let (mut dims, mut kind, mut name, mut raw, mut floats) = (Vec::new(), 0u64, String::new(), None, Vec::new());
        for (tn, tf) in fields(tensor)? {
            match (tn, tf) {
                (1, Field::Varint(d)) => dims.push(d as usize),
                (1, Field::Bytes(packed)) => {
                    let mut at = 0;
                    while at < packed.len() {
                        dims.push(varint(packed, &mut at)? as usize);
                    }
                }
                (2, Field::Varint(t)) => kind = t,
                (4, Field::Fixed32(v)) => floats.push(f32::from_bits(v)),
                (4, Field::Bytes(packed)) => {
                    floats.extend(packed.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                }
                (8, Field::Bytes(s)) => name = String::from_utf8_lossy(s).into_owned(),
                (9, Field::Bytes(r)) => raw = Some(r),
                _ => {}
            }
        }
        if kind != 1 {
            continue; // Only float32 tensors are weights here.
        }
        let values = match raw {
            Some(r) => r.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            None => floats,
        };
        if values.len() != dims.iter().product::<usize>() {
            return Err(bad(format!("ONNX tensor {name}: {} values for shape {dims:?}", values.len())));
        }
        out.push(Initializer { name, dims, values });
    }
    Ok(out)
}

/// Writes Silero VAD (the 16 kHz model of silero-vad `version`) in whisper.cpp's GGML layout.
pub fn write_ggml(weights: &[Initializer], version: (i32, i32, i32), out: &mut impl Write) -> io::Result<()> {
    let find = |name: &str| {
        weights
            .iter()
            .find(|w| w.name == name)
            .ok_or_else(|| bad(format!("the ONNX model has no {name}: not Silero VAD")))
    };
    let int = |out: &mut dyn Write, v: i32| out.write_all(&v.to_le_bytes());
    int(out, 0x6767_6d6c)?;
    let kind = b"silero-16k";
    int(out, kind.len() as i32)?;
    out.write_all(kind)?;
    for v in [version.0, version.1, version.2, 512, 64, 4] {
        int(out, v)?;
    }
    for (i, o) in [(129, 128), (128, 64), (64, 64), (64, 128)] {
        for v in [i, o, 3] {
            int(out, v)?;
        }
    }
    for v in [128, 128, 128, 1] {
        int(out, v)?;
    }
    let mut names: Vec<String> = (0..4)
        .flat_map(|i| [format!("encoder.{i}.reparam_conv.weight"), format!("encoder.{i}.reparam_conv.bias")])
        .collect();
    for n in ["rnn.weight_ih", "rnn.weight_hh", "rnn.bias_ih", "rnn.bias_hh", "decoder.2.weight", "decoder.2.bias"] {
        names.push(format!("decoder.{n}"));
    }
    names.push("stft.forward_basis_buffer".into());
    for short in names {
        let w = find(&format!("model.{short}"))?;
        let name = format!("_model.{short}");
        // The STFT basis keeps its three dimensions; the rest lose those of size 1. GGML lists
        // dimensions innermost first.
        let mut dims: Vec<usize> = if short.starts_with("stft") {
            w.dims.clone()
        } else {
            w.dims.iter().copied().filter(|&d| d != 1).collect()
        };
        dims.reverse();
        let conv = short.starts_with("stft") || short.ends_with("weight") && !short.starts_with("decoder.rnn");
        int(out, dims.len() as i32)?;
        int(out, name.len() as i32)?;
        int(out, i32::from(conv))?;
        for d in &dims {
            int(out, *d as i32)?;
        }
        out.write_all(name.as_bytes())?;
        for &v in &w.values {
            if conv {
                out.write_all(&half::f16::from_f32(v).to_le_bytes())?;
            } else {
                out.write_all(&v.to_le_bytes())?;
            }
        }
    }
    Ok(())
}
